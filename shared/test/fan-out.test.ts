import { describe, expect, it } from '@jest/globals';
import {
  fanOut,
  GoneConnectionError,
  mergeFanOutReports,
  segmentsOf,
  StoreUnavailableError,
  ThrottledError,
  TokenBucket,
  workerLimits,
  workersFor,
  type ConnectionRecord,
  type ConnectionRegistry,
  type ConnectionSender,
} from '../src/index.js';
import { InMemoryConnectionRegistry, ManualClock } from '../src/testing/index.js';

async function registryWith(n: number, pageSize = 7) {
  const registry = new InMemoryConnectionRegistry(pageSize);
  for (let i = 0; i < n; i++)
    await registry.add({ id: `c${i}`, connectedAt: 0, expiresAt: 2_000_000_000 });
  return registry;
}

function options(registry: InMemoryConnectionRegistry, sender: ConnectionSender, concurrency = 4) {
  return {
    registry,
    sender,
    clock: new ManualClock(),
    concurrency,
    maxAttempts: 3,
    baseBackoffMs: 1,
    sleep: async () => {},
  };
}

describe('fanOut', () => {
  it('delivers the same string to every live connection, never exceeding the concurrency', async () => {
    const registry = await registryWith(30);
    await registry.add({ id: 'expired', connectedAt: 0, expiresAt: 1 });
    const got = new Map<string, string>();
    let inFlight = 0;
    let maxInFlight = 0;
    const sender: ConnectionSender = {
      send: async (id, data) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        got.set(id, data);
      },
    };
    const report = await fanOut('{"type":"update"}', options(registry, sender));
    expect(report).toMatchObject({
      attempted: 30,
      delivered: 30,
      gone: [],
      failed: [],
      throttled: 0,
    });
    expect(got.size).toBe(30);
    expect(got.has('expired')).toBe(false);
    expect(new Set(got.values())).toEqual(new Set(['{"type":"update"}']));
    expect(maxInFlight).toBe(4);
  });

  it('removes exactly the gone connections and keeps delivering to the rest', async () => {
    const registry = await registryWith(10);
    const sender: ConnectionSender = {
      send: async (id) => {
        if (id === 'c3' || id === 'c8') throw new GoneConnectionError(id);
        if (id === 'c5') throw new Error('socket hang up');
      },
    };
    const report = await fanOut('x', options(registry, sender));
    expect(report.gone.sort()).toEqual(['c3', 'c8']);
    expect(report.failed).toEqual(['c5']);
    expect(report.delivered).toBe(7);
    expect([...registry.records.keys()].sort()).toEqual([
      'c0',
      'c1',
      'c2',
      'c4',
      'c5',
      'c6',
      'c7',
      'c9',
    ]);
  });

  it('retries throttled sends with backoff, then gives up on that connection only', async () => {
    const registry = await registryWith(3);
    const calls = new Map<string, number>();
    const sleeps: number[] = [];
    const sender: ConnectionSender = {
      send: async (id) => {
        calls.set(id, (calls.get(id) ?? 0) + 1);
        if (id === 'c0' && (calls.get(id) ?? 0) < 3) throw new ThrottledError('slow down');
        if (id === 'c1') throw new ThrottledError('slow down');
      },
    };
    const report = await fanOut('x', {
      ...options(registry, sender),
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 1,
    });
    expect(calls.get('c0')).toBe(3);
    expect(calls.get('c1')).toBe(3);
    expect(report).toMatchObject({ delivered: 2, failed: ['c1'], throttled: 4 });
    expect(sleeps.sort((a, b) => a - b)).toEqual([1, 1, 2, 2]);
  });

  it('delivers each connection exactly once across the disjoint segments of a sharded fan-out', async () => {
    const registry = await registryWith(200, 9);
    const sent = new Map<string, number>();
    const sender: ConnectionSender = {
      send: async (id) => void sent.set(id, (sent.get(id) ?? 0) + 1),
    };
    const reports = await Promise.all(
      segmentsOf(4).map((segment) => fanOut('x', { ...options(registry, sender), segment })),
    );
    expect(reports.map((r) => r.attempted).every((n) => n > 20)).toBe(true);
    const merged = mergeFanOutReports(reports);
    expect(merged.delivered).toBe(200);
    expect(sent.size).toBe(200);
    expect([...sent.values()].every((n) => n === 1)).toBe(true);
  });

  it('never sends twice to a connection the registry returns twice', async () => {
    const record = (id: string): ConnectionRecord => ({ id, connectedAt: 0, expiresAt: 2e9 });
    const registry: ConnectionRegistry = {
      add: async () => undefined,
      remove: async () => undefined,
      // An item re-put (a touch) during a Scan may be returned again on a later page.
      pages: async function* () {
        yield [record('a'), record('b')];
        yield [record('b'), record('c'), record('a')];
      },
    };
    const sent: string[] = [];
    const report = await fanOut('x', {
      ...options(new InMemoryConnectionRegistry(), { send: async (id) => void sent.push(id) }),
      registry,
    });
    expect(sent.sort()).toEqual(['a', 'b', 'c']);
    expect(report).toMatchObject({ attempted: 3, delivered: 3, duplicatesSkipped: 2 });
  });

  it('reads the next page while the current one is being sent', async () => {
    const events: string[] = [];
    const registry: ConnectionRegistry = {
      add: async () => undefined,
      remove: async () => undefined,
      pages: async function* () {
        for (let p = 0; p < 3; p++) {
          events.push(`read ${p}`);
          yield [`p${p}a`, `p${p}b`].map((id) => ({ id, connectedAt: 0, expiresAt: 2e9 }));
        }
      },
    };
    const sender: ConnectionSender = {
      send: async (id) => {
        events.push(`send ${id}`);
        await new Promise((r) => setImmediate(r));
      },
    };
    await fanOut('x', { ...options(new InMemoryConnectionRegistry(), sender, 1), registry });
    // Page 1 is requested before the first send of page 0 completes.
    expect(events.indexOf('read 1')).toBeLessThan(events.indexOf('send p0b'));
  });

  it('takes a token from the limiter before every request, retries included', async () => {
    const registry = await registryWith(5);
    let tokens = 0;
    let calls = 0;
    const sender: ConnectionSender = {
      send: async (id) => {
        calls++;
        if (id === 'c0' && calls < 3) throw new ThrottledError('429');
      },
    };
    await fanOut('x', {
      ...options(registry, sender, 1),
      limiter: { take: async () => void tokens++ },
    });
    expect(tokens).toBe(calls);
    expect(calls).toBe(7);
  });

  it('fails as a whole when the registry cannot be read (Lambda retries the invocation)', async () => {
    const registry: ConnectionRegistry = {
      add: async () => undefined,
      remove: async () => undefined,
      pages: async function* () {
        yield [{ id: 'a', connectedAt: 0, expiresAt: 2e9 }];
        throw new StoreUnavailableError('DynamoDB connections.pages failed: ETIMEDOUT');
      },
    };
    await expect(
      fanOut('x', {
        ...options(new InMemoryConnectionRegistry(), { send: async () => undefined }),
        registry,
      }),
    ).rejects.toThrow(/ETIMEDOUT/);
  });
});

