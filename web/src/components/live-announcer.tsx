import { useEffect, useRef, useState } from 'react';
import type { ConnectionStatus } from '../live/connection.js';
import type { EmojiCount } from '../live/leaderboard-state.js';
import { usePlatform } from '../platform.js';
import { formatCount } from './leaderboard.js';

/** At most one announcement of count changes per this many ms: live traffic would never stop talking. */
export const ANNOUNCE_THROTTLE_MS = 10_000;
const NAMED_CHANGES = 3;

/** "Droplet: +1 now 43, tada now 12, and 2 more changed." */
export function describeChanges(label: string, changes: ReadonlyMap<string, number>): string {
  const items = [...changes].sort((a, b) => b[1] - a[1]);
  const named = items
    .slice(0, NAMED_CHANGES)
    .map(([emoji, count]) =>
      count === 0 ? `${emoji} removed` : `${emoji} now ${formatCount(count)}`,
    );
  const rest = items.length - named.length;
  return `${label}: ${named.join(', ')}${rest > 0 ? `, and ${rest} more changed` : ''}.`;
}

function describeTransition(
  label: string,
  from: ConnectionStatus,
  to: ConnectionStatus,
): string | null {
  if (to.state === from.state) return null;
  switch (to.state) {
    case 'live':
      return from.state === 'reconnecting' || from.state === 'offline'
        ? `${label} is live again.`
        : `${label} is live.`;
    case 'reconnecting':
      return from.state === 'live' ? `${label} lost its connection; reconnecting.` : null;
    case 'offline':
      return `${label}: this device is offline; counts resume when the network returns.`;
    default:
      return null;
  }
}

interface LiveAnnouncerProps {
  readonly label: string;
  readonly rows: ReadonlyMap<string, EmojiCount>;
  readonly hasSnapshot: boolean;
  readonly status: ConnectionStatus;
}

/**
 * A polite live region: connection changes are announced when they happen, count changes at most
 * every ANNOUNCE_THROTTLE_MS, summed up since the last announcement.
 */
export function LiveAnnouncer({ label, rows, hasSnapshot, status }: LiveAnnouncerProps) {
  const { timers, now } = usePlatform();
  const [message, setMessage] = useState('');
  const known = useRef<Map<string, number> | null>(null);
  const pending = useRef(new Map<string, number>());
  const lastAnnounced = useRef(Number.NEGATIVE_INFINITY);
  const timer = useRef<unknown>(null);
  const previousStatus = useRef(status);

  useEffect(() => {
    const text = describeTransition(label, previousStatus.current, status);
    previousStatus.current = status;
    if (text !== null) setMessage(text);
  }, [label, status]);

  useEffect(() => {
    if (!hasSnapshot) return;
    const before = known.current;
    const current = new Map<string, number>();
    for (const [emoji, row] of rows) current.set(emoji, row.count);
    known.current = current;
    // The first snapshot is what the page shows on arrival, not a change.
    if (before === null) return;
    for (const [emoji, count] of current)
      if (before.get(emoji) !== count) pending.current.set(emoji, count);
    for (const emoji of before.keys()) if (!current.has(emoji)) pending.current.set(emoji, 0);
    if (pending.current.size === 0 || timer.current !== null) return;

    const announce = () => {
      timer.current = null;
      lastAnnounced.current = now();
      setMessage(describeChanges(label, pending.current));
      pending.current = new Map();
    };
    const wait = lastAnnounced.current + ANNOUNCE_THROTTLE_MS - now();
    if (wait <= 0) announce();
    else timer.current = timers.setTimeout(announce, wait);
  }, [rows, hasSnapshot, label, now, timers]);

  useEffect(
    () => () => {
      if (timer.current !== null) timers.clearTimeout(timer.current);
    },
    [timers],
  );

  return (
    <div className="sr-only" role="status" aria-live="polite" aria-atomic="true">
      {message}
    </div>
  );
}
