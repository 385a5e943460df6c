/**
 * The coalescing check, against any deployment (a `Target`): N dashboards connected while signed
 * Slack events add and remove reactions at a steady rate; afterwards every dashboard must hold
 * exactly the final counts, no dashboard may have received two updates closer than the window,
 * and no version may have gone backwards on any dashboard.
 *
 * Deployment-agnostic: the droplet and the serverless stack are checked by the same code, each
 * with its own window. The dashboards live in this process (1,000 sockets fit; the limit is
 * 20,000), so a receipt is stamped when this process reads the frame: `toleranceMs` allows for
 * its own scheduling delay when it reads a thousand frames at once.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { reactionEventPayload } from '@reactometer/shared/testing';
import { seededRandom } from '../random.js';
import { countingSettled } from './counting-settled.js';
import { postSigned, stepPrefix } from './driver.js';
import { assertLocalTarget, type Target } from './target.js';

export interface CoalescingCheckOptions {
  readonly dashboards: number;
  readonly eventsPerSecond: number;
  readonly seconds: number;
  /** The target's coalescing window: no dashboard may get two updates closer than this. */
  readonly windowMs: number;
  /** Slack for this process's own delay in reading frames (default 50 ms). */
  readonly toleranceMs?: number;
  /** Distinct emoji the events are spread over (default 5). */
  readonly emoji?: number;
  /** Share of events that remove a reaction added earlier (default 0.3). */
  readonly removeShare?: number;
  /** Longest wait after the last event for every dashboard to hold the final counts (default 30 s). */
  readonly settleTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface CoalescingCheckResult {
  readonly dashboards: number;
  readonly connected: number;
  readonly eventsSent: number;
  /** Deliveries answered other than 2xx and retried (as Slack retries them). */
  readonly eventsRetried: number;
  /** Events still not acknowledged after Slack's three retries. */
  readonly eventsFailed: number;
  /** Final counts of this check's emoji: what the events should leave, and what GET /reactions says. */
  readonly expected: Readonly<Record<string, number>>;
  readonly server: Readonly<Record<string, number>>;
  readonly dashboardsExact: number;
  readonly updatesReceived: number;
  readonly maxUpdatesPerDashboard: number;
  /** The closest two updates to one dashboard, ms. */
  readonly minGapMs: number | null;
  /** Pairs of updates to one dashboard closer than `windowMs - toleranceMs`. */
  readonly gapsBelowWindow: number;
  readonly versionRegressions: number;
  readonly settledMs: number;
  readonly ok: boolean;
}

interface Dashboard {
  readonly ws: WebSocket;
  readonly counts: Map<string, { count: number; version: number }>;
  readonly arrivals: number[];
  regressions: number;
  snapshot: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Sends `count` events at `ratePerSecond` (open loop) the way Slack does: a delivery that is not
 * answered 2xx is retried with `x-slack-retry-num`, up to three times, so that a busy deployment's
 * 503 does not leave the counts short of what the events say.
 */
async function sendLikeSlack(
  target: Target,
  count: number,
  ratePerSecond: number,
  next: () => Record<string, unknown>,
): Promise<{ sent: number; failed: number; retried: number }> {
  let failed = 0;
  let retried = 0;
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const wait = start + (i * 1000) / ratePerSecond - performance.now();
    if (wait > 0) await sleep(wait);
    const body = next();
    inFlight.push(
      (async () => {
        for (let attempt = 0; ; attempt++) {
          const headers: Record<string, string> =
            attempt === 0
              ? {}
              : { 'x-slack-retry-num': String(attempt), 'x-slack-retry-reason': 'http_error' };
          const { status } = await postSigned(target.httpUrl, target.signingSecret, body, headers);
          if (typeof status === 'number' && status >= 200 && status < 300) return;
          if (attempt === 3) {
            failed++;
            return;
          }
          retried++;
          await sleep(1000 * 2 ** attempt);
        }
      })(),
    );
  }
  await Promise.all(inFlight);
  return { sent: count, failed, retried };
}

/** A local model of the reactions the events leave: who has which emoji on. */
class Reactions {
  private readonly present = new Map<string, Set<string>>();
  private users = 0;
  private seq = 0;
  private readonly run = `${Date.now().toString(36)}${process.pid.toString(36)}`;

  constructor(
    private readonly emoji: readonly string[],
    private readonly removeShare: number,
    private readonly random: () => number,
  ) {
    for (const e of emoji) this.present.set(e, new Set());
  }

  /** The next event: a removal of a present reaction, or an add by a new user. */
  next(): Record<string, unknown> {
    const emoji = this.emoji[Math.floor(this.random() * this.emoji.length)]!;
    const users = this.present.get(emoji)!;
    const remove = users.size > 0 && this.random() < this.removeShare;
    let user: string;
    if (remove) {
      user = [...users][Math.floor(this.random() * users.size)]!;
      users.delete(user);
    } else {
      user = `UC${this.run}${(this.users++).toString(36)}`.toUpperCase();
      users.add(user);
    }
    this.seq++;
    const nowS = Math.floor(Date.now() / 1000);
    return reactionEventPayload({
      eventId: `EvC${this.run}${this.seq.toString(36)}`,
      type: remove ? 'reaction_removed' : 'reaction_added',
      user,
      reaction: emoji,
      // Later than anything before it, so a removal is never older than its add.
      eventTs: `${nowS}.${String(this.seq % 1_000_000).padStart(6, '0')}`,
      item: { type: 'message', channel: 'C0COALESCE', ts: '1700000000.000100' },
    });
  }

