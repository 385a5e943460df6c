/**
 * The summary the runner writes: k6's `--summary-export` shape (`metrics.<name>` is a trend, a
 * counter or a gauge), so the report reads a k6 run and a runner run alike, plus a `reactometer`
 * block with the per-step figures and the server's CPU and memory.
 */
import { z } from 'zod';
import { createHistogram, mergeInto, trendOf, type Histogram } from '@reactometer/devkit';
import { METRIC_NAMES, type MetricName } from './scenarios.js';

const num = z.number().finite();
export const trendSchema = z.object({
  avg: num,
  min: num,
  med: num,
  max: num,
  'p(90)': num,
  'p(95)': num,
  'p(99)': num,
});
export const counterSchema = z.object({ count: num, rate: num });
export const gaugeSchema = z.object({ value: num });
const metricSchema = z.union([trendSchema, counterSchema, gaugeSchema]);
export const metricsSchema = z.partialRecord(z.enum(METRIC_NAMES), metricSchema);

const serverUsageSchema = z.object({
  cpuMs: num,
  rssStartMiB: num,
  rssEndMiB: num,
  rssMaxMiB: num,
  fdsStart: num,
  fdsEnd: num,
  samples: z.array(z.object({ t: num, cpuMs: num, rssMiB: num })),
});

export const stepSchema = z.object({
  /** Step size: clients (connection-scaling, fan-out, churn) or events/s (ingest). */
  size: num,
  label: z.string(),
  durationSeconds: num,
  metrics: metricsSchema,
  server: serverUsageSchema,
  /** Scenario-specific figures (memory per connection, probe results, leak checks...). */
  figures: z.record(z.string(), z.union([num, z.string(), z.boolean(), z.null()])),
});
export type StepResult = z.infer<typeof stepSchema>;

export const summarySchema = z.object({
  metrics: metricsSchema,
  reactometer: z.object({
    scenario: z.string(),
    target: z.string(),
    runner: z.literal('node'),
    startedAt: z.string(),
    durationSeconds: num,
    params: z.record(z.string(), z.unknown()),
    steps: z.array(stepSchema),
    /** Why stepping stopped early, if it did. */
    stopped: z.string().nullable(),
    server: z.object({ cpuMs: num, rssMiB: z.array(z.object({ t: num, rssMiB: num })) }),
  }),
});
export type Summary = z.infer<typeof summarySchema>;
export type Metrics = z.infer<typeof metricsSchema>;

type Kind = 'trend' | 'counter' | 'gauge';
const KIND: Record<MetricName, Kind> = {
  ws_connect_ms: 'trend',
  ws_connect_failed: 'counter',
  ws_connections_open: 'gauge',
  delivery_ms: 'trend',
  deliveries_missed: 'counter',
  deliveries_duplicate: 'counter',
  ack_ms: 'trend',
  ack_failed: 'counter',
};

/** Accumulates metric values; `toMetrics` renders them in k6's summary shape. */
export class MetricSet {
  private readonly trends = new Map<MetricName, Histogram>();
  private readonly counters = new Map<MetricName, number>();
  private readonly gauges = new Map<MetricName, number>();

  addTrend(name: MetricName, h: Histogram): void {
    if (KIND[name] !== 'trend') throw new Error(`${name} is not a trend`);
    const into = this.trends.get(name) ?? createHistogram();
    mergeInto(into, h);
    this.trends.set(name, into);
  }

  add(name: MetricName, n: number): void {
    if (KIND[name] !== 'counter') throw new Error(`${name} is not a counter`);
    this.counters.set(name, (this.counters.get(name) ?? 0) + n);
  }

  gauge(name: MetricName, value: number): void {
    if (KIND[name] !== 'gauge') throw new Error(`${name} is not a gauge`);
    this.gauges.set(name, value);
  }

  /** Everything of `other` added into this set (gauges: the later value). */
  merge(other: MetricSet): void {
    for (const [k, h] of other.trends) this.addTrend(k, h);
    for (const [k, n] of other.counters) this.add(k, n);
    for (const [k, v] of other.gauges) this.gauge(k, v);
  }

  trend(name: MetricName): Histogram | undefined {
    return this.trends.get(name);
  }

  toMetrics(durationSeconds: number): Metrics {
    const out: Metrics = {};
    for (const [k, h] of this.trends) {
      const { count: _count, ...t } = trendOf(h);
      out[k] = t;
    }
    for (const [k, n] of this.counters)
      out[k] = {
        count: n,
        rate: durationSeconds > 0 ? Math.round((n / durationSeconds) * 1000) / 1000 : 0,
      };
    for (const [k, v] of this.gauges) out[k] = { value: v };
    return out;
  }
}
