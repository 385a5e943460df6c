/**
 * Waiting helpers for tests and tools that drive real servers: poll until something holds, or give
 * up with a message that says what was awaited and what was last seen, instead of hanging until
 * Jest's own timeout (whose message names nothing).
 */

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

export interface EventuallyOptions {
  /** Default 10 s. */
  readonly timeoutMs?: number;
  /** Pause between reads; default 50 ms. */
  readonly intervalMs?: number;
}

/**
 * Reads until `accept` holds for the value read (default: any truthy value) and returns it. A read
 * that throws counts as "not yet"; on timeout the error names `description`, the last value and
 * the last error.
 */
export async function eventually<T>(
  description: string,
  read: () => T | Promise<T>,
  accept: (value: T) => boolean = (value) => Boolean(value),
  options: EventuallyOptions = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 50 } = options;
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let error: unknown;
  for (;;) {
    try {
      last = await read();
      if (accept(last)) return last;
      error = undefined;
    } catch (err) {
      error = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(intervalMs);
  }
  const lastSeen = last === undefined ? '' : `; last seen: ${safeJson(last)}`;
  const lastError = error === undefined ? '' : `; last error: ${errorText(error)}`;
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${description}${lastSeen}${lastError}`,
  );
}

/** `promise`, or a failure naming `description` after `timeoutMs`. */
export async function within<T>(
  promise: Promise<T>,
  timeoutMs: number,
  description: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${description}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 500) ?? String(value);
  } catch {
    return String(value);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
