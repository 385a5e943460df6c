/**
 * Messages between the runner (parent) and its client worker processes (`client-worker.ts`).
 * Every request carries an `id`; the worker answers each with exactly one reply of the same id.
 */

/** What the worker's clients look for in update frames: emoji `<prefix><index>`. */
export interface Expectation {
  /** Emoji names of this step start with it, followed by the event index (0-based). */
  readonly prefix: string;
  /** Event indexes 0..events-1 are tracked per client (missed and duplicates). */
  readonly events: number;
}

export type WorkerRequest =
  | {
      readonly op: 'connect';
      readonly id: number;
      readonly url: string;
      /** How many more connections to open. */
      readonly count: number;
      /** New connections per second from this worker. */
      readonly ratePerSecond: number;
      /** Source addresses to bind, used in turn. */
      readonly localAddresses: readonly string[];
      /** Handshake timeout per connection. */
      readonly timeoutMs: number;
      /** Give up opening the rest after this long (the step's bound). */
      readonly deadlineMs: number;
    }
  | { readonly op: 'expect'; readonly id: number; readonly expectation: Expectation }
  | { readonly op: 'status'; readonly id: number }
  | {
      readonly op: 'collect';
      readonly id: number;
      /** Send time (shared wall clock, ms) of each event index; null if it was never sent. */
      readonly sentAt: readonly (number | null)[];
    }
  | {
      readonly op: 'churn';
      readonly id: number;
      readonly url: string;
      readonly concurrent: number;
      readonly lifetimeMs: readonly [number, number];
      readonly durationMs: number;
      readonly localAddresses: readonly string[];
      readonly timeoutMs: number;
      /** Opening rate cap (new connections per second from this worker). */
      readonly ratePerSecond: number;
    }
  | { readonly op: 'closeAll'; readonly id: number; readonly timeoutMs: number }
  | { readonly op: 'resetStats'; readonly id: number };

export interface ConnectStats {
  readonly opened: number;
  readonly failed: number;
  /** Failures by reason: HTTP status of a refused upgrade ("503"), error code, or "timeout". */
  readonly failures: Readonly<Record<string, number>>;
  /** Encoded HDR histogram (µs) of connect latency. */
  readonly connectHist: string;
}

export interface WorkerStatus {
  /** Connections open now. */
  readonly open: number;
  /** Connections the server closed on us since the last resetStats. */
  readonly closedByServer: number;
  /** Distinct (client, event index) receipts per event index for the current expectation. */
  readonly received: readonly number[];
  /** Clients tracked by the current expectation (open when it was set, or opened since). */
  readonly tracked: number;
}

export interface CollectResult {
  /** Encoded HDR histogram (µs) of POST -> receipt latency. */
  readonly deliveryHist: string;
  readonly delivered: number;
  readonly duplicates: number;
  /** Tracked clients x expected events, minus distinct receipts (clients that left excluded). */
  readonly missed: number;
}

export type WorkerReply =
  | { readonly op: 'ready'; readonly id: 0; readonly pid: number }
  | {
      readonly op: 'connect';
      readonly id: number;
      readonly stats: ConnectStats;
      readonly open: number;
    }
  | { readonly op: 'expect'; readonly id: number }
  | { readonly op: 'status'; readonly id: number; readonly status: WorkerStatus }
  | { readonly op: 'collect'; readonly id: number; readonly result: CollectResult }
  | {
      readonly op: 'churn';
      readonly id: number;
      readonly stats: ConnectStats;
      readonly closedByUs: number;
      readonly closedByServer: number;
    }
  | { readonly op: 'closeAll'; readonly id: number; readonly closed: number }
  | { readonly op: 'resetStats'; readonly id: number }
  | { readonly op: 'error'; readonly id: number; readonly message: string };
