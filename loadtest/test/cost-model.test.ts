import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { maxConnectionsFromLimit } from '@reactometer/shared';
import {
  DEFAULT_ASSUMPTIONS,
  NO_FREE_TIER,
  bisectInteger,
  breakEven,
  clusterCost,
  clusterCostFor,
  coalescedFlushRate,
  connectedHours,
  dropletCost,
  freeTierFromFile,
  meteredMessages,
  pricesFromFile,
  readUnits,
  serverlessCost,
  serverlessUsage,
  tieredCost,
  writeUnits,
  type Assumptions,
  type Prices,
  type PricesFile,
  type Traffic,
} from '../src/cost/cost-model.js';
import { costReport, PRICES_PATH } from '../src/cost/cost-cli.js';

const raw = readFileSync(PRICES_PATH, 'utf8');
const file = JSON.parse(raw) as PricesFile;
/** The same file, untyped, to check the provenance fields every entry must carry. */
const entries = (JSON.parse(raw) as { prices: Record<string, Record<string, unknown>> }).prices;
const REAL = pricesFromFile(file);

/** Round prices so that the expected totals below can be worked out by hand. */
const UNIT: Prices = {
  wsMessagesPerMillion: 1,
  wsConnectionMinutesPerMillion: 0.25,
  httpRequestsPerMillion: [
    { upTo: 300_000_000, value: 1 },
    { upTo: null, value: 0.9 },
  ],
  lambdaRequestsPerMillion: 0.2,
  lambdaGbSecond: 0.00001,
  dynamoWruPerMillion: 0.5,
  dynamoRruPerMillion: 0.1,
  snsPublishesPerMillion: 0.5,
  snsLambdaDeliveriesPerMillion: 0,
  logsIngestionPerGb: 0.5,
  droplets: [
    { slug: 'small', vcpus: 1, memoryMb: 1024, monthly: 6 },
    { slug: 'medium', vcpus: 1, memoryMb: 2048, monthly: 12 },
    { slug: 'large', vcpus: 2, memoryMb: 4096, monthly: 24 },
  ],
  loadBalancerNodeMonthly: 10,
  loadBalancerConnectionsPerNode: 10_000,
};

/**
 * Easy numbers: 30-day month, small tables, 1 KB of logs per invocation and nothing else, and
 * the fan-out not coalesced (one per change); the coalescing tests below add the window back.
 */
const A: Assumptions = {
  ...DEFAULT_ASSUMPTIONS,
  coalesceWindowMs: 0,
  daysPerMonth: 30,
  storedStates: 1_000,
  reconcileRunsPerMonth: 730,
  platformLogBytes: 1_000,
  slackEventLogBytes: 0,
  fanoutLogBytes: 0,
  wsLogBytes: 0,
};

const T: Traffic = { clients: 10, eventsPerDay: 100, hoursConnectedPerDay: 4 };

describe('metering helpers', () => {
  it('meters WebSocket messages in 32 KB increments', () => {
    expect(meteredMessages(1)).toBe(1);
    expect(meteredMessages(32 * 1024)).toBe(1);
    expect(meteredMessages(32 * 1024 + 1)).toBe(2); // "a 33 KB message is metered as two"
    expect(meteredMessages(128 * 1024)).toBe(4);
  });

  it('rounds DynamoDB reads to 4 KB (halved when eventually consistent) and writes to 1 KB', () => {
    expect(readUnits(250, true)).toBe(1);
    expect(readUnits(600, false)).toBe(0.5);
    expect(readUnits(8_000, true)).toBe(2); // ceil(8000 / 4096) = 2
    expect(writeUnits(250)).toBe(1);
    expect(writeUnits(1_025)).toBe(2);
  });

  it('prices tiers cumulatively', () => {
    // 400 M HTTP requests: 300 M x $1.00/M + 100 M x $0.90/M = 300 + 90 = 390
    expect(tieredCost(400_000_000, UNIT.httpRequestsPerMillion)).toBeCloseTo(390, 9);
    expect(tieredCost(2_000_000, UNIT.httpRequestsPerMillion)).toBeCloseTo(2, 9);
    expect(tieredCost(0, UNIT.httpRequestsPerMillion)).toBe(0);
  });

  it("derives the droplet's connection ceiling with the core's formula, as the droplet does", () => {
    expect(maxConnectionsFromLimit(20_000)).toBe(18_000); // 20000 - max(2000, min(2000, 10000))
    expect(maxConnectionsFromLimit(1_024)).toBe(512); // 1024 - max(103, min(2000, 512))
  });
});

