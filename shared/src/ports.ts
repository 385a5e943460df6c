/**
 * The narrow ports the core needs. Each deployment provides adapters (MongoDB, DynamoDB,
 * ws broadcast, SNS) at its composition root; `@reactometer/shared/testing` has in-memory ones.
 */

/** Which reaction: one user's one reaction name on one item. */
export interface ReactionRef {
  readonly team: string;
  /** `message:{channel}:{ts}`, `file:{id}` or `file_comment:{id}`; see `itemKey`. */
  readonly item: string;
  readonly user: string;
  /** Full reaction name as Slack sent it, skin tone included (`+1::skin-tone-2`). */
  readonly reaction: string;
}

/** A count change recorded on a state but maybe not yet applied to the count (crash window). */
export interface PendingCount {
  readonly delta: 1 | -1;
  /** Epoch milliseconds when the state was written. */
  readonly since: number;
}

/** The stored state of one reaction. */
export interface ReactionState {
  /** Stable unique id of `ref` (see `reactionKey`); the store's primary key. */
  readonly key: string;
  readonly ref: ReactionRef;
  /** `ref.reaction` with any `::skin-tone-N` suffix removed; the count it contributes to. */
  readonly baseEmoji: string;
  readonly present: boolean;
  /** Canonical event timestamp of the last applied event (see `EventTs`); sorts as a string. */
  readonly eventTs: string;
  /** Incremented by every write; the compare-and-set token. */
  readonly rev: number;
  readonly pending: PendingCount | null;
}

/** Narrows `scanStates`. */
export interface StateFilter {
  readonly baseEmoji?: string;
}

/** The count of one base emoji. `version` grows with every change of `count`. */
export interface EmojiCount {
  readonly emoji: string;
  readonly count: number;
  readonly version: number;
}

/**
 * What the core needs from a database. Every method is a single-item atomic operation on real
 * MongoDB and DynamoDB; none needs a multi-document transaction. Methods throw
 * `StoreUnavailableError` when the database cannot be reached in time.
 */
export interface ReactionStore {
  /** The state of one reaction, or null if none was ever stored. */
  getState(key: string): Promise<ReactionState | null>;
  /**
   * Writes `next` only if the stored state still has revision `expectedRev` (null: no state
   * exists yet). Returns false, writing nothing, when another writer got there first.
   */
  putState(next: ReactionState, expectedRev: number | null): Promise<boolean>;
  /**
   * Atomically adds `delta` to the emoji's count and increments its version, creating the
   * count at 0 first if needed. A -1 on a zero count changes nothing and returns it unchanged.
   */
  adjustCount(emoji: string, delta: 1 | -1): Promise<EmojiCount>;
  /**
   * Sets the emoji's count and increments its version, only if its version is still
   * `expectedVersion` (null: no count exists). Returns the new count, or null on conflict.
   */
  setCount(
    emoji: string,
    count: number,
    expectedVersion: number | null,
  ): Promise<EmojiCount | null>;
  /** Every stored count, zeros included, in no particular order. */
  listCounts(): Promise<EmojiCount[]>;
  /**
   * Every stored reaction state, in no particular order, read page by page. With `baseEmoji`,
   * only the states of that emoji (an adapter may yield others too; callers filter again).
   */
  scanStates(filter?: StateFilter): AsyncIterable<ReactionState>;
  /** Resolves when the database answers; throws `StoreUnavailableError` otherwise. */
  ping(): Promise<void>;
}

/** Pushes absolute counts to every connected dashboard. Delivery is best effort. */
export interface Publisher {
  publish(counts: readonly EmojiCount[]): Promise<void>;
}

/** Wall-clock time, injectable so that tests control signature windows and leases. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** One open WebSocket connection known to the serverless deployment. */
export interface ConnectionRecord {
  /** API Gateway's connection id. */
  readonly id: string;
  /** Epoch milliseconds. */
  readonly connectedAt: number;
  /** Epoch seconds after which the record is garbage (DynamoDB TTL attribute). */
  readonly expiresAt: number;
}

/**
 * One of `total` disjoint slices of the connections (DynamoDB's parallel Scan `Segment` /
 * `TotalSegments`): every connection belongs to exactly one segment of a given total.
 */
export interface ScanSegment {
  /** 0-based. */
  readonly index: number;
  readonly total: number;
}

/** Where the serverless deployment keeps its open connections (the droplet keeps them in memory). */
export interface ConnectionRegistry {
  add(record: ConnectionRecord): Promise<void>;
  /** Removes one connection id; removing an unknown id is not an error. */
  remove(id: string): Promise<void>;
  /**
   * Live connections page by page; records past `expiresAt` (at `nowSeconds`) are left out. With
   * `segment`, only that slice of them.
   */
  pages(nowSeconds: number, segment?: ScanSegment): AsyncIterable<readonly ConnectionRecord[]>;
}

/** What a fan-out gate hands its new holder: when it may flush next, and how big the last flush was. */
export interface GateLease {
  /** Epoch ms before which the holder must not start a flush (the previous flush's end + window). */
  readonly nextFlushAt: number;
  /** Connections the last flush reached, if any flush ran (sizes the next one's workers). */
  readonly connections: number | null;
}

/**
 * The coalescing gate of the serverless fan-out: one record per shard of updates in a store with
 * single-item conditional writes (DynamoDB). A dirty set of changed emoji, and a lease so that at
 * most one flush per shard is in flight. Every method is one atomic single-item operation.
 */
export interface FanOutGate {
  /** Adds `emojis` to the set of emoji changed since the last flush (an atomic set union). */
  markDirty(emojis: readonly string[]): Promise<void>;
  /** Takes the lease unless another holder's lease is still live; null when it is. */
  tryAcquire(holder: string, nowMs: number, leaseMs: number): Promise<GateLease | null>;
  /**
   * Takes the dirty set and empties it in one write, extending the lease. Throws
   * `LeaseLostError` when the lease is no longer `holder`'s.
   */
  takeDirty(holder: string, nowMs: number, leaseMs: number): Promise<string[]>;
  /** Extends the lease (a long flush's heartbeat); throws `LeaseLostError` when it is lost. */
  renew(holder: string, nowMs: number, leaseMs: number): Promise<void>;
  /** Gives the lease up, recording when the next flush may start; a lost lease is not an error. */
  release(holder: string, next: GateLease): Promise<void>;
  /** True when some emoji wait for a flush. */
  isDirty(): Promise<boolean>;
}

/** Reads current counts (strongly consistent: never older than a change already published). */
export interface CountsReader {
  /** The counts of these emoji that exist; unknown emoji are left out. */
  getCounts(emojis: readonly string[]): Promise<EmojiCount[]>;
}

/**
 * Sends one text message to one connection. Throws `GoneConnectionError` when the connection no
 * longer exists (API Gateway's 410) and `ThrottledError` when the caller should back off (429).
 */
export interface ConnectionSender {
  send(connectionId: string, data: string): Promise<void>;
}
