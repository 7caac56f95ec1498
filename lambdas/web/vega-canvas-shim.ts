/**
 * Stands in for `vega-canvas` in the Lambda bundles (esbuild alias, lib/constructs/hagukumi-function.ts and
 * local/handlers.ts). Its Node build awaits `import('canvas')` at the top level, which a CommonJS bundle cannot
 * hold; we never install the native `canvas` package, so that build would return null anyway. Without a canvas
 * vega renders SVG all the same and estimates text widths.
 */
export const domCanvas = (): null => null;
export const nodeCanvas = (): null => null;
export const canvas = (): null => null;
export const image = (): null => null;
