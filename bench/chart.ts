// The chart of BENCHMARKS.md: Vega-Lite specs compiled and rendered to SVG by Vega itself (no browser, no canvas).
import { writeFileSync } from 'node:fs';

interface ChartRow {
  run: string;
  measure: string;
  seconds: number;
}

export async function writeChart(
  file: string,
  rows: ChartRow[],
  costs: { who: string; dollars: number }[],
): Promise<void> {
  const vegaLite = await import('vega-lite');
  const vega = await import('vega');
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    hconcat: [
      {
        title: 'Delivery time: measured, LINE time floor, limits lifted',
        data: { values: rows },
        mark: 'bar',
        width: 420,
        height: 220,
        encoding: {
          y: { field: 'run', type: 'nominal', title: null },
          yOffset: { field: 'measure', type: 'nominal' },
          x: { field: 'seconds', type: 'quantitative', title: 'seconds' },
          color: { field: 'measure', type: 'nominal', title: null, legend: { orient: 'bottom' } },
        },
      },
      {
        title: 'AWS $ per 1 M LINE deliveries',
        data: { values: costs },
        mark: 'bar',
        width: 180,
        height: 220,
        encoding: {
          x: { field: 'who', type: 'nominal', title: null, axis: { labelAngle: 0 } },
          y: { field: 'dollars', type: 'quantitative', title: 'USD' },
          color: { field: 'who', type: 'nominal', legend: null },
        },
      },
    ],
  };
  const compiled = vegaLite.compile(spec as Parameters<typeof vegaLite.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  writeFileSync(file, await view.toSVG());
  view.finalize();
}
