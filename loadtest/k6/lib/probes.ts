/**
 * Probe events: how a receiving VU measures delivery latency without sharing memory with the
 * VU that sent the event.
 *
 * k6 VUs share nothing at run time (each has its own JS runtime, and in a k6-operator run they
 * are not even in the same process). So the driver writes the send time into the event itself:
 * every probe adds a reaction whose name is unique and carries its own wall-clock send time,
 *
 *     lt_<runId>_<origin>_<stream>_<seq>_<sentMs>     e.g. lt_k3x9q2_r0_c1000_7_1718000000123
 *
 * `origin` names the k6 instance that sent it (see runnerOrigin): in a k6-operator run every
 * runner runs setup() and teardown() (grafana/k6-operator#223), so each removes only its own.
 * Each probe flips a fresh reaction (count 0 -> 1), so the server pushes exactly one update for
 * it, `{emoji: <that name>, count: 1, version}`, to every client. A receiver parses the name and
 * records `receivedMs - sentMs`, where receivedMs is the time k6's Go reader took the frame off
 * the socket (MessageEvent.timestamp), so a busy JS event loop in the receiving VU does not
 * inflate the figure.
 *
 * Assumption: sender and receivers read the same clock. True on one machine; across k6-operator
 * pods the error is the nodes' clock offset (NTP/chrony on a cluster: typically well under 1 ms,
 * but check `chronyc tracking` before trusting sub-10 ms differences).
 *
 * Which probes a client should have received is read back from the server (GET /reactions lists
 * every probe that was stored), so a POST that failed is an ack failure, not a missed delivery.
 * Each runner's probes are removed again in its teardown (reaction_removed), leaving counts as
 * they were.
 */
import { sleep } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { TARGET, env, envFlag } from './config.ts';
import {
  EventClock,
  EventIds,
  postEvent,
  postEventAsync,
  postSigned,
  reactionEventBody,
} from './slack.ts';
import type { PostResult } from './slack.ts';

export const PROBE_PREFIX = 'lt_';
const PROBE_NAME = /^lt_([a-z0-9]{1,16})_(r\d{1,5})_([a-z0-9]{1,24})_(\d{1,9})_(\d{13})$/;
/** Every probe is a reaction of this user on this message (per run), so teardown can undo it. */
const PROBE_USER = 'U0LOADPROBE';
const PROBE_CHANNEL = 'C0LOADPROBE';

export interface Probe {
  readonly emoji: string;
  readonly runId: string;
  /** The k6 instance that sent it. */
  readonly origin: string;
  readonly stream: string;
  readonly seq: number;
  readonly sentMs: number;
  /** `<stream>_<seq>`: what clients track. */
  readonly key: string;
}

/** Shared by every VU through setup()'s return value (and k6-operator: RUN_ID). */
export interface RunContext {
  readonly runId: string;
  /** This k6 instance (setup() runs once per runner); names the probes it sends. */
  readonly origin: string;
  /** ts of the message all probes of this run react to. */
  readonly messageTs: string;
  readonly startedMs: number;
}

export function probeName(
  run: Pick<RunContext, 'runId' | 'origin'>,
  stream: string,
  seq: number,
  sentMs: number,
): string {
  return `${PROBE_PREFIX}${run.runId}_${run.origin}_${stream}_${seq}_${Math.floor(sentMs)}`;
}

export function parseProbe(emoji: string): Probe | null {
  const m = PROBE_NAME.exec(emoji);
  if (m === null) return null;
  const [, runId, origin, stream, seq, sentMs] = m as unknown as string[] as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return {
    emoji,
    runId,
    origin,
    stream,
    seq: Number(seq),
    sentMs: Number(sentMs),
    key: `${stream}_${seq}`,
  };
}

/**
 * This k6 instance among the runners of a distributed run, from its execution segment (the
 * k6-operator starts runner i of n with `--execution-segment i/n:(i+1)/n`): "r0" for a run on
 * one machine or the first runner, "r2500" for a runner whose segment starts at 1/4. Call in
 * setup() (exec.test.options is not available in the init context).
 */
