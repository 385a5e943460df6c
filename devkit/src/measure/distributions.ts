/**
 * Seeded randomness and latency distributions, shared by the AWS stand-ins (how long an answer
 * takes) and the fan-out model (how long AWS would take): the same description of a latency
 * drives both, so the model can be checked against the stand-in.
 */

/** Deterministic PRNG (mulberry32): the same seed replays the same sequence. */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A latency in milliseconds: fixed, uniform, or log-normal given by its median and 99th
 * percentile (how measurements are usually published, e.g. "p50 73 ms, p99 225 ms").
 */
export type LatencyDistribution =
  | { readonly kind: 'fixed'; readonly ms: number }
  | { readonly kind: 'uniform'; readonly minMs: number; readonly maxMs: number }
  | { readonly kind: 'lognormal'; readonly p50Ms: number; readonly p99Ms: number };

/** z of the 99th percentile of a standard normal. */
const Z99 = 2.3263478740408408;

/** A sampler of `d` driven by `random`. */
export function latencySampler(d: LatencyDistribution, random: Random): () => number {
  switch (d.kind) {
    case 'fixed':
      return () => d.ms;
    case 'uniform':
      return () => d.minMs + random() * (d.maxMs - d.minMs);
    case 'lognormal': {
      if (!(d.p50Ms > 0) || !(d.p99Ms >= d.p50Ms)) {
        throw new RangeError(
          `log-normal latency needs 0 < p50 <= p99 (got ${d.p50Ms}, ${d.p99Ms})`,
        );
      }
      const mu = Math.log(d.p50Ms);
      const sigma = Math.log(d.p99Ms / d.p50Ms) / Z99;
      return () => {
        // Box-Muller; 1 - random() keeps the logarithm finite.
        const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
        return Math.exp(mu + sigma * z);
      };
    }
  }
}

/** The median of `d` (for closed-form estimates and labels). */
export function medianMs(d: LatencyDistribution): number {
  switch (d.kind) {
    case 'fixed':
      return d.ms;
    case 'uniform':
      return (d.minMs + d.maxMs) / 2;
    case 'lognormal':
      return d.p50Ms;
  }
}

/** The mean of `d` (the log-normal's is above its median by exp(sigma^2 / 2)). */
export function meanMs(d: LatencyDistribution): number {
  switch (d.kind) {
    case 'fixed':
      return d.ms;
    case 'uniform':
      return (d.minMs + d.maxMs) / 2;
    case 'lognormal': {
      const sigma = Math.log(d.p99Ms / d.p50Ms) / Z99;
      return d.p50Ms * Math.exp((sigma * sigma) / 2);
    }
  }
}

/** "p50 20 ms / p99 60 ms", "20 ms", "10-30 ms". */
export function describeLatency(d: LatencyDistribution): string {
  switch (d.kind) {
    case 'fixed':
      return `${d.ms} ms`;
    case 'uniform':
      return `${d.minMs}-${d.maxMs} ms`;
    case 'lognormal':
      return `log-normal p50 ${d.p50Ms} ms / p99 ${d.p99Ms} ms`;
  }
}
