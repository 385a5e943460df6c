import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { act, cleanup, render, screen } from '@testing-library/react';
import { App } from '../src/app.js';
import { ANNOUNCE_THROTTLE_MS } from '../src/components/live-announcer.js';
import { createLiveFeed } from '../src/live/live-feed.js';
import { backoffCeiling } from '../src/live/backoff.js';
import { PlatformProvider } from '../src/platform.js';
import { count, FakeNetwork, FakeSocketServer, testPlatform } from './support/fakes.js';

const config = {
  backends: {
    droplet: { httpUrl: 'http://droplet.test', wsUrl: 'ws://droplet.test/ws' },
    serverless: { httpUrl: 'http://sls.test', wsUrl: 'ws://sls.test' },
  },
};

beforeEach(() => {
  jest.useFakeTimers({ now: Date.UTC(2025, 5, 1, 12, 0, 0) });
});
afterEach(() => {
  cleanup();
  jest.useRealTimers();
});

describe('the live feed', () => {
  it('tells its listeners once per frame, however many updates arrived', () => {
    const server = new FakeSocketServer();
    const frames: (() => void)[] = [];
    const feed = createLiveFeed({
      url: 'ws://x.test',
      createSocket: server.factory,
      network: new FakeNetwork(),
      scheduleFrame: (callback) => frames.push(callback),
    });
    let notified = 0;
    feed.subscribe(() => notified++);
    feed.start();
    server.last.open();
    server.last.snapshot([count('+1', 1, 1)]);
    for (let v = 2; v <= 50; v++) server.last.update([count('+1', v, v)]);
    expect(frames).toHaveLength(1);
    expect(feed.getSnapshot().board.hasSnapshot).toBe(false); // not published before the frame
    frames.shift()!();
    expect(notified).toBe(1);
    expect(feed.getSnapshot().board.rows.get('+1')?.count).toBe(50);
    expect(feed.getSnapshot().status.state).toBe('live');
    feed.stop();
  });
});

describe('the dashboard over a flaky connection', () => {
  function renderApp() {
    const platform = testPlatform({ random: () => 0.5 });
    render(
      <PlatformProvider platform={platform}>
        <App config={config} initial={{ backend: 'droplet', view: 'single' }} />
      </PlatformProvider>,
    );
    return platform;
  }

  const status = () =>
    document.querySelector('[data-connection-state]')?.getAttribute('data-connection-state');

  it('shows connecting, live, reconnecting with a countdown, then live with a fresh snapshot', () => {
    const platform = renderApp();
    expect(status()).toBe('connecting');
    expect(screen.getByText('Connecting…')).toBeInTheDocument();
    act(() => {
      platform.server.last.open();
      platform.server.last.snapshot([count('+1', 2, 2)]);
    });
    expect(status()).toBe('live');
    act(() => platform.server.last.update([count('+1', 3, 3), count('tada', 1, 1)]));
    expect(screen.getByTestId('total')).toHaveTextContent('4');

    act(() => platform.server.last.drop(1001, 'server shutting down'));
    expect(status()).toBe('reconnecting');
    expect(screen.getByText('Reconnecting')).toBeInTheDocument();
    // random() = 0.5: the first wait is 250 ms, shown rounded up.
    expect(screen.getByText('next try in 1 s')).toBeInTheDocument();
    act(() => jest.advanceTimersByTime(backoffCeiling(0) / 2));
    expect(platform.server.sockets).toHaveLength(2);
    act(() => platform.server.last.drop());
    // Second failure: up to 1 s, here 500 ms.
    act(() => jest.advanceTimersByTime(backoffCeiling(1) / 2));
    expect(platform.server.sockets).toHaveLength(3);
    expect(screen.getByText('attempt 3…')).toBeInTheDocument();

    const socket = platform.server.last;
    act(() => socket.open());
    expect(socket.actions).toEqual(['getReactions']);
    // While away, a reaction was removed and another added: the snapshot is the truth.
    act(() => socket.snapshot([count('+1', 5, 6)]));
    expect(status()).toBe('live');
    expect(screen.getByTestId('total')).toHaveTextContent('5');
    expect(screen.queryByText(':tada:')).toBeNull();
  });

  it('shows offline while the browser is offline', () => {
    const platform = renderApp();
    act(() => {
      platform.server.last.open();
      platform.server.last.snapshot([count('+1', 2, 2)]);
    });
    act(() => platform.networkSwitch.set(false));
    expect(status()).toBe('offline');
    expect(screen.getByText('Offline')).toBeInTheDocument();
    expect(screen.getByText('waiting for the network')).toBeInTheDocument();
    act(() => platform.networkSwitch.set(true));
    expect(status()).toBe('connecting');
  });

  it('announces changes politely, at most once per throttle period', () => {
    const platform = renderApp();
    const region = screen.getByRole('status');
    expect(region).toHaveAttribute('aria-live', 'polite');
    act(() => {
      platform.server.last.open();
      platform.server.last.snapshot([count('+1', 2, 2), count('tada', 1, 1)]);
    });
    expect(region).toHaveTextContent('Droplet is live.');
    act(() => platform.server.last.update([count('+1', 3, 3)]));
    expect(region).toHaveTextContent('Droplet: +1 now 3.');
    act(() => {
      platform.server.last.update([count('tada', 2, 2)]);
      platform.server.last.update([count('+1', 4, 4)]);
      platform.server.last.update([count('eyes', 1, 1)]);
      platform.server.last.update([count('wave', 1, 1)]);
    });
    expect(region).toHaveTextContent('Droplet: +1 now 3.');
    act(() => jest.advanceTimersByTime(ANNOUNCE_THROTTLE_MS));
    expect(region).toHaveTextContent(
      'Droplet: +1 now 4, tada now 2, eyes now 1, and 1 more changed.',
    );
  });
});
