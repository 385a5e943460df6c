/**
 * Applies the droplet's inbox to MongoDB through the core (`applyReactionEvent`): the oldest
 * events first, a window at a time, and removes them only once every event of the window is
 * applied. Events of one reaction are applied one after another in arrival order; different
 * reactions in the same window run side by side (the store serialises writes per document). A
 * failure (database down, a reaction busy, a conflict) is retried with exponential backoff, and
 * nothing is ever dropped: the inbox waits, and `/healthz` shows how far behind it is.
 */
import {
  appliedOutcome,
  applyReactionEvent,
  baseEmoji,
  isReactometerError,
  itemKey,
  reactionKey,
  type CountingDeps,
  type InboxStatus,
  type ReactionEvent,
} from '@reactometer/shared';
import type { EmojiLock } from '../emoji-lock.js';
import type { JournalInbox, PendingEvent } from './journal-inbox.js';

export interface InboxWorkerLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface InboxWorkerOptions {
  readonly inbox: JournalInbox;
  readonly counting: CountingDeps;
  /**
   * Held around each event's writes when several processes share a FerretDB (STORE_LOCK=redis);
   * omitted, the store's own per-key serialiser is enough (one process, or real MongoDB).
   */
  readonly lock?: EmojiLock;
  /** Events taken from the head at once (default 32). */
  readonly windowSize?: number;
  /** First and longest wait between retries of a failed event (default 100 ms and 5 s). */
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
  /** Called when applying works again after a failure (the counts cache reloads then). */
  readonly onRecovered?: () => void;
  /** Called for every event that changed a count (the metrics). */
  readonly onChanged?: (publishFailed: boolean) => void;
  readonly logger?: InboxWorkerLogger;
}

const reactionOf = (event: ReactionEvent): string =>
  reactionKey({
    team: event.team,
    item: itemKey(event.item),
    user: event.user,
    reaction: event.reaction,
  });

/** Why an attempt did not finish, for the log and `/healthz`. */
function codeOf(err: unknown): string {
  return isReactometerError(err) ? err.code : 'internal_error';
}

export class InboxWorker {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private failing: { code: string; since: number } | null = null;
  private readonly windowSize: number;
  private readonly backoffMinMs: number;
  private readonly backoffMaxMs: number;
  private unsubscribe: (() => void) | null = null;
  private readonly sleepers = new Set<() => void>();
  /** Events applied since start (tests and the bench read it). */
  applied = 0;

  constructor(private readonly options: InboxWorkerOptions) {
    this.windowSize = options.windowSize ?? 32;
    this.backoffMinMs = options.backoffMinMs ?? 100;
    this.backoffMaxMs = options.backoffMaxMs ?? 5_000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.options.inbox.onAppend(() => this.wake?.());
    this.loop = this.run();
  }

  /** Finishes the window in progress (its retries stop at once) and stops. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.wake?.();
    for (const cut of [...this.sleepers]) cut();
    await this.loop;
  }

  status(now = Date.now()): InboxStatus {
    const { inbox } = this.options;
    const oldest = inbox.oldestAt;
    return {
      pending: inbox.size,
      oldestAgeMs: oldest === null ? 0 : Math.max(0, now - oldest),
      draining: inbox.size > 0 && this.failing === null,
      lastErrorCode: this.failing?.code ?? null,
    };
  }

  /** Resolves once the inbox is empty (tests, the bench, the chaos run's in-process forms). */
  async drained(pollMs = 20): Promise<void> {
    while (this.options.inbox.size > 0) await new Promise((r) => setTimeout(r, pollMs));
  }

  private async run(): Promise<void> {
    const { inbox } = this.options;
    while (this.running) {
      const window = inbox.head(this.windowSize);
      if (window.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = null;
        continue;
      }
      const done = await this.applyWindow(window);
      if (done) inbox.completeHead(window.length);
    }
  }

  /** Applies every event of `window`; false if stopped before all were applied. */
  private async applyWindow(window: readonly PendingEvent[]): Promise<boolean> {
    const byReaction = new Map<string, PendingEvent[]>();
    for (const p of window) {
      const key = reactionOf(p.event);
      const list = byReaction.get(key);
      if (list === undefined) byReaction.set(key, [p]);
      else list.push(p);
    }
    const results = await Promise.all(
      [...byReaction.values()].map(async (events) => {
        for (const p of events) if (!(await this.applyOne(p))) return false;
        return true;
      }),
    );
    return results.every(Boolean);
  }

  /** Applies one event, retrying until it is applied; false if stopped first. */
  private async applyOne(p: PendingEvent): Promise<boolean> {
    for (let attempt = 0; this.running; attempt++) {
      try {
        const apply = () => applyReactionEvent(p.event, this.options.counting);
        const { lock } = this.options;
        const outcome = await (lock === undefined
          ? apply()
          : lock.run(baseEmoji(p.event.reaction), apply));
        // The same fields the edge logged before the inbox: one query finds an event's effect.
        if (outcome.kind === 'changed') {
          this.options.onChanged?.(outcome.publishError !== undefined);
        }
        const { level, fields } = appliedOutcome(outcome);
        this.options.logger?.[level === 'info' ? 'debug' : 'warn'](
          { eventId: p.event.eventId, queuedMs: Date.now() - p.at, ...fields },
          'inbox event applied',
        );
        // Counted, but its pending marker is still set: applying again (after the lease) settles
        // it with an exact recount, so the event stays until that has happened.
        if (outcome.kind === 'changed' && outcome.settleError !== undefined) {
          throw outcome.settleError;
        }
        this.applied++;
        this.recovered();
        return true;
      } catch (err) {
        this.failed(err, p);
        const backoff = Math.min(this.backoffMaxMs, this.backoffMinMs * 2 ** Math.min(attempt, 16));
        // Jitter, so that a recovering database is not hit by every waiting reaction at once.
        await this.sleep(backoff / 2 + (Math.random() * backoff) / 2);
      }
    }
    return false;
  }

  private failed(err: unknown, p: PendingEvent): void {
    const code = codeOf(err);
    if (this.failing === null || this.failing.code !== code) {
      // Only transitions are logged: an outage must not log once per event per retry.
      const level = code === 'internal_error' ? 'error' : 'warn';
      this.options.logger?.[level](
        { err, eventId: p.event.eventId, errorCode: code, pending: this.options.inbox.size },
        'inbox: applying failed; retrying with backoff',
      );
    }
    this.failing = { code, since: this.failing?.since ?? Date.now() };
  }

  private recovered(): void {
    if (this.failing === null) return;
    this.options.logger?.info(
      {
        failedForMs: Date.now() - this.failing.since,
        errorCode: this.failing.code,
        pending: this.options.inbox.size,
      },
      'inbox: applying again',
    );
    this.failing = null;
    this.options.onRecovered?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      // Only stop() cuts a backoff short; new appends must not make failing retries come sooner.
      this.sleepers.add(done);
    });
  }
}
