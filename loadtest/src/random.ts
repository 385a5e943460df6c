/** Deterministic PRNG (mulberry32, the toolkit's): the same seed replays the same traffic. */
import { seededRandom, type Random } from '@reactometer/devkit';

export { seededRandom, type Random };

/** Cumulative Zipf weights for `n` ranks with exponent `s`: a few ranks dominate. */
export function zipfSampler(n: number, s: number, random: Random): () => number {
  const weights = Array.from({ length: n }, (_, k) => 1 / (k + 1) ** s);
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of weights) cumulative.push((acc += w / total));
  return () => {
    const r = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] ?? 1) < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}