export function runnerOrigin(): string {
  const segment = (exec.test.options as { executionSegment?: unknown }).executionSegment;
  const start = typeof segment === 'string' && segment.includes(':') ? segment.split(':')[0] : '0';
  const [num, den] = (start ?? '0').split('/');
  const fraction = den === undefined ? Number(num) : Number(num) / Number(den);
  return `r${Number.isFinite(fraction) ? Math.round(fraction * 10_000) : 0}`;
}

/**
 * The run's identity: RUN_ID when given (distributed runs must give one, so that every runner
 * agrees: each runs setup() itself), otherwise random; and this runner's origin. Call from
 * setup().
 */
export function newRunContext(): RunContext {
  const given = env('RUN_ID');
  if (given !== undefined && !/^[a-z0-9]{1,16}$/.test(given)) {
    throw new Error(`RUN_ID must be 1-16 lowercase letters or digits (got "${given}")`);
  }
  const runId =
    given ??
    Math.floor(Math.random() * 36 ** 8)
      .toString(36)
      .padStart(8, '0');
  const startedMs = Date.now();
  return { runId, origin: runnerOrigin(), messageTs: new EventClock().next(startedMs), startedMs };
}

/**
 * The driver side: posts probes. One ProbeSender per driver VU; its event ids and event_ts are
 * unique and increasing.
 */
export class ProbeSender {
  private readonly clock = new EventClock();
  private readonly ids: EventIds;

  constructor(
    private readonly run: RunContext,
    vuId: number,
  ) {
    this.ids = new EventIds(run.runId, vuId);
  }

  private body(stream: string, seq: number, sentMs: number): string {
    return reactionEventBody({
      eventId: this.ids.next(),
      type: 'reaction_added',
      user: PROBE_USER,
      reaction: probeName(this.run, stream, seq, sentMs),
      channel: PROBE_CHANNEL,
      messageTs: this.run.messageTs,
      eventTs: this.clock.next(sentMs),
    });
  }

  /** Blocking send, for driver VUs that hold no sockets. */
  send(stream: string, seq: number): PostResult {
    const sentMs = Date.now();
    return postEvent(this.body(stream, seq, sentMs), { kind: 'probe', stream }, sentMs);
  }

  /** Non-blocking send, for VUs that also hold sockets. */
  sendAsync(stream: string, seq: number): Promise<PostResult> {
    return postEventAsync(this.body(stream, seq, Date.now()), { kind: 'probe', stream });
  }
}

interface ReactionCount {
  readonly emoji: string;
  readonly count: number;
  readonly version: number;
}

function parseReactions(body: unknown): ReactionCount[] | null {
  if (typeof body !== 'string') return null;
  try {
    const json = JSON.parse(body) as { reactions?: unknown };
    return Array.isArray(json.reactions) ? (json.reactions as ReactionCount[]) : null;
  } catch {
    return null;
  }
}

function runProbes(
  body: unknown,
  runId: string,
  stream: string | undefined,
  origin?: string,
): Probe[] | null {
  const reactions = parseReactions(body);
  if (reactions === null) return null;
  const probes: Probe[] = [];
  for (const r of reactions) {
    if (typeof r.emoji !== 'string' || !(r.count > 0)) continue;
    const probe = parseProbe(r.emoji);
    if (
      probe !== null &&
      probe.runId === runId &&
      (stream === undefined || probe.stream === stream) &&
      (origin === undefined || probe.origin === origin)
    ) {
      probes.push(probe);
    }
  }
  return probes.sort((a, b) => a.sentMs - b.sentMs);
}

const REACTIONS_PARAMS = {
  tags: { name: 'GET /reactions' },
  timeout: '30s',
  responseType: 'text' as const,
};

