import { GoneConnectionError, ThrottledError } from '../errors.js';
import type { Clock, ConnectionRegistry, ConnectionSender } from '../ports.js';

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
  readonly throttled: number;
  readonly durationMs: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends one already-serialised message to every live connection, at bounded concurrency.
 * A gone connection is removed (that id only, never the sender's); throttling is retried with
 * exponential backoff; any single failure never stops delivery to the others. A repeated call
 * with the same message is harmless: messages carry absolute counts and versions.
 */
export async function fanOut(data: string, options: FanOutOptions): Promise<FanOutReport> {
  const started = options.clock.now();
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const gone: string[] = [];
  const failed: string[] = [];
  let attempted = 0;
  let delivered = 0;
  let throttled = 0;

  const deliver = async (id: string): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
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
          await sleep(random() * options.baseBackoffMs * 2 ** (attempt - 1));
          continue;
        }
        failed.push(id);
        return;
      }
    }
  };

  // A small worker pool over each page: at most `concurrency` sends in flight, and the next page
  // is read only when this one is done, so memory stays bounded however many connections exist.
  const nowSeconds = Math.floor(options.clock.now() / 1000);
  for await (const page of options.registry.pages(nowSeconds)) {
    let next = 0;
    const worker = async () => {
      while (next < page.length) {
        const record = page[next++];
        if (record === undefined) break;
        attempted++;
        await deliver(record.id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, page.length) }, worker));
  }
  return {
    attempted,
    delivered,
    gone,
    failed,
    throttled,
    durationMs: options.clock.now() - started,
  };
}
