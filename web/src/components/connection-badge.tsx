import type { ConnectionStatus } from '../live/connection.js';
import { useNow } from '../hooks/use-now.js';

export type BadgeTone = 'live' | 'pending' | 'warning' | 'offline';

/** The words for a state; never the countdown, which would make screen readers chatter. */
export function describeStatus(status: ConnectionStatus): { label: string; tone: BadgeTone } {
  switch (status.state) {
    case 'live':
      return { label: 'Live', tone: 'live' };
    case 'idle':
    case 'connecting':
      return { label: 'Connecting…', tone: 'pending' };
    case 'reconnecting':
      return { label: 'Reconnecting', tone: 'warning' };
    case 'offline':
      return { label: 'Offline', tone: 'offline' };
    case 'paused':
      return { label: 'Paused', tone: 'offline' };
    case 'stopped':
      return { label: 'Disconnected', tone: 'offline' };
  }
}

interface ConnectionBadgeProps {
  readonly status: ConnectionStatus;
  readonly onRetryNow: () => void;
}

export function ConnectionBadge({ status, onRetryNow }: ConnectionBadgeProps) {
  const counting = status.state === 'reconnecting' && status.retryAt !== null;
  const now = useNow(250, counting);
  const { label, tone } = describeStatus(status);

  let detail: string | null = null;
  if (status.state === 'reconnecting') {
    detail =
      status.retryAt === null
        ? `attempt ${status.attempt + 1}…`
        : `next try in ${Math.max(0, Math.ceil((status.retryAt - now) / 1000))} s`;
  } else if (status.state === 'offline') {
    detail = 'waiting for the network';
  } else if (status.state === 'paused') {
    detail = 'while the tab is hidden';
  }

  return (
    <div className="connection" data-connection-state={status.state}>
      <span className={`badge badge-${tone}`}>
        <span className="badge-dot" aria-hidden="true" />
        <span className="badge-label">{label}</span>
      </span>
      {detail !== null && (
        <span
          className="connection-detail"
          title={status.state === 'reconnecting' ? status.reason : undefined}
        >
          {detail}
        </span>
      )}
      {counting && (
        <button type="button" className="link-button" onClick={onRetryNow}>
          Retry now
        </button>
      )}
    </div>
  );
}