describe('serverless usage, worked by hand (10 clients, 100 events/day, 4 h/day, 30 days)', () => {
  const u = serverlessUsage(T, A);

  it('counts connection minutes, sessions and messages', () => {
    // connection minutes = 10 clients x 240 min x 30 days = 72,000
    expect(u.connectionMinutes).toBe(72_000);
    // sessions = 10 x ceil(4 h / 2 h max) x 30 = 600 (the 2-hour limit forces a reconnect)
    expect(u.sessions).toBe(600);
    // pings = 10 x (240 / 5) x 30 = 14,400; getReactions = one per session = 600
    // inbound = 14,400 + 600 = 15,000
    expect(u.messagesInbound).toBe(15_000);
    // outbound = 14,400 pongs + 600 snapshots + (100 x 30 changes) x 10 clients updates = 45,000
    expect(u.messagesOutbound).toBe(45_000);
  });

  it('counts Lambda invocations and GB-seconds', () => {
    expect(u.lambdaInvocations).toEqual({
      slackEvents: 3_000, // 100 x 30
      fanout: 3_000, // one SNS message per change
      ws: 16_200, // 600 x 2 ($connect, $disconnect) + 14,400 pings + 600 getReactions
      reconcile: 730,
    });
    // slack 3000 x 40 ms x 0.5 GB = 60 GB-s
    // fan-out 3000 x (20 + 60 x 10/100 = 26 ms) x 1 GB = 78 GB-s
    // ws 16,200 x 15 ms x 0.5 GB = 121.5 GB-s
    // reconcile 730 x 3000 ms x 0.5 GB = 1,095 GB-s
    expect(u.lambdaGbSeconds).toBeCloseTo(60 + 78 + 121.5 + 1_095, 9);
  });

  it('counts DynamoDB units from what the adapters do', () => {
    // writes: 3000 flips x (putState pending + adjustCount + putState clear = 3 WRU) = 9,000
    //       + (1200 connect/disconnect + 14,400 ping touches + 600 getReactions touches) x 1 = 16,200
    expect(u.dynamoWru).toBe(9_000 + 16_200);
    // reads: 3000 getState (consistent, 250 B) = 3,000
    //      + 3000 fan-outs x 1 Scan page of 10 x 60 B, eventually consistent = 0.5 -> 1,500
    //      + 600 snapshots x consistent Scan of 200 x 40 B = 8,000 B -> 2 RRU -> 1,200
    //      + 730 reconciles x (ceil(1000 x 250 / 4096) = 62 + 2) = 46,720
    expect(u.dynamoRru).toBe(3_000 + 1_500 + 1_200 + 46_720);
    expect(u.snsPublishes).toBe(3_000);
  });

  it('counts log bytes per invocation', () => {
    // (3000 + 3000 + 16,200 + 730) invocations x 1000 B = 22,930,000 B = 0.02293 GB
    expect(u.logGb).toBeCloseTo(0.02293, 9);
    expect(serverlessUsage(T, { ...A, includeLogs: false }).logGb).toBe(0);
  });

  it('prices each line', () => {
    const cost = serverlessCost(T, UNIT, A);
    const line = (item: string) => cost.lines.find((l) => l.item.startsWith(item))!.monthly;
    expect(line('API Gateway WebSocket messages')).toBeCloseTo(0.06, 9); // 60,000 x $1/M
    expect(line('API Gateway WebSocket connection minutes')).toBeCloseTo(0.018, 9); // 72,000 x $0.25/M
    expect(line('API Gateway HTTP API')).toBeCloseTo(0.003, 9); // 3,000 x $1/M
    expect(line('Lambda requests')).toBeCloseTo(0.004586, 9); // 22,930 x $0.20/M
    expect(line('Lambda duration')).toBeCloseTo(0.013545, 9); // 1,354.5 GB-s x $0.00001
    expect(line('DynamoDB on-demand writes')).toBeCloseTo(0.0126, 9); // 25,200 x $0.50/M
    expect(line('DynamoDB on-demand reads')).toBeCloseTo(0.005242, 9); // 52,420 x $0.10/M
    expect(line('SNS')).toBeCloseTo(0.0015, 9); // 3,000 x $0.50/M
    expect(line('CloudWatch Logs')).toBeCloseTo(0.011465, 9); // 0.02293 GB x $0.50
    expect(cost.monthly).toBeCloseTo(
      0.06 + 0.018 + 0.003 + 0.004586 + 0.013545 + 0.0126 + 0.005242 + 0.0015 + 0.011465,
      9,
    );
  });

  it('with the real prices, 1000 dashboards 8 h a day cost $3.65 in connection minutes', () => {
    // 1000 x 480 min x (730 / 24) days = 14,600,000 minutes x $0.25/M = $3.65
    const cost = serverlessCost({ clients: 1_000, eventsPerDay: 0, hoursConnectedPerDay: 8 }, REAL);
    expect(cost.usage.connectionMinutes).toBeCloseTo(14_600_000, 6);
    expect(cost.lines[1]!.monthly).toBeCloseTo(3.65, 9);
  });
});

