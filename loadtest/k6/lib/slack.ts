/**
 * Slack Events API traffic as Slack sends it: `event_callback` bodies for reaction_added /
 * reaction_removed, signed with the app's signing secret (v0, HMAC-SHA256 over
 * `v0:{timestamp}:{raw body}`), unique event ids and `event_ts` values with microseconds.
 */
import crypto from 'k6/crypto';
import http from 'k6/http';
import type { RefinedResponse, ResponseType } from 'k6/http';
import { TARGET, TRAFFIC, requireSigningSecret } from './config.ts';
import { ackFailed, ackMs } from './metrics.ts';

export type ReactionEventType = 'reaction_added' | 'reaction_removed';

export interface ReactionEventSpec {
  readonly eventId: string;
  readonly type: ReactionEventType;
  readonly user: string;
  readonly reaction: string;
  readonly channel: string;
  /** The reacted-to message's ts. */
  readonly messageTs: string;
  /** Slack `event_ts`, e.g. "1700000000.000100". */
  readonly eventTs: string;
  readonly team?: string;
}

/** The `X-Slack-Signature` value for a body sent at `timestampSeconds`. */
export function slackSignature(secret: string, timestampSeconds: string, body: string): string {
  return `v0=${crypto.hmac('sha256', secret, `v0:${timestampSeconds}:${body}`, 'hex')}`;
}

/** Headers of a signed Events API request; the signature covers exactly `body`. */
export function signedHeaders(body: string, nowMs: number = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    'Content-Type': 'application/json',
    'X-Slack-Request-Timestamp': timestamp,
    'X-Slack-Signature': slackSignature(requireSigningSecret(), timestamp, body),
  };
}

/** An Events API body shaped like Slack's own deliveries (same shape as shared's payloads.ts). */
export function reactionEventBody(spec: ReactionEventSpec): string {
  const team = spec.team ?? 'T0LOADTEST';
  return JSON.stringify({
    token: 'unused-verification-token',
    team_id: team,
    api_app_id: 'A0REACTOM',
    event: {
      type: spec.type,
      user: spec.user,
      reaction: spec.reaction,
      item_user: 'U0AUTHOR',
      item: { type: 'message', channel: spec.channel, ts: spec.messageTs },
      event_ts: spec.eventTs,
    },
    type: 'event_callback',
    event_id: spec.eventId,
    event_time: Number(spec.eventTs.split('.')[0]),
    authorizations: [{ team_id: team, user_id: 'U0BOT', is_bot: true }],
  });
}

/**
 * Slack `event_ts` values that strictly increase within a VU (the counting model applies an
 * event only if its event_ts is later than the stored one), microseconds from the wall clock.
 */
export class EventClock {
  private lastMicros = 0;

