import type { Clock } from '../ports.js';

/** What a fan-out worker asks before each request: resolves when it may send one more. */
export interface RateLimiter {
  take(): Promise<void>;
}

export interface TokenBucketOptions {
  /** Tokens added per second. */
  readonly ratePerSecond: number;
  /** Most tokens held; the bucket starts full. */
  readonly burst: number;
  readonly clock: Clock;
  /** Injectable for tests; defaults to setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A token bucket, the algorithm API Gateway throttles with: `burst` requests at once, then
 * `ratePerSecond`. Each `take` reserves the next token and sleeps until it is due, so concurrent
 * callers are served in order without polling, and the bucket's debt (negative tokens) is exactly
 * the queue waiting on it.
 */
export class TokenBucket implements RateLimiter {
  private readonly perMs: number;
  private readonly burst: number;
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;
  private tokens: number;
  private last: number;
  /** Tokens handed out since creation (for reports). */
  taken = 0;
  /** Takes that had to wait for their token. */
  waited = 0;

  constructor(options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0) || !(options.burst >= 1)) {
      throw new RangeError(
        `token bucket needs a rate > 0 and a burst >= 1 (got ${options.ratePerSecond}/s, ${options.burst})`,
      );
    }
    this.perMs = options.ratePerSecond / 1000;
    this.burst = options.burst;
    this.clock = options.clock;
    this.sleep = options.sleep ?? defaultSleep;
    this.tokens = options.burst;
    this.last = options.clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perMs);
      this.last = now;
    }
  }

  async take(): Promise<void> {
    this.refill();
    this.tokens -= 1;
    this.taken++;
    if (this.tokens >= 0) return;
    this.waited++;
    // Our token arrives once the debt ahead of us (and our own) has been refilled.
    await this.sleep(Math.ceil(-this.tokens / this.perMs));
  }
}
