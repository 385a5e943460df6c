import { GoneConnectionError, ThrottledError } from '../errors.js';
import type {
  Clock,
  ConnectionRecord,
  ConnectionRegistry,
  ConnectionSender,
  ScanSegment,
} from '../ports.js';
import type { RateLimiter } from './token-bucket.js';

export interface FanOutOptions {
  readonly registry: ConnectionRegistry;
  readonly sender: ConnectionSender;
  readonly clock: Clock;
  /** Sends in flight at once. */
  readonly concurrency: number;
  /** Attempts per connection when throttled (the first included). */
  readonly maxAttempts: number;
  /** First backoff after a throttle; doubles each time, with full jitter. */
  readonly baseBackoffMs: number;
  /** Longest single backoff (default 2 s). */
  readonly maxBackoffMs?: number;
  /** Every request (retries included) takes a token first: this worker's share of the throttle. */
  readonly limiter?: RateLimiter;
  /** Only this slice of the connections (one worker of a sharded fan-out). */
  readonly segment?: ScanSegment;
  /** Injectable for tests; defaults to setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export interface FanOutReport {
  readonly attempted: number;
  readonly delivered: number;
  /** Connection ids found gone (410) and removed from the registry. */
  readonly gone: string[];
  /** Connection ids that failed for another reason (timeouts, exhausted retries); kept. */
  readonly failed: string[];
  /** Sends answered with a throttle and retried after a backoff. */
  readonly throttled: number;
  /** Records the registry returned twice in this fan-out, skipped (never sent twice). */
  readonly duplicatesSkipped: number;
  readonly durationMs: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Page = IteratorResult<readonly ConnectionRecord[]>;

/**
 * The records of `pages` one at a time to any number of concurrent takers, reading one page ahead:
 * the next page is requested as soon as the current one starts being sent, so a Scan round trip
 * overlaps the sends instead of stalling every worker at each page boundary.
 */
function recordSource(
  pages: AsyncIterable<readonly ConnectionRecord[]>,
): () => Promise<ConnectionRecord | undefined> {
  const iterator = pages[Symbol.asyncIterator]();
  let buffer: readonly ConnectionRecord[] = [];
  let position = 0;
  let ahead: Promise<Page> | null = iterator.next();
  // Settled later by whoever awaits it; this only keeps an early failure from being "unhandled".
  ahead.catch(() => undefined);
  let loading: Promise<void> | null = null;

  const load = async (): Promise<void> => {
    const page = await ahead!;
    if (page.done) {
      ahead = null;
      return;
    }
    buffer = page.value;
    position = 0;
    ahead = iterator.next();
    ahead.catch(() => undefined);
  };

  return async () => {
    for (;;) {
      if (position < buffer.length) return buffer[position++];
      if (ahead === null) return undefined;
      loading ??= load().finally(() => {
        loading = null;
      });
      await loading;
    }
  };
}

/**
 * Sends one already-serialised message to every live connection (or one segment of them), at
 * bounded concurrency and, with a limiter, bounded rate. A gone connection is removed (that id
 * only, never the sender's); throttling is retried with exponential backoff and full jitter; any
 * single failure never stops delivery to the others. No connection is sent the message twice in
 * one call: a record seen again is skipped, and a post that failed for any reason but a throttle
 * (which API Gateway answers before delivering) is not retried, since it may have arrived. A
 * repeated call with the same message is harmless: messages carry absolute counts and versions.
 */
export async function fanOut(data: string, options: FanOutOptions): Promise<FanOutReport> {
  const started = options.clock.now();
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const maxBackoffMs = options.maxBackoffMs ?? 2_000;
  const gone: string[] = [];
  const failed: string[] = [];
  const seen = new Set<string>();
  let attempted = 0;
  let delivered = 0;
  let throttled = 0;
  let duplicatesSkipped = 0;

  const deliver = async (id: string): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      if (options.limiter) await options.limiter.take();
      try {
        await options.sender.send(id, data);
        delivered++;
        return;
      } catch (err) {
        if (err instanceof GoneConnectionError) {
          gone.push(id);
          try {
            await options.registry.remove(id);
          } catch {
            // The TTL removes it eventually; keep going for the others.
          }
          return;
        }
        if (err instanceof ThrottledError && attempt < options.maxAttempts) {
          throttled++;
          await sleep(
            random() * Math.min(maxBackoffMs, options.baseBackoffMs * 2 ** (attempt - 1)),
          );
          continue;
        }
        failed.push(id);
        return;
      }
    }
  };

  // One pool of workers over every page (not one per page): a slow send holds one slot, never
  // the whole next page, and memory stays at two pages however many connections exist.
  const nowSeconds = Math.floor(options.clock.now() / 1000);
  const next = recordSource(options.registry.pages(nowSeconds, options.segment));
  const worker = async (): Promise<void> => {
    for (;;) {
      const record = await next();
      if (record === undefined) return;
      if (seen.has(record.id)) {
        duplicatesSkipped++;
        continue;
      }
      seen.add(record.id);
      attempted++;
      await deliver(record.id);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  return {
    attempted,
    delivered,
    gone,
    failed,
    throttled,
    duplicatesSkipped,
    durationMs: options.clock.now() - started,
  };
}

/** Adds the reports of the workers of one sharded fan-out into one. */
export function mergeFanOutReports(reports: readonly FanOutReport[]): FanOutReport {
  return {
    attempted: reports.reduce((n, r) => n + r.attempted, 0),
    delivered: reports.reduce((n, r) => n + r.delivered, 0),
    gone: reports.flatMap((r) => r.gone),
    failed: reports.flatMap((r) => r.failed),
    throttled: reports.reduce((n, r) => n + r.throttled, 0),
    duplicatesSkipped: reports.reduce((n, r) => n + r.duplicatesSkipped, 0),
    durationMs: Math.max(0, ...reports.map((r) => r.durationMs)),
  };
}
