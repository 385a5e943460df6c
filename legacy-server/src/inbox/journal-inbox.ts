/**
 * The droplet's `EventInbox`: validated Slack events appended to the journal (answered once
 * fsynced), held in memory in arrival order until the worker has applied them, deduplicated by
 * `event_id`, and bounded: past its limits an append is refused at once with `OverloadedError`
 * (503 + Retry-After) instead of queueing work that would time out.
 */
import {
  OverloadedError,
  StoreUnavailableError,
  decodeInboxEvent,
  encodeInboxEvent,
  type AppendOutcome,
  type EventInbox,
  type ReactionEvent,
} from '@reactometer/shared';
import { Journal, type JournalLogger, type JournalRecord } from './journal.js';

export interface JournalInboxOptions {
  readonly dir: string;
  /** Events stored and not yet applied beyond which appends are refused (503). */
  readonly maxPending: number;
  /** Appends waiting for their fsync beyond which appends are refused (503). */
  readonly maxAppendsInFlight: number;
  /**
   * How long the id of an applied event is remembered, so that a late Slack retry is answered
   * as a duplicate without a journal write (Slack's last retry comes about 5 minutes after the
   * first attempt). An id forgotten earlier is still harmless: re-applying changes nothing.
   */
  readonly rememberAppliedMs?: number;
  readonly segmentBytes?: number;
  readonly logger?: JournalLogger;
}

/** One stored event waiting to be applied. */
export interface PendingEvent {
  readonly seq: number;
  /** Epoch ms when it was stored. */
  readonly at: number;
  readonly event: ReactionEvent;
}

const DEFAULT_REMEMBER_APPLIED_MS = 15 * 60_000;
/** Seconds a refused sender is asked to wait: the in-flight limit clears in milliseconds. */
const RETRY_AFTER_BUSY_S = 1;
/** Seconds when the backlog is full: it drains at tens of events a second. */
const RETRY_AFTER_FULL_S = 30;

export class JournalInbox implements EventInbox {
  private readonly pending: PendingEvent[] = [];
  private readonly pendingIds = new Set<string>();
  /** Appends of an id still waiting for the fsync: a concurrent retry waits for the same one. */
  private readonly inFlight = new Map<string, Promise<unknown>>();
  /** Applied ids and when they were stored, oldest first (Map keeps insertion order). */
  private readonly applied = new Map<string, number>();
  private readonly listeners = new Set<() => void>();
  private readonly rememberAppliedMs: number;

  private constructor(
    private readonly journal: Journal,
    private readonly options: JournalInboxOptions,
  ) {
    this.rememberAppliedMs = options.rememberAppliedMs ?? DEFAULT_REMEMBER_APPLIED_MS;
  }

  /** Opens the journal and takes back whatever it holds: unapplied events drain first. */
  static async open(options: JournalInboxOptions): Promise<JournalInbox> {
    const { journal, recovered } = await Journal.open({
      dir: options.dir,
      ...(options.segmentBytes === undefined ? {} : { segmentBytes: options.segmentBytes }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    const inbox = new JournalInbox(journal, options);
    for (const r of recovered.applied) inbox.applied.set(r.id, r.at);
    for (const r of recovered.unapplied) {
      try {
        inbox.take(r);
      } catch (err) {
        // CRC-intact but not an event of this version: kept on disk for a person, not applied.
        options.logger?.warn(
          { err, seq: r.seq, id: r.id },
          'inbox: skipping an undecodable record',
        );
      }
    }
    return inbox;
  }

  async append(event: ReactionEvent): Promise<AppendOutcome> {
    const id = event.eventId;
    if (this.pendingIds.has(id) || this.applied.has(id)) return 'duplicate';
    const running = this.inFlight.get(id);
    if (running !== undefined) {
      await running;
      return 'duplicate';
    }
    if (this.inFlight.size >= this.options.maxAppendsInFlight) {
      throw new OverloadedError(
        `${this.inFlight.size} inbox appends are waiting for the disk`,
        RETRY_AFTER_BUSY_S,
      );
    }
    if (this.pending.length + this.inFlight.size >= this.options.maxPending) {
      throw new OverloadedError(
        `the inbox holds ${this.pending.length} events not yet counted`,
        RETRY_AFTER_FULL_S,
      );
    }
    const write = this.journal.append(id, encodeInboxEvent(event));
    this.inFlight.set(
      id,
      write.catch(() => undefined),
    );
    try {
      this.take(await write);
      return 'appended';
    } catch (err) {
      // The disk refused the write: nothing was acknowledged, so Slack's retry is the recovery.
      throw new StoreUnavailableError('the inbox journal could not store the event', {
        cause: err,
      });
    } finally {
      this.inFlight.delete(id);
    }
  }

  /** Up to `limit` of the oldest unapplied events, in arrival order. */
  head(limit: number): readonly PendingEvent[] {
    return this.pending.slice(0, limit);
  }

  get size(): number {
    return this.pending.length;
  }

  /** Epoch ms when the oldest unapplied event was stored, or null. */
  get oldestAt(): number | null {
    return this.pending[0]?.at ?? null;
  }

  /**
   * Removes the oldest `count` events, all applied: from memory now, from disk with the next
   * checkpoint.
   */
  completeHead(count: number): void {
    const done = this.pending.splice(0, count);
    const now = Date.now();
    for (const p of done) {
      this.pendingIds.delete(p.event.eventId);
      this.applied.set(p.event.eventId, p.at);
    }
    const last = done.at(-1);
    if (last !== undefined) this.journal.markApplied(last.seq);
    for (const [id, at] of this.applied) {
      if (now - at < this.rememberAppliedMs) break;
      this.applied.delete(id);
    }
  }

  /** Calls `listener` whenever an event is stored (the worker's wake-up). */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Lets queued appends and the checkpoint finish, then releases the journal. */
  async close(): Promise<void> {
    await this.journal.close();
  }

  private take(record: JournalRecord): void {
    const event = decodeInboxEvent(record.body);
    this.pending.push({ seq: record.seq, at: record.at, event });
    this.pendingIds.add(event.eventId);
    for (const listener of this.listeners) listener();
  }
}