describe('coalesced fan-out', () => {
  it('flushes once per change at low rates and once per window plus fan-out at high ones', () => {
    expect(coalescedFlushRate(0, 1)).toBe(0);
    expect(coalescedFlushRate(5, 0)).toBe(5);
    // 0.001 changes/s, 1 s dead time: 1 / (1 + e^-0.001 / 0.001) = 1 / (1 + 999.0005) ~ 0.0009990
    expect(coalescedFlushRate(0.001, 1)).toBeCloseTo(1 / (1 + Math.exp(-0.001) / 0.001), 12);
    // 100 changes/s: 1 / (1 + e^-100 / 100) ~ 1 flush per second
    expect(coalescedFlushRate(100, 1)).toBeCloseTo(1, 9);
  });

  it('worked by hand: 10 clients, 28,800 changes over 8 h (1/s), 1 s window, 20 + 6 ms fan-out', () => {
    const a: Assumptions = { ...A, coalesceWindowMs: 1000 };
    const t: Traffic = { clients: 10, eventsPerDay: 28_800, hoursConnectedPerDay: 8 };
    const u = serverlessUsage(t, a);
    // dead time 1.026 s, rate 1/s: flushes/s = 1 / (1.026 + e^-1.026) = 1 / (1.026 + 0.35844) = 0.72232
    const perSecond = 1 / (1.026 + Math.exp(-1.026));
    expect(u.flushes).toBeCloseTo(perSecond * 8 * 3600 * 30, 6);
    // outbound: 480 pings/day x 10 x 30 = 14,400... as before, plus one update per flush per client
    const pings = 10 * 96 * 30;
    const snapshots = 10 * 4 * 30;
    expect(u.messagesOutbound).toBeCloseTo(pings + snapshots + u.flushes * 10, 6);
    // gate: two writes per change (mark, try) + two per flush (take, release); two reads per flush
    const changes = 28_800 * 30;
    const uncoalesced = serverlessUsage(t, A);
    expect(u.dynamoWru - uncoalesced.dynamoWru).toBeCloseTo(changes * 2 + u.flushes * 2, 6);
    // Fan-out GB-s: marks (15 ms) for every change, each flush's 26 ms and, for the trailing share
    // (1 - e^-1.026 = 0.64156), the 1 s window the holder sleeps out; 1 GB.
    const trailing = 1 - Math.exp(-1.026);
    const fanoutGbS = (changes * 15 + u.flushes * (26 + trailing * 1000)) / 1000;
    const uncoalescedFanoutGbS = (changes * 26) / 1000;
    expect(u.lambdaGbSeconds - uncoalesced.lambdaGbSeconds).toBeCloseTo(
      fanoutGbS - uncoalescedFanoutGbS,
      6,
    );
  });

  it('with 1,000 dashboards and 20,000 events a day, coalescing saves about a third of the bill', () => {
    const traffic: Traffic = { clients: 1_000, eventsPerDay: 20_000, hoursConnectedPerDay: 8 };
    const before = serverlessCost(traffic, REAL, { ...DEFAULT_ASSUMPTIONS, coalesceWindowMs: 0 });
    const after = serverlessCost(traffic, REAL);
    expect(before.monthly).toBeCloseTo(631.27, 1);
    expect(after.monthly).toBeLessThan(before.monthly * 0.75);
    expect(after.usage.flushes).toBeLessThan(after.usage.countChanges);
  });

  it('a hidden-tab timeout cuts connected hours, pings and updates, and adds a reconnect per hidden stretch', () => {
    const traffic: Traffic = { clients: 100, eventsPerDay: 2_000, hoursConnectedPerDay: 8 };
    const kept = serverlessUsage(traffic, A);
    const closing = serverlessUsage(traffic, { ...A, hiddenTabTimeoutMinutes: 5 });
    // hidden half of 8 h in 60-minute stretches, 5 of each 60 minutes kept: 4 + 4 x 5/60 = 4.333 h
    expect(connectedHours(8, { ...A, hiddenTabTimeoutMinutes: 5 })).toBeCloseTo(4 + 4 / 12, 9);
    expect(closing.connectionMinutes).toBeCloseTo(100 * 260 * 30, 6);
    expect(closing.messagesOutbound).toBeLessThan(kept.messagesOutbound);
    // 4 hidden stretches a day, each ending in a reconnect: ceil(4.333 / 2) + 4 = 7 sessions
    expect(closing.sessions).toBe(100 * 7 * 30);
  });
});

