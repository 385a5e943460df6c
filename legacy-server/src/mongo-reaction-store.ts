import {
  MongoClient,
  MongoClientClosedError,
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  type Collection,
  type Db,
} from 'mongodb';
import {
  StoreConflictError,
  StoreUnavailableError,
  type EmojiCount,
  type ReactionState,
  type ReactionStore,
  type StateFilter,
} from '@reactometer/shared';
import { ConcurrencyLimiter } from './concurrency-limiter.js';
import { KeyedSerializer } from './keyed-serializer.js';

/** The subset of a pino logger the store uses. */
export interface StoreLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface MongoReactionStoreOptions {
  /** A MongoDB connection string (FerretDB locally, MongoDB in production). */
  readonly uri: string;
  readonly dbName: string;
  /**
   * How long the driver looks for a usable server, or waits to connect, before failing an
   * operation (default 1500).
   */
  readonly serverSelectionTimeoutMs?: number;
  /**
   * How long one database round trip may take before the caller gets `StoreUnavailableError`
   * (default 2000). Must exceed `serverSelectionTimeoutMs`: a write still looking for a server
   * when its caller has been answered could otherwise be sent afterwards. The driver drops a
   * connection that stays silent for twice as long.
   */
  readonly operationTimeoutMs?: number;
  /**
   * How long a call may wait in the process, for earlier writes of the same document or for a
   * free slot, before the caller gets `StoreUnavailableError` (default 10000). Only a burst
   * comes near it; with the database down, waiting callers are answered as soon as the first
   * operation fails.
   */
  readonly queueTimeoutMs?: number;
  /** Database round trips in flight at once; the rest wait in the process (default 16). */
  readonly maxConcurrentOperations?: number;
  /** States fetched per round trip by `scanStates` (default 500). */
  readonly scanPageSize?: number;
  readonly logger?: StoreLogger;
  /**
   * false: resolve even when the database cannot be reached at start, and keep trying to
   * initialise it in the background (calls fail with `StoreUnavailableError` meanwhile). The
   * droplet's process starts this way, so that its inbox takes Slack's events during an outage
   * and drains what the journal holds once MongoDB answers. Default true: fail at start (tests,
   * reconcile, the migration).
   */
  readonly requireDatabaseAtStart?: boolean;
}

/** The `ReactionStore` of the droplet, plus the connection it owns. */
export interface MongoReactionStore extends ReactionStore {
  /** Closes the connection pool; later calls fail with `StoreUnavailableError`. */
  close(): Promise<void>;
}

export const REACTION_STATES = 'reaction_states';
export const EMOJI_COUNTS = 'emoji_counts';

/**
 * Documents keep user data (reaction keys, emoji names) in values only, never in field names:
 * names such as `a.b` or `$dollar` are not legal or not safe as MongoDB field names.
 */
export interface StateDoc {
  _id: string;
  ref: { team: string; item: string; user: string; reaction: string };
  baseEmoji: string;
  present: boolean;
  eventTs: string;
  rev: number;
  pending: { delta: 1 | -1; since: number } | null;
}

interface CountDoc {
  _id: string;
  count: number;
  version: number;
}

type Operation = keyof ReactionStore | 'connect';

const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 1_500;
const DEFAULT_OPERATION_TIMEOUT_MS = 2_000;
const DEFAULT_QUEUE_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_CONCURRENT_OPERATIONS = 16;
const DEFAULT_SCAN_PAGE_SIZE = 500;
/** A conditional write that keeps racing writers of other processes gives up after this many tries. */
const MAX_CONTENDED_ATTEMPTS = 5;
const DUPLICATE_KEY = 11000;

/**
 * Server error codes that mean "this server cannot serve you right now" rather than "your request
 * is wrong": shutdowns, elections, network trouble between servers, server-side time limits.
 */
const UNAVAILABLE_SERVER_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  50, // MaxTimeMSExpired
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** Errors after which a retry later can succeed: the database is down, unreachable or too slow. */
function isUnavailable(err: unknown): boolean {
  if (
    err instanceof MongoNetworkError || // includes timeouts and pools cleared by a network error
    err instanceof MongoServerSelectionError ||
    err instanceof MongoOperationTimeoutError ||
    // Shutdown races: a request still in flight while the process closes the store.
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoClientClosedError ||
    err instanceof MongoNotConnectedError
  ) {
    return true;
  }
  if (!(err instanceof MongoError)) return false;
  // Not exported by the driver as classes; both mean no connection could be had in time.
  if (err.name === 'MongoWaitQueueTimeoutError' || err.name === 'MongoPoolClosedError') return true;
  if (err.hasErrorLabel('RetryableWriteError') || err.hasErrorLabel('SystemOverloadedError')) {
    return true;
  }
  return err instanceof MongoServerError && typeof err.code === 'number'
    ? UNAVAILABLE_SERVER_CODES.has(err.code)
    : false;
}

