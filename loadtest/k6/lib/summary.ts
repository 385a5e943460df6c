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
import { QUICK, TARGET, describeTarget, env, summaryPath } from './config.ts';
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

/**
 * What handleSummary gets under `k6 run --new-machine-readable-summary` (k6 >= 1.0, schema 1.0.0,
 * internal/lib/summary/machine_readable.go): metrics as a list, no thresholds, no setup data, and
 * trend values limited to avg/min/med/max/p(90)/p(95).
 */
export interface MachineReadableSummary {
  readonly version: string;
  readonly config: { readonly duration: number; readonly script?: string };
  readonly results: {
    readonly metrics: readonly {
      readonly name: string;
      readonly type: SummaryMetric['type'];
      readonly contains: SummaryMetric['contains'];
      readonly values: Record<string, number>;
    }[];
    readonly checks?: {
      readonly results?: readonly { name: string; passes: number; fails: number }[];
    };
  };
}

function isMachineReadable(data: unknown): data is MachineReadableSummary {
  const d = data as Partial<MachineReadableSummary> | null;
  return d !== null && typeof d === 'object' && Array.isArray(d.results?.metrics);
}

/**
 * The legacy shape from the machine-readable one, so one code path writes the file. Thresholds
 * are not in that shape: the file then says so (`thresholdsKnown: false`) instead of claiming
 * they passed; k6's own exit code (99) still reports them.
 */
export function fromMachineReadable(data: MachineReadableSummary): SummaryData {
  const metrics: Record<string, SummaryMetric> = {};
  for (const m of data.results.metrics) {
    const values: Record<string, number> =
      m.type === 'rate'
        ? {
            rate: m.values['rate'] ?? 0,
            passes: m.values['matches'] ?? 0,
            fails: (m.values['total'] ?? 0) - (m.values['matches'] ?? 0),
          }
        : { ...m.values };
    metrics[m.name] = { type: m.type, contains: m.contains, values };
  }
  const checks = (data.results.checks?.results ?? []).map((c) => ({
    ...c,
    path: `::${c.name}`,
    id: c.name,
  }));
  return {
    metrics,
    root_group: { name: '', path: '', id: '', groups: [], checks },
    state: { testRunDurationMs: data.config.duration * 1000 },
  };
}

/** What the report needs to know besides the metrics. */
export interface ReactometerBlock {
  readonly scenario: ScenarioName;
  readonly target: string;
  readonly quick: boolean;
  readonly params: Record<string, unknown>;
  readonly runId: string | null;
  /** false when k6 gave the machine-readable summary, which carries no threshold results. */
  readonly thresholdsKnown: boolean;
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
    : (env('RUN_ID') ?? null);
}

/** Lines around the JSON when it goes to stdout, which k6 shares with its own output and logs. */
export const SUMMARY_BEGIN = '-----BEGIN REACTOMETER SUMMARY-----';
export const SUMMARY_END = '-----END REACTOMETER SUMMARY-----';

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
  lines.push(
    !block.thresholdsKnown
      ? '  thresholds: not in the machine-readable summary (k6 exits 99 when one failed)'
      : failed === 0
        ? '  all thresholds passed'
        : `  ${failed} threshold(s) FAILED`,
  );
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
  return (raw: SummaryData | MachineReadableSummary) => {
    const machineReadable = isMachineReadable(raw);
    const data = machineReadable ? fromMachineReadable(raw) : raw;
    const block: ReactometerBlock = {
      scenario,
      target: TARGET.name,
      quick: QUICK,
      params: { ...params, target: describeTarget() },
      runId: runIdOf(data.setup_data),
      thresholdsKnown: !machineReadable,
      testRunDurationMs: data.state?.testRunDurationMs ?? null,
      generatedAt: new Date().toISOString(),
      tool: 'k6',
    };
    const file = summaryPath(scenario);
    const json = `${JSON.stringify({ ...toSummaryExport(data), reactometer: block }, null, 2)}\n`;
    const text = textReport(data, block, file);
    // SUMMARY_FILE=stdout (k6-operator without shared storage): the JSON between two marker
    // lines on stdout, the text on stderr. A runner pod's log mixes both streams, k6's own output
    // and console logs, so the markers are what lets the JSON be cut out of `kubectl logs`.
    const framed = `${SUMMARY_BEGIN}\n${json}${SUMMARY_END}\n`;
    if (file === 'stdout') return { stdout: framed, stderr: text };
    if (file === 'stderr') return { stderr: framed, stdout: text };
    return { stdout: text, [file]: json };
  };
}
