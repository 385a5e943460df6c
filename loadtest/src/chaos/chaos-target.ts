/**
 * What the chaos run needs from a deployment: where to send Slack events and open dashboards,
 * how to crash and restart its database and its application process the way the project starts
 * them, and how to read its inbox's backlog (`/healthz`).
 */
export interface ChaosTarget {
  readonly name: 'droplet' | 'serverless';
  /** Base URL of the HTTP API (may change after an application restart). */
  httpUrl(): string;
  wsUrl(): string;
  readonly signingSecret: string;
  /** SIGKILLs the database (every process of it). */
  killDatabase(): Promise<void>;
  /** Starts the database again on the same data, as the project's starters do. */
  startDatabase(): Promise<void>;
  /** SIGKILLs the application process (the droplet; serverless: the offline stack's host) and starts it again. */
  restartApplication(): Promise<void>;
  /** Stops everything and removes what the run created. */
  teardown(): Promise<void>;
}

/** What `/healthz` says about the inbox (the same fields on both deployments). */
export interface InboxHealth {
  readonly status: number;
  readonly pending: number;
  readonly oldestAgeMs: number;
}

export async function readInboxHealth(httpUrl: string): Promise<InboxHealth | null> {
  try {
    const res = await fetch(`${httpUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
    const body = (await res.json()) as { inbox?: { pending?: number; oldestAgeMs?: number } };
    return {
      status: res.status,
      pending: body.inbox?.pending ?? 0,
      oldestAgeMs: body.inbox?.oldestAgeMs ?? 0,
    };
  } catch {
    return null;
  }
}
