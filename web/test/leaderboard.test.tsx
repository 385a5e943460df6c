import { describe, expect, it } from '@jest/globals';
import { render, screen, within } from '@testing-library/react';
import { Leaderboard } from '../src/components/leaderboard.js';
import { DeploymentPanel } from '../src/components/deployment-panel.js';
import { initialLeaderboard, leaderboardReducer, rankRows } from '../src/live/leaderboard-state.js';
import type { LiveFeedView } from '../src/hooks/use-live-feed.js';
import type { ConnectionStatus } from '../src/live/connection.js';
import { PlatformProvider } from '../src/platform.js';
import { count, testPlatform } from './support/fakes.js';

function rowsOf(list: HTMLElement) {
  return within(list)
    .getAllByRole('listitem')
    .map((li) => ({
      emoji: li.dataset.emoji,
      text: li.textContent,
      share: li.querySelector<HTMLElement>('.row-bar-fill')?.style.transform,
    }));
}

/** The text a screen reader reaches: everything outside aria-hidden subtrees. */
function spokenText(element: Element): string {
  const parts: string[] = [];
  const walk = (node: Node) => {
    if (node instanceof Element && node.getAttribute('aria-hidden') === 'true') return;
    if (node.nodeType === Node.TEXT_NODE) parts.push(node.textContent ?? '');
    else if (
      node instanceof Element &&
      node !== element &&
      getComputedStyle(node).display !== 'inline'
    )
      parts.push(' ');
    node.childNodes.forEach(walk);
  };
  walk(element);
  return parts.join('').replace(/\s+/g, ' ').trim();
}

function board(entries: ReturnType<typeof count>[], at = Date.UTC(2025, 0, 2, 9, 30, 15)) {
  return leaderboardReducer(initialLeaderboard, { type: 'snapshot', reactions: entries, at });
}

function feed(
  entries: ReturnType<typeof count>[],
  status: ConnectionStatus = { state: 'live', since: 0 },
): LiveFeedView {
  return { board: board(entries), status, retryNow: () => {} };
}

describe('Leaderboard', () => {
  const rows = rankRows(
    board([
      count('tada', 5, 1),
      count('+1', 20, 3),
      count('partyparrot', 10, 2),
      count('wave::skin-tone-3', 1, 1),
    ]).rows,
  );

  it('lists emoji by count with glyphs, custom names, counts and bars relative to the leader', () => {
    render(<Leaderboard rows={rows} label="Droplet leaderboard" />);
    const list = screen.getByRole('list', { name: 'Droplet leaderboard' });
    expect(rowsOf(list)).toEqual([
      { emoji: '+1', text: '1👍:+1:20 reactions', share: 'scaleX(1)' },
      { emoji: 'partyparrot', text: '2P:partyparrot:custom10 reactions', share: 'scaleX(0.5)' },
      { emoji: 'tada', text: '3🎉:tada:5 reactions', share: 'scaleX(0.25)' },
      {
        emoji: 'wave::skin-tone-3',
        text: '4👋🏼:wave::skin-tone-3:1 reaction',
        share: 'scaleX(0.05)',
      },
    ]);
  });

  it('gives screen readers the name and count of each row, not the decorations', () => {
    render(<Leaderboard rows={rows} label="Droplet leaderboard" />);
    expect(screen.getAllByRole('listitem').map(spokenText)).toEqual([
      ':+1: 20 reactions',
      ':partyparrot: custom 10 reactions',
      ':tada: 5 reactions',
      ':wave::skin-tone-3: 1 reaction',
    ]);
  });

  it('reorders when counts change rank', () => {
    const { rerender } = render(<Leaderboard rows={rows} label="L" />);
    const next = rankRows(
      leaderboardReducer(
        board([count('tada', 5, 1), count('+1', 20, 3), count('partyparrot', 10, 2)]),
        {
          type: 'update',
          reactions: [count('tada', 30, 2)],
          at: 1,
        },
      ).rows,
    );
    rerender(<Leaderboard rows={next} label="L" />);
    expect(rowsOf(screen.getByRole('list')).map((r) => [r.emoji, r.share])).toEqual([
      ['tada', 'scaleX(1)'],
      ['+1', 'scaleX(0.6666666666666666)'],
      ['partyparrot', 'scaleX(0.3333333333333333)'],
    ]);
  });

  it('marks rows whose count differs from the other deployment', () => {
    const other = board([count('+1', 20, 3), count('tada', 4, 1)]).rows;
    render(<Leaderboard rows={rows} label="L" compareWith={other} compareLabel="Serverless" />);
    const items = screen.getAllByRole('listitem');
    expect(items[0]!.querySelector('.row-diff')).toBeNull();
    expect(items[1]).toHaveTextContent('differs: Serverless shows 0');
    expect(items[2]).toHaveTextContent('≠ 4');
    expect(items[2]).toHaveTextContent('differs: Serverless shows 4');
  });

  it('renders hundreds of emoji', () => {
    const many = rankRows(
      board(Array.from({ length: 600 }, (_, i) => count(`custom_${i}`, i + 1, 1))).rows,
    );
    render(<Leaderboard rows={many} label="L" />);
    const items = screen.getAllByRole('listitem');
    expect(items).toHaveLength(600);
    expect(items[0]).toHaveTextContent(':custom_599:');
    expect(items[599]).toHaveTextContent(':custom_0:');
  });
});

describe('DeploymentPanel', () => {
  function renderPanel(view: LiveFeedView) {
    return render(
      <PlatformProvider platform={testPlatform()}>
        <DeploymentPanel
          backend="droplet"
          endpoints={{ httpUrl: 'http://d.test', wsUrl: 'ws://d.test/ws' }}
          feed={view}
        />
      </PlatformProvider>,
    );
  }

  it('shows the total, the number of emoji and the time of the last update', () => {
    renderPanel(feed([count('+1', 1_200, 3), count('tada', 34, 1)]));
    const region = screen.getByRole('region', { name: 'Droplet' });
    expect(within(region).getByTestId('total')).toHaveTextContent('1,234');
    expect(within(region).getByText('Emoji').nextSibling).toHaveTextContent('2');
    expect(region.querySelector('time')).toHaveAttribute('datetime', '2025-01-02T09:30:15.000Z');
    expect(within(region).getByText('Live')).toBeInTheDocument();
  });

  it('says when there is nothing to show yet', () => {
    renderPanel(feed([]));
    expect(screen.getByText('No reactions yet')).toBeInTheDocument();
    expect(screen.queryByRole('list')).toBeNull();
  });

  it('keeps the last counts visible, marked as such, while reconnecting', () => {
    renderPanel(
      feed([count('+1', 3, 3)], {
        state: 'reconnecting',
        attempt: 2,
        retryAt: Date.now() + 4_000,
        reason: 'closed (1006)',
      }),
    );
    expect(screen.getByText('Reconnecting')).toBeInTheDocument();
    expect(screen.getByText('next try in 4 s')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Retry now' })).toBeInTheDocument();
    expect(screen.getByRole('note')).toHaveTextContent('Showing the last counts received');
    expect(screen.getByRole('list')).toHaveTextContent(':+1:');
  });
});