/** The run's stored probes (of one stream), or null when the server did not say. Non-blocking. */
export async function storedProbesAsync(runId: string, stream?: string): Promise<Probe[] | null> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const res = await http.asyncRequest(
      'GET',
      `${TARGET.httpUrl}/reactions`,
      null,
      REACTIONS_PARAMS,
    );
    const probes = res.status === 200 ? runProbes(res.body, runId, stream) : null;
    if (probes !== null) return probes;
    console.warn(`GET /reactions answered ${res.status} (attempt ${attempt}/3)`);
  }
  return null;
}

/**
 * Posts one cleanup event, retrying a 5xx or no answer twice (1 s, then 2 s later) as Slack
 * retries its deliveries: a loaded deployment answers 503 when its store is slow, and teardown
 * must still leave the counts as they were. Same body, so a retry is a duplicate delivery, which
 * changes nothing.
 */
function postCleanup(body: string): boolean {
  for (let attempt = 1; ; attempt++) {
    const status = postSigned(body, { kind: 'cleanup' });
    if (status >= 200 && status < 300) return true;
    if ((status >= 400 && status < 500) || attempt === 3) return false;
    sleep(attempt);
  }
}

/** Longest a deployment may serve a cached count (serverless: `COUNTS_CACHE_MS`, 1 s). */
const READ_CACHE_SECONDS = 1;

/**
 * Waits (blocking, at most `timeoutSeconds`) until every event the deployment acknowledged has
 * been counted: a 200 means "stored in the inbox", counted shortly after. `/healthz` reports the
 * inbox's backlog as `inbox.pending`; then a cached read may still be `READ_CACHE_SECONDS` old.
 */
function waitForCounting(timeoutSeconds = 30): void {
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    const res = http.get(`${TARGET.httpUrl}/healthz`, {
      tags: { name: 'GET /healthz' },
      responseType: 'text',
    });
    let pending: number;
    try {
      const body = JSON.parse(String(res.body)) as { inbox?: { pending?: number } };
      pending = body.inbox?.pending ?? 0;
    } catch {
      pending = 0;
    }
    if (pending === 0) break;
    sleep(0.1);
  }
  sleep(READ_CACHE_SECONDS + 0.1);
}

/** The probes this runner sent in this run, blocking (teardown). */
function ownStoredProbes(run: RunContext): Probe[] | null {
  // Probes acknowledged at the end of the run may not be counted yet: the list would miss them,
  // and teardown would leave them behind.
  waitForCounting();
  for (let attempt = 1; attempt <= 3; attempt++) {
    const res = http.get(`${TARGET.httpUrl}/reactions`, REACTIONS_PARAMS);
    const probes =
      res.status === 200 ? runProbes(res.body, run.runId, undefined, run.origin) : null;
    if (probes !== null) return probes;
    console.warn(`GET /reactions answered ${res.status} (attempt ${attempt}/3)`);
    if (attempt < 3) sleep(attempt);
  }
  return null;
}

/**
 * Removes the probe reactions this runner sent (teardown), unless KEEP_PROBES=1. Only its own:
 * other runners of the same run tear down theirs (they reacted on their own message), and may
 * still be reading them back.
 */
export function removeRunProbes(run: RunContext): void {
  if (envFlag('KEEP_PROBES')) return;
  const probes = ownStoredProbes(run);
  // Thrown, not logged: the run must not look clean when the counts were left changed.
  if (probes === null) {
    throw new Error(`could not list reactions to remove the probes of run ${run.runId}`);
  }
  const clock = new EventClock();
  const ids = new EventIds(run.runId, 0);
  let failed = 0;
  for (const p of probes) {
    const body = reactionEventBody({
      eventId: ids.next(),
      type: 'reaction_removed',
      user: PROBE_USER,
      reaction: p.emoji,
      channel: PROBE_CHANNEL,
      messageTs: run.messageTs,
      eventTs: clock.next(),
    });
    if (!postCleanup(body)) failed++;
  }
  const text = `removed ${probes.length - failed}/${probes.length} probe reactions of run ${run.runId} runner ${run.origin}`;
  if (failed > 0) throw new Error(text);
  console.log(text);
}
