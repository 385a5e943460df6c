import { useEffect, useMemo, useSyncExternalStore } from 'react';
import { createLiveFeed, type FeedSnapshot } from '../live/live-feed.js';
import { usePlatform } from '../platform.js';

export interface LiveFeedView extends FeedSnapshot {
  readonly retryNow: () => void;
}

/**
 * Connects to one deployment's WebSocket for as long as the component is mounted; a tab hidden
 * longer than `hiddenCloseAfterMs` closes it until shown again.
 */
export function useLiveFeed(wsUrl: string, hiddenCloseAfterMs?: number): LiveFeedView {
  const platform = usePlatform();
  const feed = useMemo(
    () =>
      createLiveFeed({
        url: wsUrl,
        createSocket: platform.createSocket,
        network: platform.network,
        visibility: platform.visibility,
        ...(hiddenCloseAfterMs === undefined ? {} : { hiddenCloseAfterMs }),
        timers: platform.timers,
        now: platform.now,
        random: platform.random,
        scheduleFrame: platform.scheduleFrame,
      }),
    [wsUrl, hiddenCloseAfterMs, platform],
  );
  useEffect(() => {
    feed.start();
    return () => feed.stop();
  }, [feed]);
  const snapshot = useSyncExternalStore(feed.subscribe, feed.getSnapshot);
  return useMemo(() => ({ ...snapshot, retryNow: feed.retryNow }), [snapshot, feed]);
}
