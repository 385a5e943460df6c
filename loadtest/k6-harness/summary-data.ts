/**
 * The data k6 hands to `handleSummary`, and what `--summary-export` writes, after
 * internal/js/summary.go, summary-wrapper.js and internal/lib/summary/machine_readable.go (v2.2.0):
 *
 * - by default (legacy shape): `{root_group, options, state, metrics: {name: {type, contains,
 *   values, thresholds?: {source: {ok}}}}, setup_data}`, metrics being every metric with samples
 *   plus every metric and submetric that has thresholds;
 * - with `--new-machine-readable-summary`: `{config: {duration, execution, script}, metadata:
 *   {generatedAt, k6Version}, results: {checks?, metrics: [{name, type, contains, values}]},
 *   version: "1.0.0"}`, with no thresholds, no setup data, and trend values limited to
 *   avg/min/med/max/p(90)/p(95);
 * - `--summary-export` writes the legacy data flattened (metric -> its values, thresholds as
 *   source -> failed, a rate's `rate` renamed `value`), or the machine-readable JSON as is.
 */
import type { MetricStore } from './metric-store.js';
import type { Threshold } from './thresholds.js';

export const DEFAULT_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'];

export interface SummaryInput {
  readonly store: MetricStore;
  readonly thresholds: readonly Threshold[];
  readonly testRunDurationMs: number;
  readonly trendStats: readonly string[];
  readonly setupData: string | null;
  readonly scriptPath: string;
  readonly k6Version: string;
}

const ROOT_GROUP_ID = 'd41d8cd98f00b204e9800998ecf8427e';

function metricKeys(input: SummaryInput): string[] {
  const keys = new Set(input.store.observed());
  for (const t of input.thresholds) keys.add(t.key);
  return [...keys].sort();
}

export function legacySummaryData(input: SummaryInput): Record<string, unknown> {
  const metrics: Record<string, unknown> = {};
  for (const key of metricKeys(input)) {
    const v = input.store.values(key, input.testRunDurationMs, input.trendStats);
    if (v === null) continue;
    const own = input.thresholds.filter((t) => t.key === key);
    metrics[key] = {
      type: v.type,
      contains: v.contains,
      values: v.values,
      ...(own.length > 0
        ? { thresholds: Object.fromEntries(own.map((t) => [t.source, { ok: !t.lastFailed }])) }
        : {}),
    };
  }
  return {
    root_group: {
      name: '',
      path: '',
      id: ROOT_GROUP_ID,
      groups: [],
      checks: input.store.checks().map((c) => ({ ...c, path: `::${c.name}`, id: c.name })),
    },
    options: { summaryTrendStats: [...input.trendStats], summaryTimeUnit: '', noColor: true },
    state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: input.testRunDurationMs },
    metrics,
    setup_data: input.setupData === null ? undefined : (JSON.parse(input.setupData) as unknown),
  };
}

export function machineReadableSummaryData(input: SummaryInput): Record<string, unknown> {
  const trendKeys = ['avg', 'max', 'med', 'min', 'p(90)', 'p(95)'];
  const metrics = metricKeys(input).flatMap((key) => {
    const v = input.store.values(key, input.testRunDurationMs, trendKeys);
    if (v === null) return [];
    const values =
      v.type === 'counter'
        ? { count: v.values['count'] }
        : v.type === 'gauge'
          ? { max: v.values['max'], min: v.values['min'], value: v.values['value'] }
          : v.type === 'rate'
            ? {
                matches: v.values['passes'],
                total: (v.values['passes'] ?? 0) + (v.values['fails'] ?? 0),
                rate: v.values['rate'],
              }
            : v.values;
    return [{ name: key, type: v.type, contains: v.contains, values }];
  });
  const checks = input.store.checks();
  return {
    config: {
      duration: input.testRunDurationMs / 1000,
      execution: 'local',
      script: input.scriptPath,
    },
    metadata: { generatedAt: new Date().toISOString(), k6Version: input.k6Version },
    results: {
      ...(checks.length > 0 ? { checks: { results: checks } } : {}),
      metrics,
    },
    version: '1.0.0',
  };
}

/** summary-wrapper.js oldJSONSummary: what `--summary-export` writes for the legacy data. */
export function summaryExport(legacy: Record<string, unknown>): Record<string, unknown> {
  const metrics: Record<string, unknown> = {};
  for (const [name, m] of Object.entries(
    legacy['metrics'] as Record<string, Record<string, unknown>>,
  )) {
    const flat: Record<string, unknown> = { ...(m['values'] as Record<string, number>) };
    const thresholds = m['thresholds'] as Record<string, { ok: boolean }> | undefined;
    if (thresholds !== undefined && Object.keys(thresholds).length > 0) {
      flat['thresholds'] = Object.fromEntries(
        Object.entries(thresholds).map(([k, t]) => [k, !t.ok]),
      );
    }
    if (m['type'] === 'rate' && 'rate' in flat) {
      flat['value'] = flat['rate'];
      delete flat['rate'];
    }
    metrics[name] = flat;
  }
  const root = legacy['root_group'] as { checks: { name: string }[] } & Record<string, unknown>;
  return {
    root_group: {
      ...root,
      groups: {},
      checks: Object.fromEntries(root.checks.map((c) => [c.name, c])),
    },
    metrics,
  };
}
