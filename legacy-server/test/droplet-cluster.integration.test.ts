// Issue 14: several droplet processes (the build) on one FerretDB and one Redis, behind a real
// nginx (the deployed site with an upstream of K servers). Changes cross processes through Redis;
// a lost Redis or a dead process leaves no dashboard stale; 200 concurrent adds of one emoji
// through three processes count exactly 200 (the per-emoji lease: FerretDB's updates are not
// atomic across processes).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { WsTestClient } from '@reactometer/shared/contract-tests';
import { reactionsResponseSchema, type EmojiCount } from '@reactometer/shared';
import { eventually, reactionEventPayload, signSlackBody } from '@reactometer/shared/testing';
import { TEST_SIGNING_SECRET } from '@reactometer/devkit';
import { startDropletCluster, type DropletCluster } from '@reactometer/devkit/droplet';

const nowSeconds = (): number => Math.floor(Date.now() / 1000);
let tsCounter = 0;

/** Posts one signed reaction_added to `baseUrl`; resolves with the HTTP status. */
async function addReaction(baseUrl: string, user: string, reaction: string): Promise<number> {
  const eventTs = `${nowSeconds()}.${String(++tsCounter).padStart(6, '0')}`;
  const payload = reactionEventPayload({
    eventId: `Ev${randomBytes(6).toString('hex')}`,
    type: 'reaction_added',
    user,
    reaction,
    eventTs,
    item: { type: 'message', channel: 'C0CLUSTER', ts: '1700000000.000100' },
  });
  const signed = signSlackBody(TEST_SIGNING_SECRET, payload, nowSeconds());
  const res = await fetch(`${baseUrl}/slack/events`, {
    method: 'POST',
    headers: signed.headers,
    body: signed.body,
  });
  await res.arrayBuffer();
  return res.status;
}

async function reactionsOf(baseUrl: string): Promise<EmojiCount[]> {
  const res = await fetch(`${baseUrl}/reactions`);
  return reactionsResponseSchema.parse(await res.json()).reactions;
}

/** Resolves once `check` passes (it throws otherwise); fails with its last error at the deadline. */
async function until(description: string, check: () => Promise<void> | void, timeoutMs: number) {
  await eventually(
    description,
    async () => {
      await check();
      return true;
    },
    Boolean,
    { timeoutMs, intervalMs: 250 },
  );
}

const countOf = (counts: readonly EmojiCount[], emoji: string): number =>
  counts.find((c) => c.emoji === emoji)?.count ?? 0;

/**
 * What a dashboard shows after every frame it got: a snapshot replaces everything, an update
 * applies where its version is newer (the dashboard's own rule, web/src/live/leaderboard-state.ts).
 */
function dashboardView(client: WsTestClient): Map<string, number> {
  const counts = new Map<string, number>();
  const versions = new Map<string, number>();
  for (const m of client.messages) {
    if (m.type === 'snapshot') {
      counts.clear();
      versions.clear();
    }
    if (m.type !== 'snapshot' && m.type !== 'update') continue;
    for (const r of m.reactions) {
      if (m.type === 'update' && (versions.get(r.emoji) ?? -1) >= r.version) continue;
      versions.set(r.emoji, r.version);
      counts.set(r.emoji, r.count);
    }
  }
  for (const [emoji, count] of counts) if (count === 0) counts.delete(emoji);
  return counts;
}

const asMap = (counts: readonly EmojiCount[]): Map<string, number> =>
  new Map(counts.filter((c) => c.count > 0).map((c) => [c.emoji, c.count]));

async function dashboard(url: string): Promise<WsTestClient> {
  const client = await WsTestClient.connect(url, 10_000);
  await client.request({ action: 'getReactions' }, 'snapshot');
  return client;
}

const clients: WsTestClient[] = [];
const track = async (url: string): Promise<WsTestClient> => {
  const c = await dashboard(url);
  clients.push(c);
  return c;
};

let cluster: DropletCluster;

beforeAll(async () => {
  cluster = await startDropletCluster({
    processes: 3,
    // Only Redis carries changes between processes here: no periodic re-read to hide a miss.
    env: { COUNTS_REFRESH_MS: '0', BROADCAST_WINDOW_MS: '0', LOG_LEVEL: 'warn' },
    stderr: 'ignore',
  });
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await cluster?.stop();
}, 60_000);

