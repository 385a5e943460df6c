import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleSlackRequest, listReactions, toHttpError } from '@reactometer/shared';
import { InMemoryReactionStore, RecordingPublisher } from '@reactometer/shared/testing';
import { SlackTraffic, EMOJI_BY_POPULARITY } from '../src/slack-traffic.js';
import { sendTraffic } from '../src/traffic-sender.js';

function take(t: SlackTraffic, n: number) {
  return Array.from({ length: n }, () => t.next());
}

describe('SlackTraffic', () => {
  it('is deterministic for a seed', () => {
    const a = take(new SlackTraffic({ seed: 7, startSeconds: 1_700_000_000 }), 200);
    const b = take(new SlackTraffic({ seed: 7, startSeconds: 1_700_000_000 }), 200);
    const c = take(new SlackTraffic({ seed: 8, startSeconds: 1_700_000_000 }), 200);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('is skewed, mostly adds, with skin tones and occasional retries', () => {
    const events = take(new SlackTraffic({ seed: 1 }), 5000);
    const adds = events.filter((e) => e.type === 'reaction_added' && e.retryNum === 0);
    const removes = events.filter((e) => e.type === 'reaction_removed' && e.retryNum === 0);
    const retries = events.filter((e) => e.retryNum > 0);
    const byEmoji = new Map<string, number>();
    for (const e of adds) {
      const base = e.reaction.split('::')[0] as string;
      byEmoji.set(base, (byEmoji.get(base) ?? 0) + 1);
    }
    const ranked = [...byEmoji.values()].sort((x, y) => y - x);
    const top3 = (ranked[0] ?? 0) + (ranked[1] ?? 0) + (ranked[2] ?? 0);
    expect(top3 / adds.length).toBeGreaterThan(0.3);
    expect(byEmoji.size).toBeGreaterThan(EMOJI_BY_POPULARITY.length / 2);
    expect(removes.length / (adds.length + removes.length)).toBeGreaterThan(0.05);
    expect(removes.length / (adds.length + removes.length)).toBeLessThan(0.2);
    expect(adds.some((e) => e.reaction.includes('::skin-tone-'))).toBe(true);
    expect(retries.length).toBeGreaterThan(20);
    expect(retries.length).toBeLessThan(250);
    // A retry repeats the delivery just before it, same event_id and body.
    for (const r of retries) {
      const i = events.indexOf(r);
      expect(events[i - 1]?.eventId).toBe(r.eventId);
      expect(events[i - 1]?.body).toEqual(r.body);
    }
  });

  it('event timestamps strictly increase and removes only take back held reactions', () => {
    const events = take(new SlackTraffic({ seed: 3 }), 3000).filter((e) => e.retryNum === 0);
    const held = new Set<string>();
    let lastTs = '';
    for (const e of events) {
      const ev = e.body.event as {
        event_ts: string;
        user: string;
        reaction: string;
        item: { channel: string; ts: string };
      };
      const [s, us] = ev.event_ts.split('.');
      const canonical = `${(s ?? '').padStart(12, '0')}.${us}`;
      expect(canonical > lastTs).toBe(true);
      lastTs = canonical;
      const key = `${ev.user}|${ev.item.channel}|${ev.item.ts}|${ev.reaction}`;
      if (e.type === 'reaction_added') {
        expect(held.has(key)).toBe(false);
        held.add(key);
      } else {
        expect(held.delete(key)).toBe(true);
      }
    }
  });
});

describe('sendTraffic', () => {
  const SECRET = 'traffic-test-secret';
  // Two real HTTP servers running the real core over in-memory stores: the generator's own
  // expectation must match what a correct deployment counts, retries included.
  const servers: {
    server: http.Server;
    store: InMemoryReactionStore;
    url: string;
    retryHeaders: number;
  }[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const store = new InMemoryReactionStore();
      const entry = { server: http.createServer(), store, url: '', retryHeaders: 0 };
      entry.server.on('request', (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          if (req.headers['x-slack-retry-num']) entry.retryHeaders++;
          const header = (name: string) => {
            const v = req.headers[name.toLowerCase()];
            return Array.isArray(v) ? v[0] : v;
          };
          handleSlackRequest(
            { rawBody: Buffer.concat(chunks), header },
            {
              store,
              publisher: new RecordingPublisher(),
              clock: { now: () => Date.now() },
              pendingLeaseMs: 10_000,
              signingSecret: SECRET,
            },
          ).then(
            () => res.writeHead(200).end('{"ok":true}'),
            (err: unknown) => {
              const e = toHttpError(err);
              res.writeHead(e.status).end(JSON.stringify(e.body));
            },
          );
        });
      });
      await new Promise<void>((r) => entry.server.listen(0, '127.0.0.1', r));
      entry.url = `http://127.0.0.1:${(entry.server.address() as AddressInfo).port}`;
      servers.push(entry);
    }
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.server.close(r))));
  });

  it('delivers the same signed stream to every target, and both end at the expected counts', async () => {
    const traffic = new SlackTraffic({ seed: 42, retryRatio: 0.05 });
    const stats = await sendTraffic(traffic, {
      targets: servers.map((s) => s.url),
      secret: SECRET,
      rate: 2000,
      maxEvents: 400,
      durationMs: Infinity,
    });
    for (const s of stats) expect(s).toMatchObject({ sent: 400, ok: 400, failures: {} });
    const expected = [...traffic.expectedCounts().entries()].filter(([, n]) => n > 0).sort();
    for (const { store, retryHeaders } of servers) {
      const counted = (await listReactions(store)).map((c) => [c.emoji, c.count]).sort();
      expect(counted).toEqual(expected);
      expect(retryHeaders).toBeGreaterThan(0);
    }
  });
});
