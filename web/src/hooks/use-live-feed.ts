import { useEffect, useMemo, useSyncExternalStore } from 'react';
import { createLiveFeed, type FeedSnapshot } from '../live/live-feed.js';
import { usePlatform } from '../platform.js';

export interface LiveFeedView extends FeedSnapshot {
  readonly retryNow: () => void;
}

/** Connects to one deployment's WebSocket for as long as the component is mounted. */
export function useLiveFeed(wsUrl: string): LiveFeedView {
  const platform = usePlatform();
  const feed = useMemo(
    () =>
      createLiveFeed({
        url: wsUrl,
        createSocket: platform.createSocket,
        network: platform.network,
        timers: platform.timers,
        now: platform.now,
        random: platform.random,
        scheduleFrame: platform.scheduleFrame,
      }),
    [wsUrl, platform],
  );
  useEffect(() => {
    feed.start();
    return () => feed.stop();
  }, [feed]);
  const snapshot = useSyncExternalStore(feed.subscribe, feed.getSnapshot);
  return useMemo(() => ({ ...snapshot, retryNow: feed.retryNow }), [snapshot, feed]);
}