describe('free tier', () => {
  it('subtracts allowances and never goes below zero', () => {
    const free = freeTierFromFile(file, 'new-account');
    expect(free.wsMessages).toBe(1_000_000);
    expect(free.lambdaGbSeconds).toBe(400_000);
    const cost = serverlessCost(T, UNIT, A, free);
    const line = (item: string) => cost.lines.find((l) => l.item.startsWith(item))!.monthly;
    expect(line('API Gateway WebSocket messages')).toBe(0); // 60,000 < 1 M free
    expect(line('Lambda duration')).toBe(0);
    expect(line('DynamoDB on-demand writes')).toBeCloseTo(0.0126, 9); // no free request units
  });

  it('"always" keeps only the allowances that never expire', () => {
    const always = freeTierFromFile(file, 'always');
    expect(always.wsMessages).toBe(0); // 12 months only
    expect(always.lambdaRequests).toBe(1_000_000);
    expect(freeTierFromFile(file, 'none')).toEqual(NO_FREE_TIER);
  });
});

describe('droplet', () => {
  it('picks the smallest size whose memory and CPU fit', () => {
    // needs = 350 base + 512 MongoDB + 1000 x 50 KB / 1024 = 910.8 MB; small offers 1024 x 0.8 = 819
    const d = dropletCost(
      { clients: 1_000, eventsPerDay: 2_000, hoursConnectedPerDay: 8 },
      UNIT,
      A,
    );
    expect(d.needs.memoryMb).toBeCloseTo(350 + 512 + 50_000 / 1024, 9);
    expect(d.size?.slug).toBe('medium');
    expect(d.monthly).toBe(12);
  });

  it('with a managed MongoDB, leaves its memory off the droplet and adds its price', () => {
    const d = dropletCost({ clients: 1_000, eventsPerDay: 2_000, hoursConnectedPerDay: 8 }, UNIT, {
      ...A,
      managedMongoMonthly: 15,
    });
    expect(d.size?.slug).toBe('small'); // 350 + 48.8 MB fits in 819
    expect(d.monthly).toBe(6 + 15);
  });

  it('refuses more connections than the process ceiling (one process, no scale-out)', () => {
    const d = dropletCost({ clients: 18_001, eventsPerDay: 0, hoursConnectedPerDay: 8 }, UNIT, A);
    expect(d.size).toBeNull();
    expect(d.monthly).toBe(Infinity);
    expect(d.reason).toMatch(/ceiling of 18000/);
  });
});

