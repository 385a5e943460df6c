import { describe, expect, it } from '@jest/globals';
import {
  fanOut,
  GoneConnectionError,
  ThrottledError,
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
});