  final(): Record<string, number> {
    return Object.fromEntries(this.emoji.map((e) => [e, this.present.get(e)!.size]));
  }
}

async function openDashboards(
  target: Target,
  n: number,
  prefix: string,
  log: (line: string) => void,
): Promise<Dashboard[]> {
  const dashboards: Dashboard[] = [];
  const perSecond = Math.max(1, target.maxNewConnectionsPerSecond);
  const started = performance.now();
  const opening: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const due = started + (i / perSecond) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    opening.push(
      new Promise<void>((resolve) => {
        const ws = new WebSocket(target.wsUrl, {
          perMessageDeflate: false,
          handshakeTimeout: 15_000,
        });
        const d: Dashboard = {
          ws,
          counts: new Map(),
          arrivals: [],
          regressions: 0,
          snapshot: false,
        };
        ws.on('message', (raw) => {
          const at = performance.now();
          let msg: {
            type?: string;
            reactions?: { emoji: string; count: number; version: number }[];
          };
          try {
            msg = JSON.parse(raw.toString()) as typeof msg;
          } catch {
            return;
          }
          if (msg.type === 'snapshot') d.snapshot = true;
          if (msg.type !== 'update' && msg.type !== 'snapshot') return;
          let ours = false;
          for (const r of msg.reactions ?? []) {
            if (!r.emoji.startsWith(prefix)) continue;
            ours = true;
            const held = d.counts.get(r.emoji);
            if (held !== undefined && r.version < held.version) {
              d.regressions++;
              continue;
            }
            d.counts.set(r.emoji, { count: r.count, version: r.version });
          }
          if (ours && msg.type === 'update') d.arrivals.push(at);
        });
        ws.once('open', () => {
          // The snapshot request registers the connection (serverless: it re-puts the record).
          ws.send(JSON.stringify({ action: 'getReactions' }));
          dashboards.push(d);
          resolve();
        });
        ws.once('error', () => resolve());
      }),
    );
  }
  await Promise.all(opening);
  const deadline = performance.now() + 30_000;
  while (dashboards.some((d) => !d.snapshot) && performance.now() < deadline) await sleep(100);
  log(`coalescing check: ${dashboards.length}/${n} dashboards connected`);
  return dashboards;
}

async function serverCounts(
  target: Target,
  emoji: readonly string[],
): Promise<Record<string, number>> {
  await countingSettled(target.httpUrl);
  const res = await fetch(`${target.httpUrl}/reactions`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { reactions: { emoji: string; count: number }[] };
  const out: Record<string, number> = Object.fromEntries(emoji.map((e) => [e, 0]));
  for (const r of body.reactions) if (r.emoji in out) out[r.emoji] = r.count;
  return out;
}

export async function checkCoalescing(
  target: Target,
  options: CoalescingCheckOptions,
): Promise<CoalescingCheckResult> {
  assertLocalTarget(target);
  const log = options.log ?? (() => undefined);
  const tolerance = options.toleranceMs ?? 50;
  const prefix = stepPrefix('co');
  const emoji = Array.from({ length: options.emoji ?? 5 }, (_, i) => `${prefix}${i}`);
  const model = new Reactions(emoji, options.removeShare ?? 0.3, seededRandom(12_345));
  const dashboards = await openDashboards(target, options.dashboards, prefix, log);
  try {
    const count = Math.round(options.eventsPerSecond * options.seconds);
    log(`coalescing check: ${count} events at ${options.eventsPerSecond}/s`);
    const posted = await sendLikeSlack(target, count, options.eventsPerSecond, () => model.next());
    const expected = model.final();
    const server = await serverCounts(target, emoji);
    const exact = (d: Dashboard) => emoji.every((e) => (d.counts.get(e)?.count ?? 0) === server[e]);
    const settleStart = performance.now();
    const bound = options.settleTimeoutMs ?? 30_000;
    while (dashboards.some((d) => !exact(d)) && performance.now() - settleStart < bound)
      await sleep(200);
    const settledMs = performance.now() - settleStart;

    let minGap: number | null = null;
    let below = 0;
    let updates = 0;
    let maxUpdates = 0;
    let regressions = 0;
    for (const d of dashboards) {
      updates += d.arrivals.length;
      maxUpdates = Math.max(maxUpdates, d.arrivals.length);
      regressions += d.regressions;
      for (let i = 1; i < d.arrivals.length; i++) {
        const gap = d.arrivals[i]! - d.arrivals[i - 1]!;
        if (minGap === null || gap < minGap) minGap = gap;
        if (gap < options.windowMs - tolerance) below++;
      }
    }
    const dashboardsExact = dashboards.filter(exact).length;
    const serverRight = emoji.every((e) => server[e] === expected[e]);
    return {
      dashboards: options.dashboards,
      connected: dashboards.length,
      eventsSent: posted.sent,
      eventsRetried: posted.retried,
      eventsFailed: posted.failed,
      expected,
      server,
      dashboardsExact,
      updatesReceived: updates,
      maxUpdatesPerDashboard: maxUpdates,
      minGapMs: minGap,
      gapsBelowWindow: below,
      versionRegressions: regressions,
      settledMs,
      ok:
        dashboards.length === options.dashboards &&
        posted.failed === 0 &&
        serverRight &&
        dashboardsExact === dashboards.length &&
        below === 0 &&
        regressions === 0,
    };
  } finally {
    for (const d of dashboards) d.ws.terminate();
  }
}
