// Coalescing on real sockets (issue 9, droplet side): 1,000 dashboards on the built droplet while
// Slack events arrive at 20/s for 30 s, spread over a few emoji, adds and removes. Every dashboard
// must end with exactly the stored counts, never see an emoji's version go backwards, and get at
// most one update per window: with a 250 ms window, at most ~4 a second instead of 20.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { reactionEventPayload, signSlackBody } from '@reactometer/shared/testing';
import { sleep, TEST_SIGNING_SECRET } from '@reactometer/devkit';
import {
  LOAD_RUN_PER_ADDRESS_CAP,
  startDropletProcess,
  startTestDatabase,
  type DropletProcess,
  type TestDatabase,
} from '@reactometer/devkit/droplet';

const CLIENTS = 1_000;
const EVENTS_PER_SECOND = 20;
const SECONDS = 30;
const WINDOW_MS = 250;
const EMOJI = 5;
const USERS = 40;

interface Dashboard {
  readonly socket: WebSocket;
  readonly latest: Map<string, { count: number; version: number }>;
  updates: number;
  backwards: number;
}

function openDashboard(url: string, run: string): Promise<Dashboard> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const d: Dashboard = { socket, latest: new Map(), updates: 0, backwards: 0 };
    socket.on('message', (data) => {
      const msg = JSON.parse(String(data)) as {
        type: string;
        reactions?: { emoji: string; count: number; version: number }[];
      };
      if (msg.type !== 'update') return;
      const ours = (msg.reactions ?? []).filter((r) => r.emoji.startsWith(run));
      if (ours.length === 0) return;
      d.updates++;
      for (const r of ours) {
        const held = d.latest.get(r.emoji);
        if (held !== undefined && r.version <= held.version) d.backwards++;
        else d.latest.set(r.emoji, { count: r.count, version: r.version });
      }
    });
    socket.once('open', () => resolve(d));
    socket.once('error', reject);
  });
}

describe('coalesced broadcast on real sockets', () => {
  let db: TestDatabase;
  let droplet: DropletProcess;
  beforeAll(async () => {
    db = await startTestDatabase();
    droplet = await startDropletProcess({
      env: {
        MONGODB_URI: db.uri,
        MONGODB_DB: db.newDatabaseName(),
        SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
        LOG_LEVEL: 'warn',
        BROADCAST_WINDOW_MS: String(WINDOW_MS),
        // A thousand dashboards from one address: past the per-address cap (100) otherwise.
        WS_MAX_CONNECTIONS_PER_ADDRESS: String(LOAD_RUN_PER_ADDRESS_CAP),
      },
    });
  }, 60_000);
  afterAll(async () => {
    await droplet?.stop();
    await db?.cleanup();
  }, 30_000);

  it(`${CLIENTS} dashboards, ${EVENTS_PER_SECOND} events/s for ${SECONDS} s: exact final counts, at most one update per ${WINDOW_MS} ms`, async () => {
    const run = `co${randomBytes(3).toString('hex')}-`;
    const dashboards: Dashboard[] = [];
    for (let i = 0; i < CLIENTS; i += 100) {
      dashboards.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(100, CLIENTS - i) }, () =>
            openDashboard(droplet.wsUrl, run),
          ),
        )),
      );
    }

    // Open loop: each event is sent at its scheduled time whatever the previous ones are doing.
    const total = EVENTS_PER_SECOND * SECONDS;
    const present = new Set<string>();
    const baseTs = Math.floor(Date.now() / 1000) - 120;
    const started = Date.now();
    const posts: Promise<number>[] = [];
    for (let i = 0; i < total; i++) {
      const wait = started + (i * 1000) / EVENTS_PER_SECOND - Date.now();
      if (wait > 0) await sleep(wait);
      const emoji = `${run}${i % EMOJI}`;
      const user = `U${(i * 7) % USERS}`;
      const key = `${emoji}/${user}`;
      // Mostly adds; a removal of what this user has on this emoji now and then.
      const type = present.has(key) && i % 3 === 0 ? 'reaction_removed' : 'reaction_added';
      if (type === 'reaction_added') present.add(key);
      else present.delete(key);
      const signed = signSlackBody(
        TEST_SIGNING_SECRET,
        reactionEventPayload({
          eventId: `Ev${run}${i}`,
          type,
          user,
          reaction: emoji,
          eventTs: `${baseTs}.${String(i + 1).padStart(6, '0')}`,
          item: { type: 'message', channel: 'CCOALESCE', ts: '1700000000.000100' },
        }),
        Math.floor(Date.now() / 1000),
      );
      posts.push(
        fetch(`${droplet.httpUrl}/slack/events`, {
          method: 'POST',
          body: new Uint8Array(signed.body),
          headers: signed.headers,
        }).then(async (res) => {
          await res.arrayBuffer();
          return res.status;
        }),
      );
    }
    const statuses = await Promise.all(posts);
    const sendingMs = Date.now() - started;
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    // What the store holds; an emoji at 0 is left out of GET /reactions.
    const res = await fetch(`${droplet.httpUrl}/reactions`);
    const stored = ((await res.json()) as { reactions: { emoji: string; count: number }[] })
      .reactions;
    const truth = new Map<string, number>();
    for (let k = 0; k < EMOJI; k++) truth.set(`${run}${k}`, 0);
    for (const r of stored) if (r.emoji.startsWith(run)) truth.set(r.emoji, r.count);

    const settled = (d: Dashboard): boolean =>
      [...truth].every(([emoji, count]) => d.latest.get(emoji)?.count === count);
    const deadline = Date.now() + 10_000;
    while (!dashboards.every(settled) && Date.now() < deadline) await sleep(100);

    const wrong = dashboards.filter((d) => !settled(d)).length;
    const backwards = dashboards.reduce((n, d) => n + d.backwards, 0);
    const most = Math.max(...dashboards.map((d) => d.updates));
    // The leading update, then at most one per window while events flow, then the trailing one.
    const bound = Math.ceil(sendingMs / WINDOW_MS) + 2;
    for (const d of dashboards) d.socket.terminate();

    expect({ wrong, backwards }).toEqual({ wrong: 0, backwards: 0 });
    expect(most).toBeLessThanOrEqual(bound);
    // Far fewer than one update per event: the merge happened.
    expect(most).toBeLessThan(total / 2);

    // Server side, exactly: broadcasts (FanOutDuration's count) within the same bound.
    const metrics = await (await fetch(droplet.metricsUrl!)).text();
    const broadcasts = Number(/^FanOutDuration_count (\d+)/m.exec(metrics)?.[1]);
    expect(broadcasts).toBeLessThanOrEqual(bound);
  }, 120_000);
});
