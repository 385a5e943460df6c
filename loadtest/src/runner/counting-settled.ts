/**
 * A 200 from `POST /slack/events` means "stored in the deployment's inbox, counted shortly
 * after" (docs/api.md). Before reading final counts, a check waits for the counting: until
 * `/healthz` reports the inbox empty, then until a cached read (serverless: `COUNTS_CACHE_MS`,
 * 1 s by default) can no longer be older than that.
 */

/** Longest a deployment may serve a cached count (serverless `COUNTS_CACHE_MS` default). */
export const READ_CACHE_MS = 1_000;

export async function countingSettled(httpUrl: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let pending: number;
    try {
      const res = await fetch(`${httpUrl}/healthz`, { signal: AbortSignal.timeout(5_000) });
      const body = (await res.json()) as { inbox?: { pending?: number } };
      pending = body.inbox?.pending ?? 0;
    } catch {
      // No answer says nothing about the backlog: do not wait on it.
      pending = 0;
    }
    if (pending === 0) break;
    if (Date.now() > deadline) throw new Error(`the inbox did not drain within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, READ_CACHE_MS + 100));
}
