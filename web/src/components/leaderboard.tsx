import { memo, useEffect, useMemo, useRef } from 'react';
import { emojiGlyph } from '../emoji/emoji-glyph.js';
import { useFlip } from '../hooks/use-flip.js';
import { useReducedMotion } from '../hooks/use-reduced-motion.js';
import type { EmojiCount } from '../live/leaderboard-state.js';

interface LeaderboardProps {
  /** Rows in rank order (see `rankRows`). */
  readonly rows: readonly EmojiCount[];
  /** Accessible name of the list, e.g. "Droplet leaderboard". */
  readonly label: string;
  /** The other deployment's counts, when shown side by side; rows that differ get a marker. */
  readonly compareWith?: ReadonlyMap<string, EmojiCount> | undefined;
  readonly compareLabel?: string | undefined;
}

const numberFormat = new Intl.NumberFormat('en-US');

export function formatCount(n: number): string {
  return numberFormat.format(n);
}

export function Leaderboard({ rows, label, compareWith, compareLabel }: LeaderboardProps) {
  const listRef = useRef<HTMLOListElement>(null);
  const reducedMotion = useReducedMotion();
  const orderKey = useMemo(() => rows.map((r) => r.emoji).join('\u0000'), [rows]);
  useFlip(listRef, orderKey, !reducedMotion);
  const leader = rows[0]?.count ?? 0;

  return (
    <ol className="board" aria-label={label} ref={listRef}>
      {rows.map((row, index) => {
        const other = compareWith?.get(row.emoji)?.count ?? 0;
        return (
          <LeaderboardRow
            key={row.emoji}
            emoji={row.emoji}
            count={row.count}
            rank={index + 1}
            share={leader > 0 ? row.count / leader : 0}
            otherCount={compareWith !== undefined && other !== row.count ? other : undefined}
            otherLabel={compareLabel}
            animate={!reducedMotion}
          />
        );
      })}
    </ol>
  );
}

interface RowProps {
  readonly emoji: string;
  readonly count: number;
  readonly rank: number;
  /** count / leader's count, in [0, 1]. */
  readonly share: number;
  /** The other deployment's count when it differs from this one. */
  readonly otherCount: number | undefined;
  readonly otherLabel: string | undefined;
  readonly animate: boolean;
}

/** Memoised: an update to one emoji re-renders its row (and the bars, if the leader changed). */
export const LeaderboardRow = memo(function LeaderboardRow(props: RowProps) {
  const { emoji, count, rank, share, otherCount, otherLabel, animate } = props;
  const glyph = emojiGlyph(emoji);
  const countRef = useRef<HTMLSpanElement>(null);
  const previousCount = useRef(count);

  useEffect(() => {
    const before = previousCount.current;
    previousCount.current = count;
    const el = countRef.current;
    if (before === count || !animate || el === null || typeof el.animate !== 'function') return;
    const flash = getComputedStyle(el).getPropertyValue(
      before < count ? '--flash-up' : '--flash-down',
    );
    if (flash.trim() === '') return;
    el.animate([{ backgroundColor: flash.trim() }, { backgroundColor: 'transparent' }], {
      duration: 900,
      easing: 'ease-out',
    });
  }, [count, animate]);

  return (
    <li
      className={`row${rank === 1 ? ' row-leader' : ''}`}
      data-flip-key={emoji}
      data-emoji={emoji}
    >
      <span className="row-rank" aria-hidden="true">
        {rank}
      </span>
      {glyph !== null ? (
        <span className="row-glyph" aria-hidden="true">
          {glyph}
        </span>
      ) : (
        <span className="row-glyph row-glyph-custom" aria-hidden="true" title="Custom emoji">
          {emoji.slice(0, 1).toUpperCase()}
        </span>
      )}
      <span className="row-name">
        <span className="row-code">:{emoji}:</span>
        {glyph === null && <span className="row-tag">custom</span>}
      </span>
      <span className="row-bar" aria-hidden="true">
        <span className="row-bar-fill" style={{ transform: `scaleX(${share})` }} />
      </span>
      <span className="row-end">
        {otherCount !== undefined && (
          <span
            className="row-diff"
            title={`${otherLabel ?? 'The other deployment'} shows ${formatCount(otherCount)}`}
          >
            <span aria-hidden="true">≠ {formatCount(otherCount)}</span>
          </span>
        )}
        <span className="row-count" ref={countRef}>
          {formatCount(count)}
          <span className="sr-only">{count === 1 ? ' reaction' : ' reactions'}</span>
        </span>
        {otherCount !== undefined && (
          <span className="sr-only">
            , differs: {otherLabel ?? 'the other deployment'} shows {formatCount(otherCount)}
          </span>
        )}
      </span>
    </li>
  );
});
