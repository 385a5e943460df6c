/**
 * One chaos run against a target: realistic signed Slack traffic at a steady rate with Slack's
 * retry schedule, while the database is SIGKILLed and restarted twice (the second time held down
 * longer than Slack's compressed retry window), the application process is SIGKILLed and
 * restarted once, and dashboards are dropped and reconnect throughout. Then it compares
 * `GET /reactions` and every dashboard with the counts the sent events must produce. Bounded: a
 * fixed number of events, and every wait has a deadline.
 */
import { setMaxListeners } from 'node:events';
import { seededRandom } from '../random.js';
import { SlackTraffic } from '../slack-traffic.js';
import { readInboxHealth, type ChaosTarget } from './chaos-target.js';
import { DashboardFleet } from './dashboard-fleet.js';
import { deliverLikeSlack, type DeliveryOutcome } from './slack-delivery.js';

export interface ChaosOptions {
  readonly events: number;
  readonly rate: number;
  /** How long the second database outage lasts; must exceed the compressed retry window. */
  readonly outageSeconds: number;
  /** Divides Slack's retry schedule (1 min, 5 min). */
  readonly compress: number;
  readonly dashboards: number;
  readonly seed: number;
  /** A dashboard is dropped every this many ms. */
  readonly dropEveryMs: number;
  /** How long the run may wait for the inbox to drain and the dashboards to converge. */
  readonly settleTimeoutMs: number;
}

