/**
 * `EmojiLock` on Redis: a lease per base emoji, `SET key token NX PX lease`, released by a Lua
 * compare-and-delete so that a process whose lease ran out never deletes the next holder's.
 * Inside one process the waiters of one emoji queue in memory first (`KeyedSerializer`), so Redis
 * sees one contender per process, not one per event of a busy window.
 *
 * The lease is only as good as its length: a holder stalled past `leaseMs` (a stopped process)
 * can overlap with the next one. The length is set well above the longest time one event's
 * writes can take (each store operation has its own timeout), and a holder that overran is logged.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ReactionBusyError, StoreUnavailableError } from '@reactometer/shared';
import type { EmojiLock } from '../emoji-lock.js';
import { KeyedSerializer } from '../keyed-serializer.js';

export interface RedisEmojiLockLogger {
  warn(obj: object, msg?: string): void;
}

export interface RedisEmojiLockOptions {
  readonly url: string;
  /** Lease keys are `<keyPrefix>lock:<emoji>`. */
  readonly keyPrefix: string;
  /** How long a lease lasts if its holder never releases it. */
  readonly leaseMs: number;
  /** How long to wait for another process's lease before giving up (the worker retries). */
  readonly waitMs?: number;
  readonly logger?: RedisEmojiLockLogger;
}

/** Deletes the key only if it still holds this holder's token. */
const RELEASE_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class RedisEmojiLock implements EmojiLock {
  private readonly redis: Redis;
  private readonly local = new KeyedSerializer();
  private readonly waitMs: number;

  constructor(private readonly options: RedisEmojiLockOptions) {
    this.waitMs = options.waitMs ?? 5_000;
    this.redis = new Redis(options.url, {
      // Fail at once while Redis is down: the worker keeps the event and retries with backoff.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(50 * times, 1_000),
    });
    // The outage is logged by the worker (one line per transition), not once per attempt here.
    this.redis.on('error', () => undefined);
  }

  run<T>(emoji: string, task: () => Promise<T>): Promise<T> {
    return this.local.run(emoji, async () => {
      const key = `${this.options.keyPrefix}lock:${emoji}`;
      const token = randomUUID();
      await this.acquire(key, token, emoji);
      const since = Date.now();
      try {
        return await task();
      } finally {
        const heldMs = Date.now() - since;
        if (heldMs > this.options.leaseMs) {
          this.options.logger?.warn(
            { emoji, heldMs, leaseMs: this.options.leaseMs },
            'store lock: held past its lease; another process may have written meanwhile',
          );
        }
        // A failed release only delays the next holder until the lease expires.
        await this.redis.eval(RELEASE_LUA, 1, key, token).catch(() => undefined);
      }
    });
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async acquire(key: string, token: string, emoji: string): Promise<void> {
    const deadline = Date.now() + this.waitMs;
    for (let attempt = 0; ; attempt++) {
      let reply: string | null;
      try {
        reply = await this.redis.set(key, token, 'PX', this.options.leaseMs, 'NX');
      } catch (cause) {
        throw new StoreUnavailableError('the store lock (Redis) cannot be reached', { cause });
      }
      if (reply === 'OK') return;
      if (Date.now() > deadline) throw new ReactionBusyError(`emoji ${emoji} (store lock)`);
      // Short, growing, jittered: the holder's writes take milliseconds.
      const ms = Math.min(50, 2 * 2 ** Math.min(attempt, 5));
      await sleep(ms / 2 + (Math.random() * ms) / 2);
    }
  }
}
