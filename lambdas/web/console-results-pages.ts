import type { ConsolePage } from './console-layout';
import { compileHtml, hbs } from './render';

/** The survey results pages' templates. Every count is shown as computed: a suppressed cell reads `<5`. */

const GROUP_LABELS: Record<string, string> = {
  maternity: '妊娠期',
  childcare: '子育て期',
  support: 'サポート',
  parent: 'ご本人',
  partner: 'パートナー',
  none: '不明',
  'maternity-early': '妊娠初期（16週未満）',
  'maternity-mid': '妊娠中期（16〜27週）',
  'maternity-late': '妊娠後期（28週以降）',
  'childcare-0-100d': '生後0〜100日',
  'childcare-under-1y': '生後101日〜1歳未満',
  'childcare-1y': '1歳',
  'childcare-2y': '2歳',
};
const DIMENSIONS: [string, string][] = [
  ['track', 'コース別'],
  ['stageBand', '段階別'],
  ['audience', '立場別'],
];
hbs.registerHelper('groupLabel', (s: unknown) => (typeof s === 'string' ? (GROUP_LABELS[s] ?? s) : ''));
hbs.registerHelper('percent', (c: unknown) => (typeof c === 'number' ? `${c}%` : typeof c === 'string' ? c : ''));
/** The breakdowns in a fixed order with their Japanese headings. */
hbs.registerHelper('breakdowns', (b: unknown) =>
  DIMENSIONS.map(([key, label]) => ({ label, rows: (b as Record<string, unknown> | undefined)?.[key] ?? [] })),
);

export const RESULTS_PAGES = {
  surveys: {
    title: 'アンケート結果',
    body: compileHtml(`<h1>アンケート結果</h1>
<p>回答者が5人未満の集計は「&lt;5」と表示します（個人が特定されないように）。</p>
{{#if view.surveys.length}}
<table>
<thead><tr><th>アンケート</th><th>質問数</th><th></th></tr></thead>
<tbody>
{{#each view.surveys}}<tr><td>{{title}}{{#if screening}}（スクリーニング）{{/if}}</td><td>{{questions}}</td><td><a href="/console/surveys/{{id}}">結果を見る</a></td></tr>{{/each}}
</tbody>
</table>
{{else}}
<p>この自治体にはアンケートがありません。</p>
{{/if}}`),
  },
  'survey-results': {
    title: 'アンケート結果',
    body: compileHtml(`<h1>{{view.survey.title}}</h1>
<section>
<p>依頼した人数：{{view.results.invited}}、回答者数：{{view.results.respondents}}、回答率：{{percent view.results.rate}}</p>
<p class="who">回答者が5人未満の集計は「&lt;5」と表示します。1つだけ伏せると合計から分かってしまう場合は、次に小さい値も伏せます。</p>
</section>
{{#each (breakdowns view.results.breakdowns)}}
<h2>{{label}}</h2>
<table>
<thead><tr><th>区分</th><th>依頼</th><th>回答者</th><th>回答率</th></tr></thead>
<tbody>
{{#each rows}}<tr><td>{{groupLabel group}}</td><td>{{invited}}</td><td>{{respondents}}</td><td>{{percent rate}}</td></tr>{{/each}}
</tbody>
</table>
{{/each}}
{{#if view.results.kpi}}
<h2>指標：カットオフ値以上だった方のその後</h2>
<table>
<tbody>
<tr><th>カットオフ値以上だった人数</th><td>{{view.results.kpi.atOrOverCutoff}}</td></tr>
<tr><th>その後カットオフ値未満になった人数</th><td>{{view.results.kpi.laterBelow}}</td></tr>
<tr><th>割合</th><td>{{percent view.results.kpi.share}}</td></tr>
</tbody>
</table>
{{/if}}
<h2>質問ごとの結果</h2>
{{#each view.questions}}
<section>
<h3>{{text}}</h3>
<p>回答数：{{n}}{{#if mean}}、平均：{{mean}}{{/if}}</p>
{{#if rows.length}}
<table>
<thead><tr><th>回答</th><th>人数</th></tr></thead>
<tbody>{{#each rows}}<tr><td>{{label}}</td><td>{{count}}</td></tr>{{/each}}</tbody>
</table>
{{/if}}
{{#if texts}}<ul>{{#each texts}}<li>{{this}}</li>{{/each}}</ul>{{else}}{{#if (eq kind "text")}}<p>自由記述は回答が5件以上のときに表示します。</p>{{/if}}{{/if}}
</section>
{{/each}}
<p><a href="/console/surveys">アンケート一覧へ戻る</a></p>`),
  },
} satisfies Record<string, ConsolePage>;
