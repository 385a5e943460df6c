/**
 * handleSummary for every script: writes the standard summary JSON, in the shape
 * `k6 run --summary-export` produces (metrics flattened to their values; each threshold maps to
 * `true` when it FAILED, as k6's own export does), plus a `reactometer` block naming the
 * scenario, target and parameters, to loadtest/results/k6/<scenario>-<target>[-quick].json
 * (SUMMARY_FILE / SUMMARY_DIR override it). The report reads that file; the Node runner writes
 * the same shape. A compact text summary goes to stdout in place of k6's default one.
 *
 * k6 does not create directories: `mkdir -p loadtest/results/k6` before running.
 */
import { QUICK, TARGET, describeTarget, summaryPath } from './config.ts';
import type { ScenarioName } from './config.ts';
import type { RunContext } from './probes.ts';

/** The data k6 passes to handleSummary (documented "custom summary" shape). */
export interface SummaryMetric {
  readonly type: 'counter' | 'gauge' | 'rate' | 'trend';
  readonly contains: 'default' | 'time' | 'data';
  readonly values: Record<string, number>;
  readonly thresholds?: Record<string, { readonly ok: boolean }>;
}

export interface SummaryCheck {
  readonly name: string;
  readonly path: string;
  readonly id: string;
  readonly passes: number;
  readonly fails: number;
}

export interface SummaryGroup {
  readonly name: string;
  readonly path: string;
  readonly id: string;
  readonly groups: SummaryGroup[];
  readonly checks: SummaryCheck[];
}

export interface SummaryData {
  readonly metrics: Record<string, SummaryMetric>;
  readonly root_group: SummaryGroup;
  readonly options?: unknown;
  readonly state?: { readonly testRunDurationMs?: number };
  readonly setup_data?: unknown;
}

/** What the report needs to know besides the metrics. */
export interface ReactometerBlock {
  readonly scenario: ScenarioName;
  readonly target: string;
  readonly quick: boolean;
  readonly params: Record<string, unknown>;
  readonly runId: string | null;
  readonly testRunDurationMs: number | null;
  readonly generatedAt: string;
  readonly tool: 'k6';
}

interface ExportedGroup {
  name: string;
  path: string;
  id: string;
  groups: Record<string, ExportedGroup>;
  checks: Record<string, SummaryCheck>;
}

function exportGroup(group: SummaryGroup): ExportedGroup {
  const groups: Record<string, ExportedGroup> = {};
  for (const g of group.groups ?? []) groups[g.name] = exportGroup(g);
  const checks: Record<string, SummaryCheck> = {};
  for (const c of group.checks ?? []) checks[c.name] = c;
  return { name: group.name, path: group.path, id: group.id, groups, checks };
}

/** The `--summary-export` form of handleSummary's data (as k6's own summary wrapper builds it). */
export function toSummaryExport(data: SummaryData): {
  root_group: ExportedGroup;
  metrics: Record<string, Record<string, unknown>>;
} {
  const metrics: Record<string, Record<string, unknown>> = {};
  for (const [name, metric] of Object.entries(data.metrics)) {
    const flat: Record<string, unknown> = { ...metric.values };
    if (metric.type === 'rate' && 'rate' in flat) {
      flat['value'] = flat['rate'];
      delete flat['rate'];
    }
    if (metric.thresholds !== undefined && Object.keys(metric.thresholds).length > 0) {
      const thresholds: Record<string, boolean> = {};
      for (const [expr, t] of Object.entries(metric.thresholds)) thresholds[expr] = !t.ok;
      flat['thresholds'] = thresholds;
    }
    metrics[name] = flat;
  }
  return { root_group: exportGroup(data.root_group), metrics };
}

function runIdOf(setupData: unknown): string | null {
  const run = setupData as Partial<RunContext> | null | undefined;
  return run !== null && typeof run === 'object' && typeof run.runId === 'string'
    ? run.runId
    : null;
}

function formatValue(value: number, contains: SummaryMetric['contains']): string {
  if (contains === 'time')
    return value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value.toFixed(2)}ms`;
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

/** A compact, greppable text summary: thresholds first, then every metric's statistics. */
export function textReport(data: SummaryData, block: ReactometerBlock, file: string): string {
  const lines: string[] = [
    `reactometer k6: ${block.scenario} against ${block.target}${block.quick ? ' (quick)' : ''}` +
      (block.runId === null ? '' : `, run ${block.runId}`),
  ];
  const names = Object.keys(data.metrics).sort();
  let failed = 0;
  for (const name of names) {
    const metric = data.metrics[name] as SummaryMetric;
    for (const [expr, t] of Object.entries(metric.thresholds ?? {})) {
      if (!t.ok) failed++;
      lines.push(`  ${t.ok ? 'ok  ' : 'FAIL'} ${name}: ${expr}`);
    }
  }
  lines.push(failed === 0 ? '  all thresholds passed' : `  ${failed} threshold(s) FAILED`);
  for (const name of names) {
    const metric = data.metrics[name] as SummaryMetric;
    const values = Object.entries(metric.values)
      .map(
        ([k, v]) =>
          `${k}=${formatValue(v, k === 'count' || k === 'rate' ? 'default' : metric.contains)}`,
      )
      .join(' ');
    lines.push(`  ${name.padEnd(44)} ${values}`);
  }
  lines.push(`  summary JSON: ${file}`, '');
  return lines.join('\n');
}

/** Builds the script's handleSummary export. `params` must be computed in the init context. */
export function makeHandleSummary(
  scenario: ScenarioName,
  params: Record<string, unknown>,
): (data: SummaryData) => Record<string, string> {
  return (data: SummaryData) => {
    const block: ReactometerBlock = {
      scenario,
      target: TARGET.name,
      quick: QUICK,
      params: { ...params, target: describeTarget() },
      runId: runIdOf(data.setup_data),
      testRunDurationMs: data.state?.testRunDurationMs ?? null,
      generatedAt: new Date().toISOString(),
      tool: 'k6',
    };
    const file = summaryPath(scenario);
    const json = `${JSON.stringify({ ...toSummaryExport(data), reactometer: block }, null, 2)}\n`;
    const text = textReport(data, block, file);
    // SUMMARY_FILE=stdout (k6-operator without shared storage): JSON on stdout, text on stderr.
    if (file === 'stdout') return { stdout: json, stderr: text };
    if (file === 'stderr') return { stderr: json, stdout: text };
    return { stdout: text, [file]: json };
  };
}
