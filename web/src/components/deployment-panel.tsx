import { useId, useMemo } from 'react';
import {
  BACKEND_DESCRIPTIONS,
  BACKEND_LABELS,
  type BackendEndpoints,
  type BackendId,
} from '../config/runtime-config.js';
import type { LiveFeedView } from '../hooks/use-live-feed.js';
import { useNow } from '../hooks/use-now.js';
import { rankRows, totalCount, type EmojiCount } from '../live/leaderboard-state.js';
import { ConnectionBadge } from './connection-badge.js';
import { formatCount, Leaderboard } from './leaderboard.js';
import { LiveAnnouncer } from './live-announcer.js';

const timeFormat = new Intl.DateTimeFormat('en-GB', {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

export function formatAgo(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  return `${Math.floor(m / 60)} h ago`;
}

function LastUpdate({ at }: { at: number | null }) {
  const now = useNow(1000, at !== null);
  if (at === null) return <span className="stat-value stat-value-small">—</span>;
  return (
    <span className="stat-value stat-value-small">
      <time dateTime={new Date(at).toISOString()}>{timeFormat.format(at)}</time>
      <span className="stat-hint">{formatAgo(now - at)}</span>
    </span>
  );
}

interface DeploymentPanelProps {
  readonly backend: BackendId;
  readonly endpoints: BackendEndpoints;
  readonly feed: LiveFeedView;
  /** Side by side: the other deployment, whose differing counts are marked. */
  readonly other?:
    { readonly backend: BackendId; readonly rows: ReadonlyMap<string, EmojiCount> } | undefined;
}

export function DeploymentPanel({ backend, endpoints, feed, other }: DeploymentPanelProps) {
  const headingId = useId();
  const label = BACKEND_LABELS[backend];
  const { board, status } = feed;
  const ranked = useMemo(() => rankRows(board.rows), [board.rows]);
  const total = useMemo(() => totalCount(board.rows), [board.rows]);
  const stale = board.hasSnapshot && status.state !== 'live';

  return (
    <section
      className={`panel${stale ? ' panel-stale' : ''}`}
      aria-labelledby={headingId}
      data-backend={backend}
    >
      <header className="panel-head">
        <div className="panel-title">
          <h2 id={headingId}>{label}</h2>
          <p className="panel-sub">{BACKEND_DESCRIPTIONS[backend]}</p>
        </div>
        <ConnectionBadge status={status} onRetryNow={feed.retryNow} />
      </header>

      <dl className="stats">
        <div className="stat">
          <dt>Total reactions</dt>
          <dd className="stat-value" data-testid="total">
            {board.hasSnapshot ? formatCount(total) : '—'}
          </dd>
        </div>
        <div className="stat">
          <dt>Emoji</dt>
          <dd className="stat-value">{board.hasSnapshot ? formatCount(board.rows.size) : '—'}</dd>
        </div>
        <div className="stat">
          <dt>Last update</dt>
          <dd>
            <LastUpdate at={board.updatedAt} />
          </dd>
        </div>
      </dl>

      {stale && (
        <p className="notice" role="note">
          Showing the last counts received; they refresh as soon as the connection is back.
        </p>
      )}

      {!board.hasSnapshot ? (
        <div
          className="empty"
          aria-busy={status.state === 'connecting' || status.state === 'reconnecting'}
        >
          <div className="skeleton" aria-hidden="true">
            <span />
            <span />
            <span />
          </div>
          <p>
            {status.state === 'offline'
              ? 'This device is offline.'
              : `Waiting for the first counts from ${endpoints.wsUrl}…`}
          </p>
        </div>
      ) : ranked.length === 0 ? (
        <div className="empty">
          <p className="empty-title">No reactions yet</p>
          <p>React to a message in Slack and it appears here within a second.</p>
        </div>
      ) : (
        <Leaderboard
          rows={ranked}
          label={`${label} leaderboard`}
          compareWith={other?.rows}
          compareLabel={other !== undefined ? BACKEND_LABELS[other.backend] : undefined}
        />
      )}

      <LiveAnnouncer
        label={label}
        rows={board.rows}
        hasSnapshot={board.hasSnapshot}
        status={status}
      />
    </section>
  );
}
