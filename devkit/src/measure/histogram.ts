/**
 * Latency histograms (HDR, microseconds, 1 µs to 10 min, 3 significant digits) and the k6 trend
 * figures computed from them. Worker processes send theirs to the parent encoded
 * (`encodeIntoCompressedBase64`); the parent decodes and adds them, so percentiles are over every
 * sample of every worker, never an average of per-worker percentiles.
 */
import hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

const HIGHEST_MICROS = 600_000_000;

export function createHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 64,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_MICROS,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
    useWebAssembly: false,
  });
}

/** Records a latency given in milliseconds (fractional allowed); clamps into the tracked range. */
export function recordMs(h: Histogram, ms: number): void {
  recordMicros(h, ms * 1000);
}

/** Records a latency given in microseconds; clamps into the tracked range. */
export function recordMicros(h: Histogram, micros: number): void {
  if (!Number.isFinite(micros)) return;
  h.recordValue(Math.min(HIGHEST_MICROS, Math.max(1, Math.round(micros))));
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 64, false);
}

/** Adds `from` into `into` (both microsecond histograms) and returns `into`. */
export function mergeInto(into: Histogram, from: Histogram): Histogram {
  if (from.totalCount > 0) into.add(from);
  return into;
}

/** Sums encoded histograms from several workers into one. */
export function mergeEncoded(encoded: readonly string[]): Histogram {
  const out = createHistogram();
  for (const e of encoded) mergeInto(out, decodeHistogram(e));
  return out;
}

/** A k6 trend (`--summary-export` shape), in milliseconds. */
export interface Trend {
  readonly avg: number;
  readonly min: number;
  readonly med: number;
  readonly max: number;
  readonly 'p(90)': number;
  readonly 'p(95)': number;
  readonly 'p(99)': number;
}

const ms3 = (micros: number): number => Math.round(micros) / 1000;

/** k6 trend figures of a microsecond histogram, in ms; all zero when it is empty (as k6 prints). */
export function trendOf(h: Histogram): Trend & { readonly count: number } {
  if (h.totalCount === 0)
    return { avg: 0, min: 0, med: 0, max: 0, 'p(90)': 0, 'p(95)': 0, 'p(99)': 0, count: 0 };
  return {
    avg: ms3(h.mean),
    min: ms3(h.minNonZeroValue),
    med: ms3(h.getValueAtPercentile(50)),
    max: ms3(h.maxValue),
    'p(90)': ms3(h.getValueAtPercentile(90)),
    'p(95)': ms3(h.getValueAtPercentile(95)),
    'p(99)': ms3(h.getValueAtPercentile(99)),
    count: h.totalCount,
  };
}

/** The figures a benchmark prints, in ms rounded to 0.01. */
export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

const ms2 = (micros: number): number => Math.round(micros / 10) / 100;

export function latencySummary(h: Histogram): LatencySummary {
  return {
    count: h.totalCount,
    p50Ms: ms2(h.getValueAtPercentile(50)),
    p90Ms: ms2(h.getValueAtPercentile(90)),
    p99Ms: ms2(h.getValueAtPercentile(99)),
    maxMs: ms2(h.maxValue),
    meanMs: ms2(h.mean),
  };
}
