/**
 * Delivers one Slack event the way Slack does: signed afresh for every attempt, a 3 s deadline for
 * the answer, and on a failure (no answer in time, or any status but 2xx) up to three retries:
 * nearly at once, after about a minute and after about five minutes (Slack's Events API retry
 * schedule). After the third failed retry Slack gives up and the event is gone for good. The
 * schedule is divided by `compress` so that a run stays short; the 3 s deadline is not.
 */
import { signSlackBody } from '@reactometer/shared/testing';

/** Slack's retry offsets from the first attempt, in seconds (first retry "immediately"). */
export const SLACK_RETRY_OFFSETS_S = [0, 60, 300] as const;
/** How long Slack waits for an answer before it counts the attempt as failed. */
export const SLACK_ANSWER_DEADLINE_MS = 3_000;

export interface DeliveryOutcome {
  readonly acknowledged: boolean;
  /** Attempts made (1 to 4). */
  readonly attempts: number;
  /** ms from the first attempt to the 2xx answer, when acknowledged. */
  readonly ackMs: number | null;
  /** The last failure seen (`status 503`, `timeout`, `connection refused`, ...). */
  readonly lastFailure: string | null;
}

export interface DeliveryOptions {
  readonly url: () => string;
  readonly secret: string;
  /** Divides Slack's retry offsets (10: the 5-minute retry comes after 30 s). */
  readonly compress: number;
  /** Stops waiting for retries (the run is over). */
  readonly signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    // Thousands of deliveries wait on one signal: each takes its listener off when it wakes.
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

async function attempt(
  opts: DeliveryOptions,
  body: Record<string, unknown>,
  retryNum: number,
  lastFailure: string | null,
): Promise<string | null> {
  const retryHeaders: Record<string, string> =
    retryNum === 0
      ? {}
      : {
          'x-slack-retry-num': String(retryNum),
          'x-slack-retry-reason': lastFailure === 'timeout' ? 'http_timeout' : 'http_error',
        };
  const signed = signSlackBody(opts.secret, body, Math.floor(Date.now() / 1000), retryHeaders);
  try {
    const res = await fetch(`${opts.url()}/slack/events`, {
      method: 'POST',
      headers: signed.headers,
      body: new Uint8Array(signed.body),
      signal: AbortSignal.timeout(SLACK_ANSWER_DEADLINE_MS),
    });
    await res.arrayBuffer();
    return res.status >= 200 && res.status < 300 ? null : `status ${res.status}`;
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
    const code = (err as { cause?: { code?: string } }).cause?.code;
    return code === 'ECONNREFUSED' ? 'connection refused' : `error ${code ?? String(err)}`;
  }
}

/** Delivers `body` with Slack's retries; resolves when acknowledged or given up. */
export async function deliverLikeSlack(
  body: Record<string, unknown>,
  opts: DeliveryOptions,
): Promise<DeliveryOutcome> {
  const first = Date.now();
  let lastFailure = await attempt(opts, body, 0, null);
  let attempts = 1;
  for (const offsetS of SLACK_RETRY_OFFSETS_S) {
    if (lastFailure === null) break;
    await sleep(first + (offsetS * 1000) / opts.compress - Date.now(), opts.signal);
    lastFailure = await attempt(opts, body, attempts, lastFailure);
    attempts++;
  }
  return {
    acknowledged: lastFailure === null,
    attempts,
    ackMs: lastFailure === null ? Date.now() - first : null,
    lastFailure,
  };
}