function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === DUPLICATE_KEY;
}

/**
 * Connects, creates the indexes and returns the store. Rejects with `StoreUnavailableError` when
 * the database cannot be reached within the timeouts, so a misconfigured droplet fails at start
 * instead of answering 503 forever.
 */
export async function createMongoReactionStore(
  options: MongoReactionStoreOptions,
): Promise<MongoReactionStore> {
  const serverSelectionTimeoutMS =
    options.serverSelectionTimeoutMs ?? DEFAULT_SERVER_SELECTION_TIMEOUT_MS;
  const operationTimeoutMs = options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
  if (serverSelectionTimeoutMS >= operationTimeoutMs) {
    throw new RangeError(
      `serverSelectionTimeoutMs (${serverSelectionTimeoutMS}) must be below operationTimeoutMs (${operationTimeoutMs})`,
    );
  }
  const client = new MongoClient(options.uri, {
    appName: 'reactometer-legacy',
    // A dead database must turn into a 503 within about 2 s (Slack retries), never into a hang:
    // selection and connecting fail fast, and a socket that stops answering mid-operation is
    // dropped after a few seconds (that bounds how long a timed-out write keeps its document's
    // turn and its slot). The store's own deadline answers the caller before that, so the socket
    // timeout is a backstop well above it, not a second limit a slow but live server could hit.
    serverSelectionTimeoutMS,
    connectTimeoutMS: serverSelectionTimeoutMS,
    waitQueueTimeoutMS: serverSelectionTimeoutMS,
    socketTimeoutMS: 2 * operationTimeoutMs,
    // The inbox deletes an event once the store has acknowledged applying it, so an
    // acknowledgement must mean "on disk": journaled, and on a replica set on a majority that
    // survives a failover. These writes are off Slack's answer path, so waiting costs nothing.
    writeConcern: { w: 'majority', journal: true },
  });
  const store = new MongoReactionStoreImpl(client, client.db(options.dbName), options);
  try {
    await store.initialise();
  } catch (err) {
    if (options.requireDatabaseAtStart === false && err instanceof StoreUnavailableError) {
      options.logger?.warn({ err }, 'MongoDB not reachable at start; retrying in the background');
      store.initialiseInBackground();
      return store;
    }
    await client.close().catch(() => undefined);
    throw err;
  }
  return store;
}

/** Between attempts to initialise a store whose database was down at start. */
const INITIALISE_RETRY_MS = 2_000;

class MongoReactionStoreImpl implements MongoReactionStore {
  private readonly states: Collection<StateDoc>;
  private readonly counts: Collection<CountDoc>;
  // One queue per document, per collection: see keyed-serializer.ts for why writes are queued.
  private readonly stateLocks = new KeyedSerializer();
  private readonly countLocks = new KeyedSerializer();
  private readonly operationTimeoutMs: number;
  private readonly queueTimeoutMs: number;
  private readonly limiter: ConcurrencyLimiter;
  /** Callers waiting for their turn, told when any operation finds the database unavailable. */
  private readonly outageListeners = new Set<() => void>();
  private readonly scanPageSize: number;
  private readonly logger: StoreLogger | undefined;
  /** Only transitions are logged, so that an outage does not log once per request. */
  private reachable = true;
  private closed = false;

  constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    options: MongoReactionStoreOptions,
  ) {
    this.states = db.collection<StateDoc>(REACTION_STATES);
    this.counts = db.collection<CountDoc>(EMOJI_COUNTS);
    this.operationTimeoutMs = options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
    this.queueTimeoutMs = options.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS;
    this.limiter = new ConcurrencyLimiter(
      options.maxConcurrentOperations ?? DEFAULT_MAX_CONCURRENT_OPERATIONS,
    );
    this.scanPageSize = options.scanPageSize ?? DEFAULT_SCAN_PAGE_SIZE;
    this.logger = options.logger;
  }

  async initialise(): Promise<void> {
    await this.execute('connect', null, async () => {
      await this.client.connect();
      // The leaderboard reads counts by size; reconcile and ops queries look states up by emoji.
      await this.counts.createIndex({ count: -1 });
      await this.states.createIndex({ baseEmoji: 1 });
    });
    this.logger?.info({ db: this.db.databaseName }, 'MongoDB reaction store ready');
  }

  /** Retries `initialise` until it succeeds or the store is closed. */
  initialiseInBackground(): void {
    const retry = (): void => {
      if (this.closed) return;
      this.initialise().catch(() => {
        setTimeout(retry, INITIALISE_RETRY_MS).unref();
      });
    };
    setTimeout(retry, INITIALISE_RETRY_MS).unref();
  }

  async getState(key: string): Promise<ReactionState | null> {
    const doc = await this.execute('getState', null, () => this.states.findOne({ _id: key }));
    return doc === null ? null : toState(doc);
  }

  async putState(next: ReactionState, expectedRev: number | null): Promise<boolean> {
    const { _id, ...fields } = toStateDoc(next);
    return this.execute('putState', { locks: this.stateLocks, key: _id }, async () => {
      if (expectedRev === null) {
        // "No state yet" is exactly "this _id does not exist": the unique _id index makes the
        // insert the compare-and-set, and a duplicate key means another writer was first.
        try {
          await this.states.insertOne({ _id, ...fields });
          return true;
        } catch (err) {
          if (isDuplicateKey(err)) return false;
          throw err;
        }
      }
      // Filtering on `rev` makes the replace conditional: it matches nothing once anyone else has
      // written the state since `expectedRev` was read.
      const result = await this.states.replaceOne({ _id, rev: expectedRev }, fields);
      return result.matchedCount === 1;
    });
  }

  async adjustCount(emoji: string, delta: 1 | -1): Promise<EmojiCount> {
    return this.execute('adjustCount', { locks: this.countLocks, key: emoji }, async () => {
      if (delta === 1) {
        // An upsert `$inc` creates the count at 0 + 1 in the same single-document write.
        const doc = await this.upsertCount(emoji, { $inc: { count: 1, version: 1 } });
        return toCount(doc);
      }
      for (let attempt = 0; attempt < MAX_CONTENDED_ATTEMPTS; attempt++) {
        // `count > 0` in the filter is what keeps counts non-negative: at zero the update matches
        // nothing and neither count nor version changes.
        const decremented = await this.counts.findOneAndUpdate(
          { _id: emoji, count: { $gt: 0 } },
          { $inc: { count: -1, version: 1 } },
          { returnDocument: 'after' },
        );
        if (decremented !== null) return toCount(decremented);
        // Nothing to subtract: create the count at zero if it is missing, and read it otherwise.
        const current = toCount(
          await this.upsertCount(emoji, { $setOnInsert: { count: 0, version: 0 } }),
        );
        if (current.count <= 0) return current;
        // Another process added between our two writes, so the -1 has something to take after
        // all; answering "unchanged at 1" would lose it. Only possible across processes.
      }
      throw new StoreConflictError(`adjustCount(${emoji}, -1) kept racing other writers`);
    });
  }

  async setCount(
    emoji: string,
    count: number,
    expectedVersion: number | null,
  ): Promise<EmojiCount | null> {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`count must be a non-negative integer, got ${count}`);
    }
    return this.execute('setCount', { locks: this.countLocks, key: emoji }, async () => {
      if (expectedVersion === null) {
        try {
          await this.counts.insertOne({ _id: emoji, count, version: 1 });
          return { emoji, count, version: 1 };
        } catch (err) {
          if (isDuplicateKey(err)) return null;
          throw err;
        }
      }
      // The version filter makes this a compare-and-set: a count changed since the caller read
      // it (by an event during reconcile) is left alone.
      const version = expectedVersion + 1;
      const result = await this.counts.updateOne(
        { _id: emoji, version: expectedVersion },
        { $set: { count, version } },
      );
      return result.matchedCount === 1 ? { emoji, count, version } : null;
    });
  }

  async listCounts(): Promise<EmojiCount[]> {
    const docs = await this.execute('listCounts', null, () => this.counts.find({}).toArray());
    return docs.map(toCount);
  }

  async *scanStates(filter: StateFilter = {}): AsyncIterable<ReactionState> {
    // Keyset paging on _id rather than one long cursor: every page is a short operation under
    // the usual timeout, and no server-side cursor has to survive between pages (FerretDB and
    // MongoDB both time idle cursors out while reconcile is busy writing repairs).
    let after: string | null = null;
    for (;;) {
      // The baseEmoji filter uses the { baseEmoji: 1 } index created at start.
      const query: { _id?: { $gt: string }; baseEmoji?: string } = {
        ...(after === null ? {} : { _id: { $gt: after } }),
        ...(filter.baseEmoji === undefined ? {} : { baseEmoji: filter.baseEmoji }),
      };
      const page: StateDoc[] = await this.execute('scanStates', null, () =>
        this.states.find(query).sort({ _id: 1 }).limit(this.scanPageSize).toArray(),
      );
      for (const doc of page) yield toState(doc);
      const last = page.at(-1);
      if (last === undefined || page.length < this.scanPageSize) return;
      after = last._id;
    }
  }

  async ping(): Promise<void> {
    await this.execute('ping', null, () => this.db.command({ ping: 1 }));
  }

  async close(): Promise<void> {
    // Checked by every call from now on: the driver would otherwise reconnect a closed client.
    this.closed = true;
    await this.client.close();
  }

  private async upsertCount(
    emoji: string,
    update: { $inc: { count: 1; version: 1 } } | { $setOnInsert: { count: 0; version: 0 } },
  ): Promise<CountDoc> {
    for (let attempt = 0; ; attempt++) {
      try {
        const doc = await this.counts.findOneAndUpdate({ _id: emoji }, update, {
          upsert: true,
          returnDocument: 'after',
        });
        // An upsert always has a document to return; null would be a server bug.
        if (doc === null) throw new Error(`upsert of emoji count ${emoji} returned no document`);
        return doc;
      } catch (err) {
        // Two processes upserting a new _id at once can both try the insert; the loser gets a
        // duplicate key (MongoDB retries some of these itself, FerretDB does not) and retrying
        // turns its upsert into a plain update of the document that now exists.
        if (!isDuplicateKey(err) || attempt + 1 >= MAX_CONTENDED_ATTEMPTS) throw err;
      }
    }
  }

  /**
   * Runs one store operation for a caller. Every operation waits for a free slot (see
   * concurrency-limiter.ts); mutations first wait for their turn behind earlier mutations of the
   * same document (FerretDB v1 is not atomic per document, see keyed-serializer.ts).
   *
   * Time limits, so that a dead database is a quick 503 and never a hang:
   * - once sent, a round trip gets `operationTimeoutMs` to answer;
   * - while it waits in the process, a caller is answered with `StoreUnavailableError` as soon as
   *   any operation finds the database unavailable (the ones ahead of it would fail the same way,
   *   and waiting callers must not each wait out their own timeout one after another), and at
   *   the latest after `queueTimeoutMs`. Its operation is then never sent.
   */
  private execute<T>(
    op: Operation,
    lock: { locks: KeyedSerializer; key: string } | null,
    work: () => Promise<T>,
  ): Promise<T> {
    if (this.closed) {
      return Promise.reject(new StoreUnavailableError(`MongoDB ${op}: the store is closed`));
    }
    return new Promise<T>((resolve, reject) => {
      let sent = false;
      let answered = false;
      const giveUp = (reason: string): void => {
        if (sent || answered) return;
        answered = true;
        stopWaiting();
        // Not reported as an outage of its own: the failure that caused it already was.
        reject(new StoreUnavailableError(`MongoDB ${op} not attempted: ${reason}`));
      };
      const onOutage = (): void => giveUp('the database failed while it waited');
      const queueTimer = setTimeout(
        () => giveUp(`waited ${this.queueTimeoutMs} ms for its turn`),
        this.queueTimeoutMs,
      );
      const stopWaiting = (): void => {
        clearTimeout(queueTimer);
        this.outageListeners.delete(onOutage);
      };
      this.outageListeners.add(onOutage);

      const roundTrip = async (): Promise<void> => {
        // Its caller has already been answered 503: writing now would apply a change that the
        // caller (and Slack, which retries) believe failed.
        if (answered) return;
        sent = true;
        stopWaiting();
        const { answer, settled } = this.attempt(op, work);
        answer.then(resolve, reject);
        // The turn and the slot last until the driver is done, even when the deadline has
        // already answered the caller: the write may still reach the database, and the next
        // write of this document must not overlap it.
        await settled;
      };
      const admitted = (): Promise<void> => this.limiter.run(roundTrip);
      // Neither promise can reject: `roundTrip` hands every outcome to the caller itself.
      void (lock === null ? admitted() : lock.locks.run(lock.key, admitted));
    });
  }

  /**
   * One database round trip under `operationTimeoutMs`. `answer` is what the caller gets (errors
   * translated); `settled` resolves when the driver has finished, however late.
   */
  private attempt<T>(
    op: Operation,
    work: () => Promise<T>,
  ): {
    answer: Promise<T>;
    settled: Promise<void>;
  } {
    const running = work();
    const settled = running.then(ignore, ignore);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new StoreUnavailableError(
            `MongoDB ${op} got no answer within ${this.operationTimeoutMs} ms`,
          ),
        );
      }, this.operationTimeoutMs);
    });
    const answer = Promise.race([running, deadline]).then(
      (result) => {
        clearTimeout(timer);
        this.markReachable();
        return result;
      },
      (err: unknown) => {
        clearTimeout(timer);
        throw this.translate(op, err);
      },
    );
    return { answer, settled };
  }

  /** Maps availability errors to `StoreUnavailableError` (with the driver error as cause). */
  private translate(op: Operation, err: unknown): unknown {
    if (err instanceof StoreUnavailableError) {
      this.markUnreachable(op, err);
      return err;
    }
    if (!isUnavailable(err)) return err;
    const message = err instanceof Error ? err.message : String(err);
    const unavailable = new StoreUnavailableError(`MongoDB ${op} failed: ${message}`, {
      cause: err,
    });
    this.markUnreachable(op, unavailable);
    return unavailable;
  }

  private markUnreachable(op: Operation, err: StoreUnavailableError): void {
    for (const listener of [...this.outageListeners]) listener();
    if (!this.reachable) return;
    this.reachable = false;
    this.logger?.warn(
      { op, err },
      'MongoDB unavailable; store calls fail with 503 until it answers',
    );
  }

  private markReachable(): void {
    if (this.reachable) return;
    this.reachable = true;
    this.logger?.info({}, 'MongoDB reachable again');
  }
}

