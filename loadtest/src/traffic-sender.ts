/**
 * Signs and delivers a `SlackTraffic` stream to one or more deployments at a steady rate: every
 * target gets the same deliveries in the same order, so their counts can be compared.
 */
import { signSlackBody } from '@reactometer/shared/testing';
import type { SlackTraffic, TrafficEvent } from './slack-traffic.js';

export interface TargetStats {
  readonly url: string;
  sent: number;
  ok: number;
  /** Deliveries answered with a non-2xx status or a network error, by status ("network"). */
  readonly failures: Record<string, number>;
}

export interface SendOptions {
  readonly targets: readonly string[];
  readonly secret: string;
  /** Events per second. */
  readonly rate: number;
  /** Stop after this many deliveries (retries included); Infinity for no limit. */
  readonly maxEvents: number;
  /** Stop after this many milliseconds; Infinity for no limit. */
  readonly durationMs: number;
  readonly signal?: AbortSignal;
  /** Called after every delivery to all targets. */
  readonly onDelivered?: (event: TrafficEvent, stats: readonly TargetStats[]) => void;
  /** Per-request timeout. */
  readonly timeoutMs?: number;
}

async function deliver(
  url: string,
  event: TrafficEvent,
  secret: string,
  stats: TargetStats,
  timeoutMs: number,
): Promise<void> {
  const extra: Record<string, string> =
    event.retryNum > 0
      ? { 'x-slack-retry-num': String(event.retryNum), 'x-slack-retry-reason': 'http_timeout' }
      : {};
  // Signed at send time, as Slack does for each attempt: the timestamp must be fresh.
  const req = signSlackBody(secret, event.body, Math.floor(Date.now() / 1000), extra);
  stats.sent++;
  try {
    const res = await fetch(`${url.replace(/\/$/, '')}/slack/events`, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer();
    if (res.ok) stats.ok++;
    else stats.failures[String(res.status)] = (stats.failures[String(res.status)] ?? 0) + 1;
  } catch {
    stats.failures.network = (stats.failures.network ?? 0) + 1;
  }
}

/** Sends until `maxEvents`, `durationMs` or the abort signal, whichever comes first. */
export async function sendTraffic(
  traffic: SlackTraffic,
  options: SendOptions,
): Promise<TargetStats[]> {
  const stats: TargetStats[] = options.targets.map((url) => ({
    url,
    sent: 0,
    ok: 0,
    failures: {},
  }));
  const interval = 1000 / options.rate;
  const start = Date.now();
  for (let i = 0; i < options.maxEvents; i++) {
    if (options.signal?.aborted) break;
    const due = start + i * interval;
    if (due - start >= options.durationMs) break;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const event = traffic.next();
    // One event at a time, to every target at once: each deployment sees the same order.
    await Promise.all(
      stats.map((s) => deliver(s.url, event, options.secret, s, options.timeoutMs ?? 10_000)),
    );
    options.onDelivered?.(event, stats);
  }
  return stats;
}
