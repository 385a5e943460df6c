/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): the wait before retry `n` is uniform in [0, min(cap, base * 2^n)). After a deploy or
 * an outage every open dashboard reconnects at once; full jitter spreads them out instead of
 * sending them back in synchronised waves.
 */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 30_000 };

/** The upper bound of the wait before retry `attempt` (0 for the first retry). */
export function backoffCeiling(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  // 2^attempt overflows to Infinity long after the cap applies, and min() handles that.
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt));
}

/** `random` returns a number in [0, 1), like Math.random. */
export function backoffDelay(
  attempt: number,
  random: () => number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): number {
  return Math.floor(random() * backoffCeiling(attempt, policy));
}
