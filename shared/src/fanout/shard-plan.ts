/**
 * How many workers deliver one update, and how fast each may send: the sharding decision of the
 * serverless fan-out, as pure arithmetic so that the deployment, the benchmark and the AWS model
 * share it.
 */

export interface ShardPlanOptions {
  /** Below this many connections one worker (the coordinator itself) delivers everything. */
  readonly threshold: number;
  /** Connections per worker above the threshold. */
  readonly connectionsPerWorker: number;
  readonly maxWorkers: number;
  /** A fixed worker count, overriding the derivation (FANOUT_WORKERS). */
  readonly fixedWorkers?: number | undefined;
}

/**
 * Workers for a fan-out to `connections` (null: not known yet, the first flush of a gate). The
 * count is derived from the connections the previous flush reached, so a fan-out is sized one
 * flush late; coalescing makes that harmless, because a flush always sends the latest state.
 */
export function workersFor(connections: number | null, options: ShardPlanOptions): number {
  if (options.fixedWorkers !== undefined) return Math.max(1, Math.floor(options.fixedWorkers));
  if (connections === null || connections < options.threshold) return 1;
  return Math.max(
    1,
    Math.min(options.maxWorkers, Math.ceil(connections / options.connectionsPerWorker)),
  );
}

/** The account's API Gateway throttle (quota page: 10,000 requests/s, bucket of 5,000) and our share. */
export interface ThrottleShare {
  readonly accountRatePerSecond: number;
  readonly accountBurst: number;
  /** Share of the throttle the fan-out may use (the rest stays for HTTP and WebSocket requests). */
  readonly share: number;
}

export interface WorkerLimits {
  readonly ratePerSecond: number;
  readonly burst: number;
}

/**
 * One worker's token bucket when `workers` share the fan-out's part of the throttle: together
 * they never exceed `share` of the account's rate or burst. Each bucket starts full, which holds
 * because flushes are serialised with a quiet window between them (the account's bucket refills
 * `share x burst` in `burst / rate`, half a second at the default quota).
 */
export function workerLimits(workers: number, throttle: ThrottleShare): WorkerLimits {
  const n = Math.max(1, workers);
  return {
    ratePerSecond: (throttle.share * throttle.accountRatePerSecond) / n,
    burst: Math.max(1, Math.floor((throttle.share * throttle.accountBurst) / n)),
  };
}

/** The segments of a sharded fan-out, one per worker: 0..workers-1 of `workers`. */
export function segmentsOf(workers: number): { index: number; total: number }[] {
  const total = Math.max(1, workers);
  return Array.from({ length: total }, (_, index) => ({ index, total }));
}
