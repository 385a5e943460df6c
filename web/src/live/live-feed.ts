/**
 * One deployment's live leaderboard: a `Connection` feeding the leaderboard reducer, exposed as
 * an external store (`subscribe` / `getSnapshot`) for React's `useSyncExternalStore`. Under heavy
 * traffic many updates arrive per frame; listeners are told once per frame, so the page renders
 * at most at the display's rate, however fast the server broadcasts.
 */
import { Connection, type ConnectionOptions, type ConnectionStatus } from './connection.js';
import {
  initialLeaderboard,
  leaderboardReducer,
  type LeaderboardAction,
  type LeaderboardState,
} from './leaderboard-state.js';

export interface FeedSnapshot {
  readonly board: LeaderboardState;
  readonly status: ConnectionStatus;
}

export interface LiveFeed {
  subscribe(listener: () => void): () => void;
  getSnapshot(): FeedSnapshot;
  start(): void;
  stop(): void;
  retryNow(): void;
}

/** Runs `callback` soon, once; `requestAnimationFrame` in a page. */
export type FrameScheduler = (callback: () => void) => void;

export const browserFrameScheduler: FrameScheduler = (callback) => {
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => callback());
  else setTimeout(callback, 16);
};

export type LiveFeedOptions = Omit<
  ConnectionOptions,
  'onStatus' | 'onMessage' | 'onSnapshotRequested'
> & {
  readonly scheduleFrame?: FrameScheduler;
};

export function createLiveFeed(options: LiveFeedOptions): LiveFeed {
  const now = options.now ?? Date.now;
  const scheduleFrame = options.scheduleFrame ?? browserFrameScheduler;
  const listeners = new Set<() => void>();
  let working: FeedSnapshot = { board: initialLeaderboard, status: { state: 'idle' } };
  let published = working;
  let flushQueued = false;

  const flush = () => {
    flushQueued = false;
    if (published === working) return;
    published = working;
    for (const listener of [...listeners]) listener();
  };

  const change = (next: FeedSnapshot) => {
    if (next.board === working.board && next.status === working.status) return;
    working = next;
    if (!flushQueued) {
      flushQueued = true;
      scheduleFrame(flush);
    }
  };

  const dispatch = (action: LeaderboardAction) =>
    change({ ...working, board: leaderboardReducer(working.board, action) });

  const connection = new Connection({
    ...options,
    onStatus: (status) => change({ ...working, status }),
    onSnapshotRequested: () => dispatch({ type: 'snapshotRequested' }),
    onMessage: (message) => {
      if (message.type === 'snapshot' || message.type === 'update') {
        dispatch({ type: message.type, reactions: message.reactions, at: now() });
      }
    },
  });

  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getSnapshot: () => published,
    start: () => connection.start(),
    stop: () => connection.stop(),
    retryNow: () => connection.retryNow(),
  };
}
