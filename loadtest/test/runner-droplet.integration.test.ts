/**
 * The runner against a real droplet edge in this process (the in-memory store stands in for
 * MongoDB: the store is not what is tested here), with real sockets and real worker processes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { InMemoryReactionStore } from '@reactometer/shared/testing';
import {
  dropletTestSettings,
  startInProcessDroplet,
  type InProcessDroplet,
} from '@reactometer/devkit/droplet';
import { ClientPool } from '../src/runner/client-pool.js';
import { runScenario } from '../src/runner/scenario-run.js';
import { summarySchema } from '../src/runner/summary.js';
import type { Target } from '../src/runner/target.js';

const SECRET = 'runner-test-secret';

let running: InProcessDroplet;
let target: Target;
const remoteAddresses: string[] = [];

beforeAll(async () => {
  running = await startInProcessDroplet({
    ...dropletTestSettings({ WS_MAX_CONNECTIONS: '10000', SHUTDOWN_GRACE_MS: '1000' }),
    store: new InMemoryReactionStore(),
    signingSecret: SECRET,
  });
  const address = { port: running.port };
  running.droplet.server.on('upgrade', (req: IncomingMessage) => {
    remoteAddresses.push(req.socket.remoteAddress ?? '?');
  });
  target = {
    name: 'droplet-in-process',
    kind: 'droplet',
    httpUrl: `http://127.0.0.1:${address.port}`,
    wsUrl: `ws://127.0.0.1:${address.port}/ws`,
    signingSecret: SECRET,
    maxNewConnectionsPerSecond: 500,
    serverPids: () => [process.pid],
  };
});

afterAll(async () => {
  await running.stop();
});

describe('Node runner against a droplet', () => {
  it('spreads clients over worker processes and their own source addresses', async () => {
    remoteAddresses.length = 0;
    const pool = new ClientPool({ perWorker: 10, perAddress: 5, firstAddress: 2 });
    try {
      const c = await pool.connect(target.wsUrl, 30, 300, { timeoutMs: 5000, deadlineMs: 10_000 });
      expect(c.opened).toBe(30);
      expect(c.failed).toBe(0);
      expect(c.connectHist.totalCount).toBe(30);
      expect(pool.pids).toHaveLength(3);
      expect(new Set(pool.pids).size).toBe(3);
      expect(pool.pids).not.toContain(process.pid);
      expect(pool.addresses).toEqual([
        ['127.0.0.2', '127.0.0.3'],
        ['127.0.0.4', '127.0.0.5'],
        ['127.0.0.6', '127.0.0.7'],
      ]);
      // What the server saw: every address used, five sockets each.
      const perAddress = new Map<string, number>();
      for (const a of remoteAddresses) perAddress.set(a, (perAddress.get(a) ?? 0) + 1);
      expect([...perAddress.keys()].sort()).toEqual(pool.addresses.flat().sort());
      expect([...perAddress.values()]).toEqual([5, 5, 5, 5, 5, 5]);
      expect((await pool.status()).open).toBe(30);
      expect(await pool.closeAll()).toBe(30);
    } finally {
      await pool.stop();
    }
  });

  it('plays a tiny fan-out with nothing missed and writes a summary that validates', async () => {
    const summary = await runScenario(
      'fan-out',
      target,
      {
        description: 'test',
        clients: [24],
        events: 4,
        eventsPerSecond: 8,
        deliveryTimeoutSeconds: 10,
      },
      { perWorker: 8, perAddress: 4, firstAddress: 20 },
    );
    expect(summarySchema.safeParse(summary).success).toBe(true);
    expect(summary.metrics.deliveries_missed).toEqual(expect.objectContaining({ count: 0 }));
    expect(summary.metrics.deliveries_duplicate).toEqual(expect.objectContaining({ count: 0 }));
    expect(summary.metrics.ws_connect_failed).toEqual(expect.objectContaining({ count: 0 }));
    expect(summary.metrics.ack_failed).toEqual(expect.objectContaining({ count: 0 }));
    const step = summary.reactometer.steps[0]!;
    expect(step.figures.delivered).toBe(24 * 4);
    expect(step.figures.open).toBe(24);
    const delivery = summary.metrics.delivery_ms as { min: number; 'p(99)': number };
    expect(delivery.min).toBeGreaterThan(0);
    expect(delivery['p(99)']).toBeLessThan(10_000);
    expect(summary.reactometer.stopped).toBeNull();
    expect(step.server.samples.length).toBeGreaterThan(0);
    expect(summary.reactometer.target).toBe('droplet-in-process');
  });

  it('refuses a target outside 127.0.0.0/8', async () => {
    await expect(
      runScenario(
        'ingest',
        { ...target, httpUrl: 'http://192.0.2.1:80' },
        { description: '', rates: [1], stepSeconds: 1 },
      ),
    ).rejects.toThrow(/127\.0\.0\.0\/8/);
  });
});