function ignore(): void {}

/**
 * The document a state is stored as (the store's own mapping; the benchmark seeds states in bulk
 * with it instead of one round trip each).
 */
export function toStateDoc(state: ReactionState): StateDoc {
  // Field by field: a structurally typed caller may pass an object with extra properties, and
  // only the schema's fields belong in the document.
  const { team, item, user, reaction } = state.ref;
  return {
    _id: state.key,
    ref: { team, item, user, reaction },
    baseEmoji: state.baseEmoji,
    present: state.present,
    eventTs: state.eventTs,
    rev: state.rev,
    pending:
      state.pending === null ? null : { delta: state.pending.delta, since: state.pending.since },
  };
}

/**
 * Documents are read back through checks rather than casts: a document edited by hand or written
 * by an older version fails loudly here instead of corrupting counts downstream.
 */
function toState(doc: StateDoc): ReactionState {
  const { ref, pending } = doc;
  const valid =
    typeof doc._id === 'string' &&
    typeof ref === 'object' &&
    ref !== null &&
    [ref.team, ref.item, ref.user, ref.reaction].every((v) => typeof v === 'string') &&
    typeof doc.baseEmoji === 'string' &&
    typeof doc.present === 'boolean' &&
    typeof doc.eventTs === 'string' &&
    Number.isSafeInteger(doc.rev) &&
    (pending === null ||
      (typeof pending === 'object' &&
        (pending.delta === 1 || pending.delta === -1) &&
        typeof pending.since === 'number'));
  if (!valid) throw new Error(`malformed document ${String(doc._id)} in ${REACTION_STATES}`);
  return {
    key: doc._id,
    ref: { team: ref.team, item: ref.item, user: ref.user, reaction: ref.reaction },
    baseEmoji: doc.baseEmoji,
    present: doc.present,
    eventTs: doc.eventTs,
    rev: doc.rev,
    pending: pending === null ? null : { delta: pending.delta, since: pending.since },
  };
}

function toCount(doc: CountDoc): EmojiCount {
  if (
    typeof doc._id !== 'string' ||
    !Number.isSafeInteger(doc.count) ||
    !Number.isSafeInteger(doc.version)
  ) {
    throw new Error(`malformed document ${String(doc._id)} in ${EMOJI_COUNTS}`);
  }
  return { emoji: doc._id, count: doc.count, version: doc.version };
}