describe('droplet x K', () => {
  /** No events: CPU needs nothing, so memory alone picks each size. */
  const QUIET: Traffic = { clients: 50_000, eventsPerDay: 0, hoursConnectedPerDay: 8 };
  const item = (c: ReturnType<typeof clusterCostFor>, start: string) =>
    c.lines.find((l) => l.item.startsWith(start));

  it('worked by hand: 50,000 dashboards on 3 droplets behind a DigitalOcean load balancer', () => {
    const c = clusterCostFor(QUIET, UNIT, A, 3, 'do-lb');
    // 50,000 / 3 = 16,667 each; 350 + 16,667 x 50 / 1024 = 1,163.8 MB > small's 819: medium x 3 = 36
    expect(c.connectionsPerDroplet).toBe(16_667);
    expect(item(c, 'app droplets')).toMatchObject({ quantity: 3, monthly: 36 });
    expect(item(c, 'app droplets')?.item).toMatch(/medium/);
    // ceil(50,000 / 10,000) = 5 nodes x $10
    expect(item(c, 'DigitalOcean Load Balancer')).toMatchObject({ quantity: 5, monthly: 50 });
    // Redis: 350 + 64 = 414 MB fits small ($6); MongoDB: 350 + 512 = 862 MB needs medium ($12)
    expect(item(c, 'Redis droplet')).toMatchObject({ monthly: 6 });
    expect(item(c, 'MongoDB droplet')).toMatchObject({ monthly: 12 });
    expect(c.monthly).toBe(36 + 50 + 6 + 12);
  });

  it('with an nginx droplet instead: memory for every proxied dashboard', () => {
    const c = clusterCostFor(QUIET, UNIT, A, 3, 'nginx-droplet');
    // 350 + 50,000 x 20 / 1024 = 1,326.6 MB: medium
    expect(item(c, 'nginx droplet')).toMatchObject({ quantity: 1, monthly: 12 });
    expect(c.monthly).toBe(36 + 12 + 6 + 12);
  });

  it('with managed Redis and MongoDB, prices them instead of their droplets', () => {
    const c = clusterCostFor(
      QUIET,
      UNIT,
      { ...A, managedRedisMonthly: 15, managedMongoMonthly: 20 },
      3,
      'do-lb',
    );
    expect(item(c, 'Redis droplet')).toBeUndefined();
    expect(item(c, 'MongoDB droplet')).toBeUndefined();
    expect(c.monthly).toBe(36 + 50 + 15 + 20);
  });

  it('refuses a K whose droplet processes cannot hold their share', () => {
    const c = clusterCostFor(QUIET, UNIT, A, 2, 'do-lb'); // 25,000 each > 18,000
    expect(c.monthly).toBe(Infinity);
    expect(c.reason).toMatch(/25000 connections per droplet exceed the process ceiling of 18000/);
    expect(() => clusterCostFor(QUIET, UNIT, A, 0, 'do-lb')).toThrow(RangeError);
  });

  it('gives each droplet process one core, so a busy fan-out needs more droplets, not bigger ones', () => {
    // 28,800 changes a day over 8 h = 1/s, x 10 at peak; 16,667 dashboards x 25 µs = 4.2 cores > 0.7
    const busy: Traffic = { ...QUIET, eventsPerDay: 28_800 };
    const three = clusterCostFor(busy, UNIT, A, 3, 'do-lb');
    expect(three.monthly).toBe(Infinity);
    expect(three.reason).toMatch(/need 4\.17 of one core at peak/);
    // 50,000 x 10 x 25 µs = 12.5 cores / 0.7 = 17.9: at least 18 droplets
    expect(clusterCost(busy, UNIT, A).droplets).toBeGreaterThanOrEqual(18);
  });

  it('holds what one droplet cannot: 18,001 dashboards need two', () => {
    const one = dropletCost({ ...QUIET, clients: 18_001 }, UNIT, A);
    expect(one.monthly).toBe(Infinity);
    const c = clusterCost({ ...QUIET, clients: 18_001 }, UNIT, A);
    expect(c.droplets).toBeGreaterThanOrEqual(2);
    expect(Number.isFinite(c.monthly)).toBe(true);
  });

  it('picks a K no dearer than any other from the fewest that fit to four times as many (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 0, max: 500_000 }),
        fc.constantFrom('do-lb' as const, 'nginx-droplet' as const),
        (clients, eventsPerDay, balancer) => {
          const traffic = { clients, eventsPerDay, hoursConnectedPerDay: 8 };
          const best = clusterCost(traffic, REAL, DEFAULT_ASSUMPTIONS, { balancer });
          expect(best.connectionsPerDroplet).toBeLessThanOrEqual(best.connectionCeiling);
          const fewest = Math.max(1, Math.ceil(clients / best.connectionCeiling));
          for (let k = fewest; k <= fewest * 4; k++)
            expect(best.monthly).toBeLessThanOrEqual(
              clusterCostFor(traffic, REAL, DEFAULT_ASSUMPTIONS, k, balancer).monthly,
            );
        },
      ),
      { numRuns: 100 },
    );
  });

  it('at a fixed K never gets cheaper as dashboards or events grow (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 140_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        (k, clients, more, eventsPerDay, moreEvents) => {
          const at = (c: number, e: number) =>
            clusterCostFor(
              { clients: c, eventsPerDay: e, hoursConnectedPerDay: 8 },
              REAL,
              DEFAULT_ASSUMPTIONS,
              k,
              'nginx-droplet',
            ).monthly;
          expect(at(clients + more, eventsPerDay)).toBeGreaterThanOrEqual(
            at(clients, eventsPerDay),
          );
          expect(at(clients, eventsPerDay + moreEvents)).toBeGreaterThanOrEqual(
            at(clients, eventsPerDay),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('break-even', () => {
  it('bisects to the first integer where the gap is >= 0', () => {
    expect(bisectInteger((x) => x - 37, 0, 1_000)).toBe(37);
    expect(bisectInteger((x) => x - 5_000, 0, 1_000)).toBeNull();
    expect(bisectInteger(() => 1, 0, 1_000)).toBe(0);
  });

  it('finds the clients and events/day where serverless reaches the droplet', () => {
    const traffic: Traffic = { clients: 10, eventsPerDay: 2_000, hoursConnectedPerDay: 8 };
    const droplet = 12;
    const even = breakEven(traffic, REAL, DEFAULT_ASSUMPTIONS, NO_FREE_TIER, droplet);
    expect(even.clients).not.toBeNull();
    const at = (clients: number) =>
      serverlessCost({ ...traffic, clients }, REAL, DEFAULT_ASSUMPTIONS).monthly;
    expect(at(even.clients!)).toBeGreaterThanOrEqual(droplet);
    expect(at(even.clients! - 1)).toBeLessThan(droplet);
    const atEvents = (eventsPerDay: number) =>
      serverlessCost({ ...traffic, eventsPerDay }, REAL, DEFAULT_ASSUMPTIONS).monthly;
    expect(atEvents(even.eventsPerDay!)).toBeGreaterThanOrEqual(droplet);
    expect(atEvents(even.eventsPerDay! - 1)).toBeLessThan(droplet);
  });

  it('has no break-even when no droplet fits', () => {
    expect(breakEven(T, REAL, DEFAULT_ASSUMPTIONS, NO_FREE_TIER, Infinity)).toEqual({
      clients: null,
      eventsPerDay: null,
    });
  });
});

describe('monotonicity (property-based)', () => {
  const traffic = fc.record({
    clients: fc.integer({ min: 0, max: 50_000 }),
    eventsPerDay: fc.integer({ min: 0, max: 200_000 }),
    hoursConnectedPerDay: fc.integer({ min: 0, max: 24 }),
  });

  /** A millionth of the bill plus a thousandth of a cent: "a hair" below. */
  const slack = (bill: number) => bill * 1e-6 + 1e-5;

  it('serverless cost never falls when clients or events grow, nor connection time when hours do', () => {
    fc.assert(
      fc.property(traffic, fc.integer({ min: 0, max: 10_000 }), (t, more) => {
        const base = serverlessCost(t, REAL).monthly;
        expect(base).toBeGreaterThanOrEqual(0);
        // More dashboards make each coalesced fan-out a little longer, so it merges a little more
        // and there are a few fewer of them: their overhead may fall by a hair, never the bill.
        expect(
          serverlessCost({ ...t, clients: t.clients + more }, REAL).monthly,
        ).toBeGreaterThanOrEqual(base - slack(base));
        expect(
          serverlessCost({ ...t, eventsPerDay: t.eventsPerDay + more }, REAL).monthly,
        ).toBeGreaterThanOrEqual(base);
        // Over more hours the same events are closer to isolated: more fan-outs, but fewer whose
        // holder sleeps out a window, and a second of a 1 GB Lambda costs as much as 13 messages,
        // so for a handful of dashboards the bill may fall. Connection time never does, and
        // without coalescing neither does the bill.
        const hours = Math.min(24, t.hoursConnectedPerDay + (more % 5));
        const longer = { ...t, hoursConnectedPerDay: hours };
        expect(serverlessCost(longer, REAL).usage.connectionMinutes).toBeGreaterThanOrEqual(
          serverlessCost(t, REAL).usage.connectionMinutes,
        );
        const off = { ...DEFAULT_ASSUMPTIONS, coalesceWindowMs: 0 };
        expect(serverlessCost(longer, REAL, off).monthly).toBeGreaterThanOrEqual(
          serverlessCost(t, REAL, off).monthly - 1e-9,
        );
      }),
    );
  });

  it('a free tier never raises the bill', () => {
    fc.assert(
      fc.property(traffic, (t) => {
        const free = freeTierFromFile(file, 'new-account');
        expect(serverlessCost(t, REAL, DEFAULT_ASSUMPTIONS, free).monthly).toBeLessThanOrEqual(
          serverlessCost(t, REAL).monthly + 1e-9,
        );
      }),
    );
  });

  it('the droplet never gets cheaper as clients grow', () => {
    fc.assert(
      fc.property(traffic, fc.integer({ min: 0, max: 10_000 }), (t, more) => {
        const a = dropletCost(t, REAL).monthly;
        const b = dropletCost({ ...t, clients: t.clients + more }, REAL).monthly;
        expect(b).toBeGreaterThanOrEqual(a);
      }),
    );
  });
});

describe('prices.json', () => {
  it('gives every price a unit and either a source with its status or an explicit not-found note', () => {
    for (const [name, entry] of Object.entries(entries)) {
      expect([name, typeof entry['unit']]).toEqual([name, 'string']);
      if (entry['sourceStatus'] === 'not-found') {
        expect([name, entry['source']]).toEqual([name, null]);
        expect(String(entry['note'])).toMatch(/not found in stored copies/);
      } else {
        expect([name, String(entry['source'])]).toEqual([
          name,
          expect.stringMatching(/^https:\/\//),
        ]);
        expect([name, String(entry['retrieved'])]).toEqual([
          name,
          expect.stringMatching(/checked 2026-1[12]-\d\d/),
        ]);
        expect(['official', 'official-example', 'secondary']).toContain(entry['sourceStatus']);
      }
    }
  });

  it('lists at least four droplet sizes', () => {
    expect(REAL.droplets.length).toBeGreaterThanOrEqual(4);
  });
});

describe('npm run cost (CLI)', () => {
  it('prints both totals and the break-even points', () => {
    const out = costReport({
      clients: 1000,
      eventsPerDay: 20000,
      hoursConnectedPerDay: 8,
      freeTier: 'none',
      logs: true,
    });
    expect(out).toMatch(/serverless .*per month/);
    expect(out).toMatch(/droplet: s-1vcpu-2gb/);
    expect(out).toMatch(/break-even/);
  });

  it('prices droplet x K next to them, and refuses a K that is not whole with a usage error', () => {
    const out = costReport({
      clients: 50_000,
      eventsPerDay: 2_000,
      hoursConnectedPerDay: 8,
      freeTier: 'none',
      logs: true,
      clusterDroplets: 3,
    });
    expect(out).toMatch(/droplet x 3 \(3 droplets; 16667 of 18000 connections per droplet process/);
    expect(out).toMatch(/DigitalOcean Load Balancer .* 5\.00 nodes +\$50\.00/);
    expect(() =>
      costReport({
        clients: 50_000,
        eventsPerDay: 0,
        hoursConnectedPerDay: 8,
        freeTier: 'none',
        logs: true,
        clusterDroplets: 1.5,
      }),
    ).toThrow(/whole K/);
  });

  it('prints JSON with --json', () => {
    const out = costReport({
      clients: 10,
      eventsPerDay: 100,
      hoursConnectedPerDay: 8,
      freeTier: 'none',
      logs: true,
      json: true,
    });
    const parsed = JSON.parse(out) as { serverless: { monthly: number } };
    expect(parsed.serverless.monthly).toBeGreaterThan(0);
  });
});
