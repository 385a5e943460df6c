// The two Redis adapters against a real redis-server: the per-emoji lease makes read-then-write
// updates of two "processes" (two lock instances, two connections) exact, where without it they
// lose updates; the count bus carries counts between buses, ignores garbage, fails fast while
// Redis is down and reports its return.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { EmojiCount } from '@reactometer/shared';
import { eventually, sleep } from '@reactometer/shared/testing';
import { startRedis, type RedisProcess } from '@reactometer/devkit/redis';
import { RedisCountBus } from '../src/redis/redis-count-bus.js';
import { RedisEmojiLock } from '../src/redis/redis-emoji-lock.js';
import type { EmojiLock } from '../src/emoji-lock.js';

const logger = pino({ level: 'silent' });
let redis: RedisProcess;

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);

afterAll(async () => {
  await redis?.stop();
});

/** A counter updated the way FerretDB v1 applies `$inc`: read, yield, write back. */
function readThenWriteCounter() {
  let value = 0;
  return {
    get value() {
      return value;
    },
    async increment(): Promise<void> {
      const read = value;
      await sleep(1);
      value = read + 1;
    },
  };
}

/** `perProcess` increments from each of `locks.length` processes, all at once. */
async function incrementConcurrently(
  counter: ReturnType<typeof readThenWriteCounter>,
  locks: readonly (EmojiLock | null)[],
  perProcess: number,
): Promise<void> {
  await Promise.all(
    locks.flatMap((lock) =>
      Array.from({ length: perProcess }, () =>
        lock === null ? counter.increment() : lock.run('tada', () => counter.increment()),
      ),
    ),
  );
}

describe('RedisEmojiLock', () => {
  it('without it, two processes lose updates of a read-then-write count (the race it closes)', async () => {
    const counter = readThenWriteCounter();
    await incrementConcurrently(counter, [null, null], 50);
    expect(counter.value).toBeLessThan(100);
  });

  it('with it, two processes with their own connections count exactly', async () => {
    const locks = [0, 1].map(
      () => new RedisEmojiLock({ url: redis.url, keyPrefix: 'test1:', leaseMs: 5_000, logger }),
    );
    try {
      const counter = readThenWriteCounter();
      await incrementConcurrently(counter, locks, 50);
      expect(counter.value).toBe(100);
    } finally {
      await Promise.all(locks.map((l) => l.close()));
    }
  }, 30_000);

  it("releases only its own lease (compare-and-delete) and lets a dead holder's lease expire", async () => {
    const a = new RedisEmojiLock({ url: redis.url, keyPrefix: 'test2:', leaseMs: 1_000, logger });
    const b = new RedisEmojiLock({
      url: redis.url,
      keyPrefix: 'test2:',
      leaseMs: 1_000,
      waitMs: 3_000,
      logger,
    });
    try {
      // a overruns its lease; b gets in after expiry; a's late release must not free b's lease.
      const order: string[] = [];
      const slowA = a.run('x', async () => {
        order.push('a start');
        await sleep(1_300);
        order.push('a end');
      });
      await sleep(50);
      const bRun = b.run('x', async () => {
        order.push('b start');
        await sleep(600);
        order.push('b end');
      });
      await sleep(1_400);
      // a has released by now; b's lease must still be there.
      const c = new RedisEmojiLock({
        url: redis.url,
        keyPrefix: 'test2:',
        leaseMs: 1_000,
        waitMs: 50,
        logger,
      });
      await expect(c.run('x', async () => 'c')).rejects.toMatchObject({ code: 'reaction_busy' });
      await c.close();
      await Promise.all([slowA, bRun]);
      expect(order.indexOf('b start')).toBeGreaterThan(order.indexOf('a start'));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 30_000);

  it('fails with store_unavailable while Redis is down (the worker keeps the event and retries)', async () => {
    const own = await startRedis();
    const lock = new RedisEmojiLock({ url: own.url, keyPrefix: 't3:', leaseMs: 1_000, logger });
    try {
      await own.kill();
      await expect(lock.run('x', async () => 1)).rejects.toMatchObject({
        code: 'store_unavailable',
      });
      await own.start();
      await eventually(
        'the lock working again',
        () => lock.run('x', async () => 1).catch(() => 0),
        (v) => v === 1,
        {
          timeoutMs: 10_000,
        },
      );
    } finally {
      await lock.close();
      await own.stop();
    }
  }, 30_000);
});

describe('RedisCountBus', () => {
  it("carries one process's counts to the others, ignores malformed messages, reports a lost and returned Redis", async () => {
    const own = await startRedis();
    const heard: EmojiCount[][] = [];
    let reconnected = 0;
    const a = new RedisCountBus({ url: own.url, channel: 'c', logger });
    const b = new RedisCountBus({ url: own.url, channel: 'c', logger });
    try {
      await a.subscribe({ onCounts: () => undefined, onReconnected: () => undefined });
      await b.subscribe({
        onCounts: (c) => heard.push([...c]),
        onReconnected: () => reconnected++,
      });
      await a.publish([{ emoji: 'rocket', count: 3, version: 7 }]);
      await eventually(
        'b hearing rocket',
        () => heard.length,
        (n) => n === 1,
      );
      expect(heard[0]).toEqual([{ emoji: 'rocket', count: 3, version: 7 }]);

      // Garbage on the channel (another tool, an older version) is dropped, not passed on.
      await a.publish([{ emoji: '', count: -1, version: 0 } as EmojiCount]);
      await a.publish([{ emoji: 'ok', count: 1, version: 1 }]);
      await eventually(
        'b hearing ok',
        () => heard.length,
        (n) => n === 2,
      );
      expect(heard[1]).toEqual([{ emoji: 'ok', count: 1, version: 1 }]);

      await own.kill();
      const started = Date.now();
      await expect(a.publish([{ emoji: 'x', count: 1, version: 1 }])).rejects.toBeDefined();
      // Fails at once rather than queueing a change to replay late.
      expect(Date.now() - started).toBeLessThan(2_000);
      await own.start();
      await eventually(
        'b reporting the return',
        () => reconnected,
        (n) => n === 1,
        { timeoutMs: 10_000 },
      );
      await eventually(
        'a publishing again',
        () =>
          a.publish([{ emoji: 'back', count: 1, version: 1 }]).then(
            () => true,
            () => false,
          ),
        Boolean,
        { timeoutMs: 10_000 },
      );
      await eventually(
        'b hearing back (subscribed again)',
        () => heard.at(-1)?.[0]?.emoji,
        (e) => e === 'back',
      );
    } finally {
      await Promise.all([a.close(), b.close()]);
      await own.stop();
    }
  }, 60_000);
});