describe('droplet x 3 behind nginx, one FerretDB, one Redis', () => {
  it('an event posted to process A reaches dashboards on processes B and C', async () => {
    const [a, b, c] = cluster.processes as [
      DropletCluster['processes'][number],
      DropletCluster['processes'][number],
      DropletCluster['processes'][number],
    ];
    const onB = await track(b.wsUrl);
    const onC = await track(c.wsUrl);
    expect(await addReaction(a.httpUrl, 'U1', 'rocket')).toBe(200);
    for (const client of [onB, onC]) {
      await client.waitUntil(() => dashboardView(client).get('rocket') === 1, {
        description: 'the update of rocket counted by process A',
        timeoutMs: 10_000,
      });
    }
    // And every process answers reads with it (their caches heard it too).
    for (const p of cluster.processes)
      expect(countOf(await reactionsOf(p.httpUrl), 'rocket')).toBe(1);
  }, 30_000);

  it('200 concurrent adds of one emoji by 200 users, spread over 3 processes, count exactly 200', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        addReaction(cluster.processes[i % 3]!.httpUrl, `U2${String(i).padStart(3, '0')}`, 'tada'),
      ),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    await until(
      'every process serving tada = 200',
      async () => {
        for (const p of cluster.processes)
          expect(countOf(await reactionsOf(p.httpUrl), 'tada')).toBe(200);
      },
      60_000,
    );
  }, 90_000);

  it('Redis SIGKILLed and restarted: every dashboard ends with the counts the processes serve', async () => {
    const redis = cluster.redis!;
    const views = await Promise.all(cluster.processes.map((p) => track(p.wsUrl)));
    await redis.kill();
    // Slack's events are acknowledged while Redis is down (stored in each process's inbox);
    // counting them waits for the lease (STORE_LOCK=redis), nothing is lost.
    const during = await Promise.all(
      cluster.processes.map((p, i) => addReaction(p.httpUrl, `U3${i}`, `fire${i}`)),
    );
    expect(during).toEqual([200, 200, 200]);
    await redis.start();
    await until(
      'every process and dashboard agreeing on the counts',
      async () => {
        const served = await reactionsOf(cluster.processes[0]!.httpUrl);
        for (let i = 0; i < 3; i++) expect(countOf(served, `fire${i}`)).toBe(1);
        for (const p of cluster.processes)
          expect(asMap(await reactionsOf(p.httpUrl))).toEqual(asMap(served));
        for (const v of views) expect(dashboardView(v)).toEqual(asMap(served));
      },
      30_000,
    );
  }, 60_000);

  it('one process killed: its dashboards reconnect through nginx to the others and converge', async () => {
    const viaNginx = await Promise.all(Array.from({ length: 9 }, () => track(cluster.wsUrl)));
    const victim = cluster.processes[0]!;
    await victim.kill();
    await until(
      "the victim's sockets closing",
      () => expect(viaNginx.filter((c) => !c.isOpen).length).toBeGreaterThan(0),
      10_000,
    );
    const dropped = viaNginx.filter((c) => !c.isOpen);
    // least_conn put some of the nine on every process; only the victim's sockets closed.
    expect(dropped.length).toBeLessThan(9);
    const reconnected = await Promise.all(dropped.map(() => track(cluster.wsUrl)));
    // A change after the death reaches the survivors' and the reconnected dashboards alike.
    expect(await addReaction(cluster.httpUrl, 'U4', 'zap')).toBe(200);
    const live = [...viaNginx.filter((c) => c.isOpen), ...reconnected];
    await until(
      'every live dashboard showing what nginx serves',
      async () => {
        const served = asMap(await reactionsOf(cluster.httpUrl));
        expect(served.get('zap')).toBe(1);
        for (const v of live) expect(dashboardView(v)).toEqual(served);
      },
      20_000,
    );
    await victim.restart();
    expect(countOf(await reactionsOf(victim.httpUrl), 'zap')).toBe(1);
  }, 60_000);
});