export interface ChaosResult {
  readonly target: string;
  /** Distinct events sent. */
  readonly sent: number;
  /** Events Slack got a 2xx for, at some attempt. */
  readonly acknowledged: number;
  /** Events Slack gave up on after its third retry. */
  readonly gaveUp: number;
  /** Counts missing from `GET /reactions`, summed over emojis. */
  readonly lost: number;
  /** Counts too many in `GET /reactions`, summed over emojis. */
  readonly doubled: number;
  readonly dashboards: number;
  /** `GET /reactions` and every dashboard show the expected counts. */
  readonly converged: boolean;
  /** From the inbox draining (after the last event) to everything converged; null if never. */
  readonly convergeMs: number | null;
  readonly dashboardsConverged: number;
  /**
   * From the end of the long outage until the inbox was caught up: at most one second of arrivals
   * (`rate` events) waiting, none older than 1 s (serverless: SQS does not tell the age).
   */
  readonly inboxDrainAfterOutageMs: number | null;
  /** The largest inbox backlog seen. */
  readonly maxBacklog: number;
  /** Attempts answered 503 / timed out / refused, over all deliveries. */
  readonly failedAttempts: number;
  readonly retriedEvents: number;
  readonly ackP99Ms: number;
  readonly dashboardConnects: number;
  readonly compress: number;
  readonly outageSeconds: number;
  readonly runMs: number;
  readonly faults: readonly { readonly atMs: number; readonly what: string }[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function mapsEqual(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

async function served(httpUrl: string): Promise<Map<string, number> | null> {
  try {
    const res = await fetch(`${httpUrl}/reactions`, { signal: AbortSignal.timeout(3_000) });
    if (res.status !== 200) return null;
    const body = (await res.json()) as { reactions: { emoji: string; count: number }[] };
    return new Map(body.reactions.filter((r) => r.count > 0).map((r) => [r.emoji, r.count]));
  } catch {
    return null;
  }
}

export async function runChaos(
  target: ChaosTarget,
  options: ChaosOptions,
  log: (line: string) => void,
): Promise<ChaosResult> {
  const random = seededRandom(options.seed ^ 0x5eed);
  const traffic = new SlackTraffic({ seed: options.seed, retryRatio: 0 });
  const fleet = new DashboardFleet(options.dashboards, () => target.wsUrl());
  const started = Date.now();
  const at = (): number => Date.now() - started;
  const faults: { atMs: number; what: string }[] = [];
  const fault = (what: string): void => {
    faults.push({ atMs: at(), what });
    log(`${(at() / 1000).toFixed(1)} s: ${what}`);
  };
  const stopRetries = new AbortController();
  // Every delivery waiting for a retry listens on it (they remove themselves when they wake).
  setMaxListeners(0, stopRetries.signal);

  // The inbox backlog, sampled all along: it says when counting caught up after the outage.
  const health: { atMs: number; pending: number; oldestAgeMs: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const h = await readInboxHealth(target.httpUrl());
      if (h !== null) health.push({ atMs: at(), pending: h.pending, oldestAgeMs: h.oldestAgeMs });
      await sleep(250);
    }
  })();

  fleet.start();
  const dropper = setInterval(() => fleet.dropOne(random), options.dropEveryMs);

  const sendSeconds = options.events / options.rate;
  let outageEndedAt: number | null = null;
  const chaos = (async () => {
    await sleep(sendSeconds * 150 - at());
    fault('database SIGKILL #1, restarted at once');
    await target.killDatabase();
    await target.startDatabase();
    fault('database back (#1)');
    await sleep(sendSeconds * 350 - at());
    fault(`database SIGKILL #2, held down ${options.outageSeconds} s`);
    await target.killDatabase();
    await sleep(options.outageSeconds * 1000);
    await target.startDatabase();
    outageEndedAt = at();
    fault('database back (#2)');
    await sleep(sendSeconds * 700 - at());
    fault('application SIGKILL, restarted at once');
    await target.restartApplication();
    fault('application back');
  })();

  const deliveries: Promise<DeliveryOutcome>[] = [];
  for (let i = 0; i < options.events; i++) {
    await sleep((i / options.rate) * 1000 - at());
    const event = traffic.next();
    deliveries.push(
      deliverLikeSlack(event.body, {
        url: () => target.httpUrl(),
        secret: target.signingSecret,
        compress: options.compress,
        signal: stopRetries.signal,
      }),
    );
  }
  log(
    `${(at() / 1000).toFixed(1)} s: all ${options.events} events sent; waiting for Slack's retries`,
  );
  await chaos;
  const outcomes = await Promise.all(deliveries);
  clearInterval(dropper);
  log(`${(at() / 1000).toFixed(1)} s: every delivery acknowledged or given up`);

  // Drained: the store answers and nothing waits in the inbox.
  const deadline = Date.now() + options.settleTimeoutMs;
  let drainedAt: number | null = null;
  while (Date.now() < deadline) {
    const h = await readInboxHealth(target.httpUrl());
    if (h !== null && h.status === 200 && h.pending === 0) {
      drainedAt = Date.now();
      break;
    }
    await sleep(100);
  }
  log(
    drainedAt === null
      ? 'the inbox did not drain in time'
      : `${(at() / 1000).toFixed(1)} s: inbox drained`,
  );

  const expected = new Map([...traffic.expectedCounts()].filter(([, n]) => n > 0));
  let convergeMs: number | null = null;
  let api: Map<string, number> | null = null;
  let shown = fleet.shown();
  while (drainedAt !== null && Date.now() < deadline) {
    api = await served(target.httpUrl());
    shown = fleet.shown();
    if (api !== null && mapsEqual(api, expected) && shown.every((s) => mapsEqual(s, expected))) {
      convergeMs = Date.now() - drainedAt;
      break;
    }
    await sleep(100);
  }
  api ??= await served(target.httpUrl());
  sampling = false;
  await sampler;
  stopRetries.abort();
  fleet.stop();

  let lost = 0;
  let doubled = 0;
  for (const emoji of new Set([...expected.keys(), ...(api?.keys() ?? [])])) {
    const diff = (api?.get(emoji) ?? 0) - (expected.get(emoji) ?? 0);
    if (diff < 0) lost -= diff;
    else doubled += diff;
  }
  const ackMs = outcomes
    .map((o) => o.ackMs)
    .filter((v): v is number => v !== null)
    .sort((a, b) => a - b);
  const endedAt = outageEndedAt as number | null;
  const caughtUp =
    endedAt === null
      ? undefined
      : health.find(
          (h) =>
            h.atMs > endedAt && h.pending <= Math.max(1, options.rate) && h.oldestAgeMs <= 1_000,
        );
  return {
    target: target.name,
    sent: options.events,
    acknowledged: outcomes.filter((o) => o.acknowledged).length,
    gaveUp: outcomes.filter((o) => !o.acknowledged).length,
    lost,
    doubled,
    dashboards: fleet.size,
    converged: convergeMs !== null,
    convergeMs,
    dashboardsConverged: shown.filter((s) => mapsEqual(s, expected)).length,
    // The first health sample after the outage with nothing older than 1 s waiting; else the
    // final drain (when the application restart hid the samples).
    inboxDrainAfterOutageMs:
      endedAt === null
        ? null
        : caughtUp !== undefined
          ? caughtUp.atMs - endedAt
          : drainedAt === null
            ? null
            : drainedAt - started - endedAt,
    maxBacklog: Math.max(0, ...health.map((h) => h.pending)),
    failedAttempts: outcomes.reduce((n, o) => n + o.attempts - (o.acknowledged ? 1 : 0), 0),
    retriedEvents: outcomes.filter((o) => o.attempts > 1).length,
    ackP99Ms: ackMs[Math.min(ackMs.length - 1, Math.floor(ackMs.length * 0.99))] ?? 0,
    dashboardConnects: fleet.connects,
    compress: options.compress,
    outageSeconds: options.outageSeconds,
    runMs: at(),
    faults,
  };
}
