/**
 * The report's charts: vega-lite specs compiled and rendered to SVG in Node (vega's headless
 * `View#toSVG` needs no canvas). Each chart comes with the rows it plots, for the table beside it.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface ChartRow {
  readonly target: string;
  readonly x: number;
  readonly y: number;
  /** Which line of a target (e.g. "p50", "p99"). */
  readonly series: string;
}

export interface ChartSpec {
  readonly file: string;
  readonly title: string;
  readonly xTitle: string;
  readonly yTitle: string;
  readonly rows: readonly ChartRow[];
  readonly logX?: boolean;
  readonly logY?: boolean;
}

export async function renderChart(chart: ChartSpec): Promise<string> {
  const multiSeries = new Set(chart.rows.map((r) => r.series)).size > 1;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.title,
    width: 460,
    height: 260,
    background: 'white',
    data: { values: chart.rows.map((r) => ({ ...r, line: `${r.target} ${r.series}`.trim() })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: chart.xTitle,
        scale: chart.logX ? { type: 'log' } : { zero: true },
      },
      y: {
        field: 'y',
        type: 'quantitative',
        title: chart.yTitle,
        scale: chart.logY ? { type: 'log' } : { zero: true },
      },
      color: { field: 'target', type: 'nominal', title: 'deployment' },
      ...(multiSeries ? { strokeDash: { field: 'series', type: 'nominal', title: 'series' } } : {}),
      detail: { field: 'line', type: 'nominal' },
      tooltip: [
        { field: 'target', type: 'nominal' },
        { field: 'series', type: 'nominal' },
        { field: 'x', type: 'quantitative' },
        { field: 'y', type: 'quantitative' },
      ],
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