describe('TokenBucket', () => {
  it('lets a burst through at once, then paces at the rate', async () => {
    const clock = new ManualClock();
    const slept: number[] = [];
    const bucket = new TokenBucket({
      ratePerSecond: 1000,
      burst: 3,
      clock,
      sleep: async (ms) => void slept.push(ms),
    });
    for (let i = 0; i < 6; i++) await bucket.take();
    // Three from the burst; then one token per millisecond, each reserved in turn.
    expect(slept).toEqual([1, 2, 3]);
    expect(bucket.waited).toBe(3);
    clock.advance(10);
    slept.length = 0;
    for (let i = 0; i < 3; i++) await bucket.take();
    expect(slept).toEqual([]);
  });

  it('refuses a bucket that could never hand out a token', () => {
    expect(() => new TokenBucket({ ratePerSecond: 0, burst: 1, clock: new ManualClock() })).toThrow(
      RangeError,
    );
  });
});

describe('shard plan', () => {
  const plan = { threshold: 2000, connectionsPerWorker: 2000, maxWorkers: 32 };

  it('uses one worker below the threshold or before the first flush, then one per 2,000 connections up to the cap', () => {
    expect(workersFor(null, plan)).toBe(1);
    expect(workersFor(1999, plan)).toBe(1);
    expect(workersFor(2000, plan)).toBe(1);
    expect(workersFor(10_000, plan)).toBe(5);
    expect(workersFor(100_000, plan)).toBe(32);
    expect(workersFor(100_000, { ...plan, fixedWorkers: 3 })).toBe(3);
  });

  it("splits the fan-out's share of the throttle so that all workers together stay inside it", () => {
    const throttle = { accountRatePerSecond: 10_000, accountBurst: 5_000, share: 0.95 };
    for (const workers of [1, 3, 7, 32]) {
      const limits = workerLimits(workers, throttle);
      expect(limits.ratePerSecond * workers).toBeCloseTo(9_500, 6);
      expect(limits.burst * workers).toBeLessThanOrEqual(4_750);
    }
  });
});
