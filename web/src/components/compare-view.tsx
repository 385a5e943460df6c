import { useMemo } from 'react';
import {
  BACKEND_IDS,
  BACKEND_LABELS,
  hiddenCloseAfterMs,
  type RuntimeConfig,
} from '../config/runtime-config.js';
import { useLiveFeed } from '../hooks/use-live-feed.js';
import type { EmojiCount } from '../live/leaderboard-state.js';
import { DeploymentPanel } from './deployment-panel.js';

/** Emoji whose counts differ between the two boards (an emoji missing on one side counts as 0). */
export function differingEmoji(
  a: ReadonlyMap<string, EmojiCount>,
  b: ReadonlyMap<string, EmojiCount>,
): string[] {
  const names = new Set([...a.keys(), ...b.keys()]);
  return [...names]
    .filter((emoji) => (a.get(emoji)?.count ?? 0) !== (b.get(emoji)?.count ?? 0))
    .sort();
}

/** Both deployments at once, over two live connections, with their disagreements marked. */
export function CompareView({ config }: { config: RuntimeConfig }) {
  const [leftId, rightId] = BACKEND_IDS;
  const left = useLiveFeed(config.backends[leftId].wsUrl, hiddenCloseAfterMs(config));
  const right = useLiveFeed(config.backends[rightId].wsUrl, hiddenCloseAfterMs(config));
  const bothReady = left.board.hasSnapshot && right.board.hasSnapshot;
  const differing = useMemo(
    () => (bothReady ? differingEmoji(left.board.rows, right.board.rows) : []),
    [bothReady, left.board.rows, right.board.rows],
  );

  return (
    <>
      <p
        className={`agreement ${differing.length === 0 ? 'agreement-ok' : 'agreement-diff'}`}
        data-testid="agreement"
      >
        {!bothReady ? (
          'Waiting for both deployments…'
        ) : differing.length === 0 ? (
          <>
            <strong>They agree.</strong> {BACKEND_LABELS[leftId]} and {BACKEND_LABELS[rightId]} show
            the same count for every emoji.
          </>
        ) : (
          <>
            <strong>Counts differ for {differing.length} emoji</strong>, marked ≠ with the other
            side&apos;s count. Under live traffic, a difference that clears within a second is an
            update still in flight.
          </>
        )}
      </p>
      <div className="compare">
        <DeploymentPanel
          backend={leftId}
          endpoints={config.backends[leftId]}
          feed={left}
          other={bothReady ? { backend: rightId, rows: right.board.rows } : undefined}
        />
        <DeploymentPanel
          backend={rightId}
          endpoints={config.backends[rightId]}
          feed={right}
          other={bothReady ? { backend: leftId, rows: left.board.rows } : undefined}
        />
      </div>
    </>
  );
}
