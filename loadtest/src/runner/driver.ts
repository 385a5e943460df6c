/**
 * The event driver: signs Slack events and POSTs them to a target, open loop (each request is
 * sent at its scheduled time whatever the earlier ones are doing, and its acknowledgement latency
 * is measured from that scheduled time, so a stalled server cannot hide its queue).
 *
 * Send times are read on the shared wall clock, `performance.timeOrigin + performance.now()`:
 * the client workers stamp receipts on the same clock (see client-worker.ts).
 */
import { performance } from 'node:perf_hooks';
import { reactionEventPayload, signSlackBody } from '@reactometer/shared/testing';
import type { SlackTraffic } from '../slack-traffic.js';
import { createHistogram, recordMs, type Histogram } from '@reactometer/devkit';

export const wallNow = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Per-request bound: Slack itself gives up after 3 s; a request still open after 10 s is failed. */
export const POST_TIMEOUT_MS = 10_000;

let seq = 0;
const RUN = `${Date.now().toString(36)}${process.pid.toString(36)}`;

export interface PostOutcome {
  readonly status: number | 'network' | 'timeout';
}

/** POSTs a signed body to `<httpUrl>/slack/events`. */
export async function postSigned(
  httpUrl: string,
  secret: string,
  body: Record<string, unknown>,
  extraHeaders: Record<string, string> = {},
): Promise<PostOutcome> {
  const req = signSlackBody(secret, body, Math.floor(Date.now() / 1000), extraHeaders);
  try {
    const res = await fetch(`${httpUrl}/slack/events`, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    });
    await res.arrayBuffer();
    return { status: res.status };
  } catch (err) {
    return { status: (err as Error).name === 'TimeoutError' ? 'timeout' : 'network' };
  }
}

/** A fresh `reaction_added` of `emoji` by a new user (so every one flips a count). */
export function addEventBody(emoji: string): Record<string, unknown> {
  seq++;
  const nowS = Math.floor(Date.now() / 1000);
  return reactionEventPayload({
    eventId: `Ev${RUN}X${seq.toString(36)}`,
    type: 'reaction_added',
    user: `U${RUN}${seq.toString(36)}`.toUpperCase(),
    reaction: emoji,
    eventTs: `${nowS}.${String(seq % 1_000_000).padStart(6, '0')}`,
    item: { type: 'message', channel: 'C0LOADTEST', ts: '1700000000.000100' },
  });
}

/** A unique emoji-name prefix for one step: the workers match `<prefix><event index>`. */
export function stepPrefix(tag: string): string {
  seq++;
  return `rm${RUN}${tag}${seq.toString(36)}e`;
}

export interface OpenLoopResult {
  readonly ackHist: Histogram;
  readonly sent: number;
  readonly failed: number;
  /** Failures by status ("503", "network", "timeout"). */
  readonly failures: Record<string, number>;
  /** Send time (wall clock ms) per event index; null where it was not sent. */
  readonly sentAt: (number | null)[];
  readonly elapsedSeconds: number;
}

/**
 * Sends `count` requests at `ratePerSecond`, request i built by `body(i)`, bounded by `maxMs`
 * (requests not yet due then are not sent). Waits for the last answers (each bounded by
 * POST_TIMEOUT_MS).
 */
export async function openLoop(
  httpUrl: string,
  secret: string,
  options: {
    count: number;
    ratePerSecond: number;
    maxMs: number;
    body: (i: number) => { body: Record<string, unknown>; headers?: Record<string, string> };
    onProgress?: (sent: number) => void;
  },
): Promise<OpenLoopResult> {
  const ackHist = createHistogram();
  const failures: Record<string, number> = {};
  const sentAt: (number | null)[] = new Array<number | null>(options.count).fill(null);
  const interval = 1000 / options.ratePerSecond;
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  let failed = 0;
  let sent = 0;
  for (let i = 0; i < options.count; i++) {
    const scheduled = start + i * interval;
    if (scheduled - start > options.maxMs) break;
    const wait = scheduled - performance.now();
    if (wait > 0) await sleep(wait);
    const { body, headers } = options.body(i);
    sentAt[i] = wallNow();
    sent++;
    options.onProgress?.(sent);
    inFlight.push(
      postSigned(httpUrl, secret, body, headers).then(({ status }) => {
        recordMs(ackHist, performance.now() - scheduled);
        if (typeof status !== 'number' || status < 200 || status > 299) {
          failed++;
          failures[String(status)] = (failures[String(status)] ?? 0) + 1;
        }
      }),
    );
  }
  await Promise.all(inFlight);
  return {
    ackHist,
    sent,
    failed,
    failures,
    sentAt,
    elapsedSeconds: (performance.now() - start) / 1000,
  };
}

/** Realistic traffic (Zipf emoji, removals, Slack retries) for `openLoop`. */
export function trafficBodies(traffic: SlackTraffic): (i: number) => {
  body: Record<string, unknown>;
  headers: Record<string, string>;
} {
  return () => {
    const ev = traffic.next();
    const headers: Record<string, string> =
      ev.retryNum > 0
        ? { 'x-slack-retry-num': String(ev.retryNum), 'x-slack-retry-reason': 'http_timeout' }
        : {};
    return { body: ev.body, headers };
  };
}
