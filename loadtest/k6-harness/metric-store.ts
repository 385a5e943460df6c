/**
 * Every sample of a run, by metric, with k6's sinks computed on demand (metrics/sink.go, v2.2.0):
 * counter count and rate (per second of test run), gauge last value with min and max, rate share
 * of non-zero samples, trend avg/min/med/max/p(N) with k6's linear interpolation between ranks.
 * A submetric `name{tag:value,...}` is the samples whose tags include all of those pairs.
 */
import type {
  MetricContains,
  MetricDefinition,
  MetricType,
  SampleMessage,
  Tags,
} from './protocol.js';

/** Metrics k6 itself emits, with their types (metrics/builtin.go). */
export const BUILTIN_METRICS: readonly MetricDefinition[] = [
  { name: 'checks', type: 'rate', contains: 'default' },
  { name: 'data_received', type: 'counter', contains: 'data' },
  { name: 'data_sent', type: 'counter', contains: 'data' },
  { name: 'dropped_iterations', type: 'counter', contains: 'default' },
  { name: 'group_duration', type: 'trend', contains: 'time' },
  { name: 'http_req_duration', type: 'trend', contains: 'time' },
  { name: 'http_req_failed', type: 'rate', contains: 'default' },
  { name: 'http_reqs', type: 'counter', contains: 'default' },
  { name: 'iteration_duration', type: 'trend', contains: 'time' },
  { name: 'iterations', type: 'counter', contains: 'default' },
  { name: 'vus', type: 'gauge', contains: 'default' },
  { name: 'vus_max', type: 'gauge', contains: 'default' },
  { name: 'ws_connecting', type: 'trend', contains: 'time' },
  { name: 'ws_msgs_received', type: 'counter', contains: 'default' },
  { name: 'ws_msgs_sent', type: 'counter', contains: 'default' },
  { name: 'ws_ping', type: 'trend', contains: 'time' },
  { name: 'ws_session_duration', type: 'trend', contains: 'time' },
  { name: 'ws_sessions', type: 'counter', contains: 'default' },
];

interface Series {
  readonly def: MetricDefinition;
  readonly samples: { value: number; tags: Tags }[];
}

/** `name{a:b,c:d}` split into the metric name and the tag filter (k6's submetric syntax). */
export function parseMetricKey(key: string): { name: string; filter: Tags } {
  const m = /^([^{]+)(?:\{(.*)\})?$/.exec(key.trim());
  if (m === null) return { name: key, filter: {} };
  const filter: Tags = {};
  for (const part of (m[2] ?? '').split(',')) {
    if (part.trim() === '') continue;
    const i = part.indexOf(':');
    const k = (i < 0 ? part : part.slice(0, i)).trim();
    const v = (i < 0 ? '' : part.slice(i + 1)).trim().replace(/^["'](.*)["']$/, '$1');
    filter[k] = v;
  }
  return { name: (m[1] as string).trim(), filter };
}

function percentile(sorted: readonly number[], pct: number): number {
  if (sorted.length === 0) return 0;
  if (sorted.length === 1) return sorted[0] as number;
  const i = pct * (sorted.length - 1);
  const j = sorted[Math.floor(i)] as number;
  const k = sorted[Math.ceil(i)] as number;
  return j + (k - j) * (i - Math.floor(i));
}

export class MetricStore {
  private readonly series = new Map<string, Series>();

  constructor() {
    for (const def of BUILTIN_METRICS) this.define(def);
  }

  define(def: MetricDefinition): void {
    if (!this.series.has(def.name)) this.series.set(def.name, { def, samples: [] });
  }

  has(name: string): boolean {
    return this.series.has(name);
  }

  definition(name: string): MetricDefinition | undefined {
    return this.series.get(name)?.def;
  }

  add(sample: SampleMessage): void {
    this.series.get(sample.metric)?.samples.push({ value: sample.value, tags: sample.tags });
  }

  /** Samples of a metric or submetric so far. */
  sampleCount(key: string): number {
    const { name, filter } = parseMetricKey(key);
    const filters = Object.entries(filter);
    return (this.series.get(name)?.samples ?? []).filter((x) =>
      filters.every(([k, v]) => x.tags[k] === v),
    ).length;
  }

  /** Metric names that received at least one sample. */
  observed(): string[] {
    return [...this.series.values()].filter((s) => s.samples.length > 0).map((s) => s.def.name);
  }

  /** Values of a metric or submetric, as k6's summary reports them. */
  values(
    key: string,
    testRunMs: number,
    trendStats: readonly string[],
  ): { type: MetricType; contains: MetricContains; values: Record<string, number> } | null {
    const { name, filter } = parseMetricKey(key);
    const s = this.series.get(name);
    if (s === undefined) return null;
    const filters = Object.entries(filter);
    const picked = s.samples.filter((x) => filters.every(([k, v]) => x.tags[k] === v));
    const vals = picked.map((x) => x.value);
    const seconds = Math.max(testRunMs, 1) / 1000;
    const { type, contains } = s.def;
    switch (type) {
      case 'counter': {
        const count = vals.reduce((a, b) => a + b, 0);
        return { type, contains, values: { count, rate: count / seconds } };
      }
      case 'gauge': {
        const last = vals.length === 0 ? 0 : (vals[vals.length - 1] as number);
        return {
          type,
          contains,
          values: {
            value: last,
            min: vals.length === 0 ? 0 : Math.min(...vals),
            max: vals.length === 0 ? 0 : Math.max(...vals),
          },
        };
      }
      case 'rate': {
        const passes = vals.filter((v) => v !== 0).length;
        return {
          type,
          contains,
          values: {
            rate: vals.length === 0 ? 0 : passes / vals.length,
            passes,
            fails: vals.length - passes,
          },
        };
      }
      case 'trend': {
        const sorted = [...vals].sort((a, b) => a - b);
        const out: Record<string, number> = {};
        for (const stat of trendStats) {
          const p = /^p\((\d+(?:\.\d+)?)\)$/.exec(stat);
          if (p !== null) out[stat] = percentile(sorted, Number(p[1]) / 100);
          else if (stat === 'avg')
            out[stat] = sorted.length === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / sorted.length;
          else if (stat === 'min') out[stat] = sorted.length === 0 ? 0 : (sorted[0] as number);
          else if (stat === 'max')
            out[stat] = sorted.length === 0 ? 0 : (sorted[sorted.length - 1] as number);
          else if (stat === 'med') out[stat] = percentile(sorted, 0.5);
          else if (stat === 'count') out[stat] = sorted.length;
        }
        return { type, contains, values: out };
      }
    }
  }

  /** Check results by name (root group only: the scripts use no groups). */
  checks(): { name: string; passes: number; fails: number }[] {
    const out = new Map<string, { passes: number; fails: number }>();
    for (const x of this.series.get('checks')?.samples ?? []) {
      const name = x.tags['check'] ?? '';
      const c = out.get(name) ?? { passes: 0, fails: 0 };
      if (x.value !== 0) c.passes++;
      else c.fails++;
      out.set(name, c);
    }
    return [...out.entries()].map(([name, c]) => ({ name, ...c }));
  }
}
