/**
 * Thresholds after metrics/thresholds.go and thresholds_parser.go (v2.2.0): `<aggregation>
 * <operator> <number>`, aggregations allowed per metric type (counter: count, rate; gauge: value;
 * rate: rate; trend: avg, min, max, med, p(N)); a threshold on a metric the script never defines
 * is a configuration error before the run; `abortOnFail` stops the test once the threshold fails
 * after `delayAbortEval`; the verdict in the summary is the last evaluation, at the end of the run.
 */
import { parseDuration } from './duration.js';
import { parseMetricKey } from './metric-store.js';
import type { MetricStore } from './metric-store.js';

export interface Threshold {
  /** The metric key as written (`name` or `name{tag:value}`). */
  readonly key: string;
  readonly source: string;
  readonly aggregation: string;
  readonly operator: string;
  readonly value: number;
  readonly abortOnFail: boolean;
  readonly delayAbortEvalMs: number;
  lastFailed: boolean;
}

export class ThresholdConfigError extends Error {
  readonly code = 'invalid_threshold';
  constructor(message: string) {
    super(message);
    this.name = 'ThresholdConfigError';
  }
}

const EXPRESSION =
  /^\s*(count|rate|value|avg|min|max|med|p\(\d+(?:\.\d+)?\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/;
const ALLOWED: Record<string, (a: string) => boolean> = {
  counter: (a) => a === 'count' || a === 'rate',
  gauge: (a) => a === 'value',
  rate: (a) => a === 'rate',
  trend: (a) => ['avg', 'min', 'max', 'med'].includes(a) || a.startsWith('p('),
};

/** Parses `options.thresholds` against the metrics the script defined. */
export function parseThresholds(raw: unknown, store: MetricStore): Threshold[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw !== 'object') throw new ThresholdConfigError('thresholds must be an object');
  const out: Threshold[] = [];
  for (const [key, list] of Object.entries(raw as Record<string, unknown>)) {
    const { name } = parseMetricKey(key);
    const def = store.definition(name);
    if (def === undefined) {
      throw new ThresholdConfigError(
        `invalid threshold defined on ${key}; reason: no metric name "${name}" found`,
      );
    }
    if (!Array.isArray(list))
      throw new ThresholdConfigError(`thresholds of ${key} must be an array`);
    for (const entry of list) {
      const spec =
        typeof entry === 'string'
          ? { threshold: entry }
          : (entry as { threshold?: unknown; abortOnFail?: unknown; delayAbortEval?: unknown });
      const source = String(spec.threshold ?? '');
      const m = EXPRESSION.exec(source);
      if (m === null) {
        throw new ThresholdConfigError(
          `invalid threshold "${source}" on ${key}: malformed expression`,
        );
      }
      const aggregation = m[1] as string;
      if (!(ALLOWED[def.type] as (a: string) => boolean)(aggregation)) {
        throw new ThresholdConfigError(
          `invalid threshold "${source}" on ${key}: the "${aggregation}" aggregation method is not supported for ${def.type} metrics`,
        );
      }
      out.push({
        key,
        source,
        aggregation,
        operator: m[2] as string,
        value: Number(m[3]),
        abortOnFail: spec.abortOnFail === true,
        delayAbortEvalMs:
          spec.delayAbortEval === undefined
            ? 0
            : parseDuration(spec.delayAbortEval, `delayAbortEval of ${key}`),
        lastFailed: false,
      });
    }
  }
  return out;
}

function holds(left: number, op: string, right: number): boolean {
  switch (op) {
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '>':
      return left > right;
    case '>=':
      return left >= right;
    case '==':
    case '===':
      return left === right;
    default:
      return left !== right;
  }
}

/**
 * Evaluates every threshold now; returns those that ask to abort the test. During the run a
 * metric without samples is skipped (k6's evaluateThresholds(ignoreEmptySinks=true)); the final
 * evaluation includes it, so `count==0` on a counter nobody added to passes.
 */
export function evaluateThresholds(
  thresholds: readonly Threshold[],
  store: MetricStore,
  elapsedMs: number,
  final: boolean,
): Threshold[] {
  const abort: Threshold[] = [];
  for (const t of thresholds) {
    if (!final && store.sampleCount(t.key) === 0) continue;
    const stats =
      t.aggregation.startsWith('p(') || ['avg', 'min', 'max', 'med'].includes(t.aggregation)
        ? [t.aggregation]
        : [];
    const v = store.values(t.key, elapsedMs, stats);
    const value = v?.values[t.aggregation] ?? 0;
    t.lastFailed = !holds(value, t.operator, t.value);
    if (t.lastFailed && t.abortOnFail && elapsedMs >= t.delayAbortEvalMs) abort.push(t);
  }
  return abort;
}
