/**
 * Real parts made to fail at one step, for the deployments' edge tests: a change that is stored
 * but not pushed (`publishError`) or whose pending marker is not cleared (`settleError`) must be
 * answered 200 and logged the same way on both deployments. Neither failure can be provoked on
 * demand from outside a running store or publisher.
 */
import { StoreUnavailableError, type Publisher, type ReactionStore } from '../src/index.js';

/** A publisher whose every publish rejects with `error`, as if no dashboard could be reached. */
export function unreachablePublisher(error: Error): Publisher {
  return { publish: () => Promise.reject(error) };
}

/**
 * `store`, except that the write settling a count change of `emoji` (the second write of a flip,
 * clearing the pending marker) rejects with `error`. Meant for an emoji with no state yet, whose
 * first add writes the pending state, the count, then this.
 */
export function settleFailingStore(
  store: ReactionStore,
  emoji: string,
  error: Error,
): ReactionStore {
  return {
    getState: (key) => store.getState(key),
    putState: (next, expectedRev) =>
      next.baseEmoji === emoji && next.pending === null && expectedRev !== null
        ? Promise.reject(error)
        : store.putState(next, expectedRev),
    adjustCount: (name, delta) => store.adjustCount(name, delta),
    setCount: (name, count, expectedVersion) => store.setCount(name, count, expectedVersion),
    listCounts: () => store.listCounts(),
    scanStates: (filter) => store.scanStates(filter),
    ping: () => store.ping(),
  };
}

/** The steps after the count is stored that may fail without failing the request. */
export type AfterStoreFailure = 'publishError' | 'settleError';

/** What each test throws at that step, and the text both edges must log for it. */
export const AFTER_STORE_ERRORS: Record<AfterStoreFailure, { error: Error; logged: string }> = {
  publishError: {
    error: new Error('dashboards unreachable'),
    logged: 'Error: dashboards unreachable',
  },
  settleError: {
    error: new StoreUnavailableError('settle write timed out'),
    logged: 'StoreUnavailableError: settle write timed out',
  },
};

/**
 * The log fields both deployments must write (besides the level, `warn`) for the first add of
 * `emoji` when `failure` happened after the count was stored.
 */
export function afterStoreFailureLogFields(
  failure: AfterStoreFailure,
  request: { eventId: string; emoji: string; bytes: number },
): Record<string, unknown> {
  return {
    status: 200,
    eventId: request.eventId,
    outcome: 'changed',
    emoji: request.emoji,
    count: 1,
    version: 1,
    bytes: request.bytes,
    [failure]: AFTER_STORE_ERRORS[failure].logged,
  };
}

/** The field the other failure would have added: it must be absent. */
export function otherAfterStoreFailure(failure: AfterStoreFailure): AfterStoreFailure {
  return failure === 'publishError' ? 'settleError' : 'publishError';
}
