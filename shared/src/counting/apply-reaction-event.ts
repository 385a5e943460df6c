import { ReactionBusyError, StoreConflictError } from '../errors.js';
import type { Clock, EmojiCount, Publisher, ReactionState, ReactionStore } from '../ports.js';
import type { ReactionEvent } from '../slack/events.js';
import { compareCanonicalTs, formatEventTs } from './event-ts.js';
import { baseEmoji, itemKey, reactionKey } from './reaction-key.js';

export interface CountingDeps {
  readonly store: ReactionStore;
  readonly publisher: Publisher;
  readonly clock: Clock;
  /**
   * How long a state's pending count change belongs to the attempt that wrote it. After that the
   * attempt is presumed dead (crash between the two writes) and the next event for the same
   * reaction finishes its work. Must exceed the longest time one attempt can run.
   */
  readonly pendingLeaseMs: number;
  /** Optimistic compare-and-set attempts before giving up with `StoreConflictError`. */
  readonly maxAttempts?: number;
}

export type ApplyOutcome =
  | {
      readonly kind: 'changed';
      readonly count: EmojiCount;
      /** Set when the change is stored but pushing it to dashboards failed. */
      readonly publishError?: unknown;
      /**
       * Set when the count is stored but clearing the state's pending marker failed. The count is
       * right; the stale marker makes the next event for this reaction (after the lease) recount
       * the emoji, or `reconcile` clears it. Edges log it.
       */
      readonly settleError?: unknown;
    }
  | { readonly kind: 'unchanged'; readonly reason: 'stale' | 'no_flip' };

const DEFAULT_MAX_ATTEMPTS = 8;

async function publishBestEffort(
  publisher: Publisher,
  count: EmojiCount,
): Promise<{ publishError?: unknown }> {
  // The change is already durable: a failed push must not turn into a 503, because Slack's retry
  // would find nothing to do and the push would still be missing. Dashboards resynchronise from
  // the next update or snapshot.
  try {
    await publisher.publish([count]);
    return {};
  } catch (publishError) {
    return { publishError };
  }
}

/**
 * Recomputes one emoji's count from the stored states and writes it if it differs: the exact
 * recovery of a count change whose outcome is unknown (its attempt died, or its write timed out
 * and may or may not have landed). Re-applying the delta instead would count it twice whenever
 * the lost write had in fact been applied.
 *
 * Safe against concurrent events on the same emoji: the count is read before the states and
 * written with a compare-and-set on that version, and a live update of another reaction of this
 * emoji (a young pending marker) makes it back off. Both end in an error that the edge answers
 * with 503, so Slack retries later.
 */
export async function recountEmoji(
  deps: Pick<CountingDeps, 'store' | 'clock' | 'pendingLeaseMs'>,
  emoji: string,
  ownKey: string,
): Promise<EmojiCount> {
  const before = (await deps.store.listCounts()).find((c) => c.emoji === emoji) ?? null;
  let expected = 0;
  const now = deps.clock.now();
  for await (const state of deps.store.scanStates({ baseEmoji: emoji })) {
    if (state.baseEmoji !== emoji) continue;
    if (state.pending && state.key !== ownKey && now - state.pending.since < deps.pendingLeaseMs) {
      throw new ReactionBusyError(state.key);
    }
    if (state.present) expected++;
  }
  if (before !== null && before.count === expected) return before;
  const written = await deps.store.setCount(emoji, expected, before?.version ?? null);
  if (written === null) {
    throw new StoreConflictError(`count of ${emoji} changed while it was being recounted`);
  }
  return written;
}

/**
 * Settles a pending count change whose attempt is presumed dead: recounts the emoji exactly, then
 * clears the marker. Returns false if another writer changed the state first.
 */
async function finishPending(deps: CountingDeps, state: ReactionState): Promise<boolean> {
  if (state.pending === null) return true;
  const count = await recountEmoji(deps, state.baseEmoji, state.key);
  const cleared = await deps.store.putState(
    { ...state, pending: null, rev: state.rev + 1 },
    state.rev,
  );
  if (cleared) await publishBestEffort(deps.publisher, count);
  return cleared;
}

/**
 * Applies one reaction_added / reaction_removed event (the counting model of DESIGN.md).
 *
 * 1. Compare-and-set the reaction's state; only a later `event_ts` applies.
 * 2. If presence flipped, change the base emoji's count by +1/-1 (which bumps its version).
 * 3. Publish the new absolute count.
 *
 * Step 1 records the intended delta as `pending` and step 2 clears it. If anything between the two
 * fails (a crash, a timeout whose write may have landed), the marker stays; the next event for the
 * same reaction after the lease (typically Slack's retry) recounts that emoji from the states,
 * which is exact whether or not the lost write was applied. `reconcile` does the same for all.
 * Resolves only once every write is durable; throws `StoreUnavailableError`, `ReactionBusyError`
 * or `StoreConflictError` when the caller should answer 503 so that Slack retries.
 */
export async function applyReactionEvent(
  event: ReactionEvent,
  deps: CountingDeps,
): Promise<ApplyOutcome> {
  const ref = {
    team: event.team,
    item: itemKey(event.item),
    user: event.user,
    reaction: event.reaction,
  };
  const key = reactionKey(ref);
  const eventTs = formatEventTs(event.eventTs);
  const emoji = baseEmoji(event.reaction);
  const attempts = deps.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;

  for (let attempt = 0; attempt < attempts; attempt++) {
    const current = await deps.store.getState(key);

    if (current?.pending) {
      if (deps.clock.now() - current.pending.since < deps.pendingLeaseMs) {
        throw new ReactionBusyError(key);
      }
      await finishPending(deps, current);
      continue;
    }

    if (current !== null && compareCanonicalTs(eventTs, current.eventTs) <= 0) {
      return { kind: 'unchanged', reason: 'stale' };
    }

    const wasPresent = current?.present ?? false;
    const rev = (current?.rev ?? 0) + 1;
    const base: ReactionState = {
      key,
      ref,
      baseEmoji: emoji,
      present: event.present,
      eventTs,
      rev,
      pending: null,
    };

    if (wasPresent === event.present) {
      // Still record the later timestamp, so that an older event delivered afterwards is refused
      // (a removal that overtakes its add must leave the reaction removed).
      if (await deps.store.putState(base, current?.rev ?? null)) {
        return { kind: 'unchanged', reason: 'no_flip' };
      }
      continue;
    }

    const delta = event.present ? 1 : -1;
    const pendingState: ReactionState = { ...base, pending: { delta, since: deps.clock.now() } };
    if (!(await deps.store.putState(pendingState, current?.rev ?? null))) continue;

    // If this throws (store down, or a timeout after which the write may still land), the pending
    // marker stays and the next attempt after the lease (Slack's retry) recounts exactly.
    const count = await deps.store.adjustCount(emoji, delta);
    // The count is durable now, so the request is answered 200 even if clearing the marker fails;
    // the stale marker only costs a recount the next time this reaction changes.
    let settleError: unknown;
    try {
      await deps.store.putState({ ...base, rev: rev + 1 }, rev);
    } catch (err) {
      settleError = err;
    }
    return {
      kind: 'changed',
      count,
      ...(settleError === undefined ? {} : { settleError }),
      ...(await publishBestEffort(deps.publisher, count)),
    };
  }
  throw new StoreConflictError(`gave up on reaction ${key} after ${attempts} concurrent writes`);
}