  next(nowMs: number = Date.now()): string {
    // Date.now() * 1000 is about 1.7e15, well inside 2^53: exact integer arithmetic.
    let micros = Math.floor(nowMs) * 1000;
    if (micros <= this.lastMicros) micros = this.lastMicros + 1;
    this.lastMicros = micros;
    const seconds = Math.floor(micros / 1_000_000);
    return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}`;
  }
}

/** Event ids unique per run, VU and sequence number, in Slack's style (`Ev` + base36). */
export class EventIds {
  private seq = 0;
  constructor(
    private readonly runId: string,
    private readonly vuId: number,
  ) {}

  next(): string {
    this.seq++;
    return `Ev${`${this.runId}V${this.vuId.toString(36)}N${this.seq.toString(36)}`.toUpperCase()}`;
  }
}

const EMOJI = TRAFFIC.emojiByPopularity;

/** Cumulative Zipf weights over EMOJI: a few reactions dominate, as in real workspaces. */
const EMOJI_CDF: readonly number[] = (() => {
  const weights = EMOJI.map((_, i) => 1 / Math.pow(i + 1, TRAFFIC.zipfExponent));
  const total = weights.reduce((a, b) => a + b, 0);
  let sum = 0;
  return weights.map((w) => (sum += w / total));
})();

function pickEmoji(random: () => number): string {
  const r = random();
  let i = EMOJI_CDF.findIndex((c) => r <= c);
  if (i < 0) i = EMOJI.length - 1;
  const [name, tones] = EMOJI[i] as readonly [string, boolean];
  // About a third of skin-tone-capable reactions carry a tone; they count as the base emoji.
  return tones && random() < 0.3 ? `${name}::skin-tone-${2 + Math.floor(random() * 5)}` : name;
}

interface Held {
  readonly user: string;
  readonly reaction: string;
  readonly channel: string;
  readonly messageTs: string;
}

/**
 * A realistic per-VU stream of reaction events: skewed emoji popularity, several users (unique to
 * the VU, so VUs never race on the same reaction), a few channels with recent messages getting
 * most reactions, ~12% removals that take back a reaction this VU added.
 */
export class ReactionTraffic {
  private readonly clock = new EventClock();
  private readonly ids: EventIds;
  private readonly held: Held[] = [];
  private readonly heldKeys = new Set<string>();
  private readonly messages: { channel: string; ts: string }[] = [];

  constructor(
    runId: string,
    private readonly vuId: number,
    private readonly random: () => number = Math.random,
  ) {
    this.ids = new EventIds(runId, vuId);
  }

  private pickMessage(): { channel: string; ts: string } {
    if (this.messages.length === 0 || this.random() < 0.05) {
      const message = { channel: `C0LOAD${Math.floor(this.random() * 6)}`, ts: this.clock.next() };
      this.messages.push(message);
      if (this.messages.length > 50) this.messages.shift();
      return message;
    }
    const back = Math.min(this.messages.length - 1, Math.floor(-Math.log(1 - this.random()) * 5));
    return this.messages[this.messages.length - 1 - back] as { channel: string; ts: string };
  }

  /** The next event's spec (add or remove). */
  next(): ReactionEventSpec {
    if (this.held.length > 0 && this.random() < 0.12) {
      const index = Math.floor(this.random() * this.held.length);
      const h = this.held[index] as Held;
      this.held[index] = this.held[this.held.length - 1] as Held;
      this.held.pop();
      this.heldKeys.delete(`${h.user}|${h.reaction}|${h.channel}|${h.messageTs}`);
      return {
        ...h,
        type: 'reaction_removed',
        eventId: this.ids.next(),
        eventTs: this.clock.next(),
      };
    }
    for (;;) {
      const message = this.pickMessage();
      const user = `U0V${this.vuId.toString(36).toUpperCase()}X${Math.floor(this.random() * 40)}`;
      const reaction = pickEmoji(this.random);
      const key = `${user}|${reaction}|${message.channel}|${message.ts}`;
      if (this.heldKeys.has(key)) continue; // adding a held reaction again would change nothing
      const h: Held = { user, reaction, channel: message.channel, messageTs: message.ts };
      this.held.push(h);
      this.heldKeys.add(key);
      if (this.held.length > 5000) {
        const dropped = this.held.shift() as Held;
        this.heldKeys.delete(
          `${dropped.user}|${dropped.reaction}|${dropped.channel}|${dropped.messageTs}`,
        );
      }
      return { ...h, type: 'reaction_added', eventId: this.ids.next(), eventTs: this.clock.next() };
    }
  }
}

export interface PostResult {
  readonly ok: boolean;
  readonly status: number;
  /** Wall-clock ms just before the request was handed to k6. */
  readonly sentMs: number;
}

const EVENTS_PATH = '/slack/events';

function requestParams(body: string, tags: Record<string, string>) {
  return {
    headers: signedHeaders(body),
    tags: { name: 'POST /slack/events', ...tags },
    timeout: '10s',
  };
}

function record(
  res: RefinedResponse<ResponseType | undefined>,
  startedMs: number,
  tags: Record<string, string>,
): boolean {
  const ok = res.status >= 200 && res.status < 300;
  ackMs.add(Date.now() - startedMs, tags);
  if (!ok) ackFailed.add(1, { ...tags, status: String(res.status) });
  return ok;
}

/**
 * Signs and POSTs one event, blocking this VU until answered. Records ack_ms from `scheduledMs`
 * (defaults to now; an arrival-rate iteration passes its start, so queueing in k6 counts).
 */
export function postEvent(
  body: string,
  tags: Record<string, string> = {},
  scheduledMs: number = Date.now(),
): PostResult {
  const sentMs = Date.now();
  const res = http.post(`${TARGET.httpUrl}${EVENTS_PATH}`, body, requestParams(body, tags));
  return { ok: record(res, scheduledMs, tags), status: res.status, sentMs };
}

/** As postEvent, without blocking the VU's event loop (for VUs that also hold WebSockets). */
export async function postEventAsync(
  body: string,
  tags: Record<string, string> = {},
): Promise<PostResult> {
  const sentMs = Date.now();
  const res = await http.asyncRequest(
    'POST',
    `${TARGET.httpUrl}${EVENTS_PATH}`,
    body,
    requestParams(body, tags),
  );
  return { ok: record(res, sentMs, tags), status: res.status, sentMs };
}

/** Signs and POSTs one event without recording ack metrics (setup and cleanup traffic). */
export function postSigned(body: string, tags: Record<string, string> = {}): number {
  return http.post(`${TARGET.httpUrl}${EVENTS_PATH}`, body, requestParams(body, tags)).status;
}

/**
 * Fails fast, before any load, when the target is down or rejects our signatures: otherwise a
 * wrong SLACK_SIGNING_SECRET would show up only as thousands of 401s.
 */
export function preflight(): void {
  const health = http.get(`${TARGET.httpUrl}/healthz`, {
    tags: { name: 'GET /healthz' },
    timeout: '10s',
  });
  if (health.status !== 200) {
    throw new Error(
      `${TARGET.httpUrl}/healthz answered ${health.status}: is the ${TARGET.name} deployment up?`,
    );
  }
  const challenge = `preflight-${Date.now()}`;
  const body = JSON.stringify({ token: 'unused', challenge, type: 'url_verification' });
  // responseType: scripts may set discardResponseBodies, but this answer must be read.
  const res = http.post(`${TARGET.httpUrl}${EVENTS_PATH}`, body, {
    ...requestParams(body, { kind: 'preflight' }),
    responseType: 'text',
  });
  if (res.status === 401) {
    throw new Error(
      'POST /slack/events answered 401: SLACK_SIGNING_SECRET does not match the deployment',
    );
  }
  if (res.status !== 200 || typeof res.body !== 'string' || !res.body.includes(challenge)) {
    throw new Error(`url_verification answered ${res.status} ${String(res.body).slice(0, 200)}`);
  }
}
