import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { backoffCeiling, backoffDelay } from '../src/live/backoff.js';
import {
  CLIENT_CLOSE,
  Connection,
  HANDSHAKE_TIMEOUT_MS,
  HIDDEN_CLOSE_AFTER_MS,
  PING_INTERVAL_MS,
  PONG_TIMEOUT_MS,
  type ConnectionOptions,
  type ConnectionStatus,
} from '../src/live/connection.js';
import { count, FakeNetwork, FakeSocketServer, FakeVisibility } from './support/fakes.js';

const URL = 'ws://backend.test/ws';

function setup(overrides: Partial<ConnectionOptions> = {}) {
  const server = new FakeSocketServer();
  const network = new FakeNetwork();
  const visibility = new FakeVisibility();
  const statuses: ConnectionStatus[] = [];
  const messages: unknown[] = [];
  const connection = new Connection({
    url: URL,
    createSocket: server.factory,
    network,
    visibility,
    random: () => 0.999,
    onStatus: (s) => statuses.push(s),
    onMessage: (m) => messages.push(m),
    ...overrides,
  });
  const state = () => connection.status.state;
  return { server, network, visibility, statuses, messages, connection, state };
}

beforeEach(() => {
  jest.useFakeTimers({ now: 1_700_000_000_000 });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('backoff with full jitter', () => {
  it('grows exponentially from the base up to the cap', () => {
    const policy = { baseMs: 500, capMs: 30_000 };
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffCeiling(n, policy))).toEqual([
      500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('draws every delay uniformly below the ceiling', () => {
    for (const attempt of [0, 3, 9]) {
      const ceiling = backoffCeiling(attempt);
      expect(backoffDelay(attempt, () => 0)).toBe(0);
      expect(backoffDelay(attempt, () => 0.5)).toBe(Math.floor(ceiling / 2));
      expect(backoffDelay(attempt, () => 0.999_999)).toBeLessThan(ceiling);
      for (let i = 0; i < 200; i++) {
        const delay = backoffDelay(attempt, Math.random);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
      }
    }
  });
});

describe('Connection', () => {
  it('asks for a snapshot when the socket opens, and is live once it arrives', () => {
    const { server, connection, state, messages } = setup();
    connection.start();
    expect(state()).toBe('connecting');
    expect(server.last.url).toBe(URL);
    server.last.open();
    expect(server.last.actions).toEqual(['getReactions']);
    expect(state()).toBe('connecting');
    server.last.snapshot([count('+1', 1, 1)]);
    expect(state()).toBe('live');
    expect(messages).toEqual([{ type: 'snapshot', reactions: [count('+1', 1, 1)] }]);
  });

  it('asks once more after a snapshot served from a cached copy (refreshAfterMs), once per socket', () => {
    const requested: number[] = [];
    const { server, connection } = setup({ onSnapshotRequested: () => requested.push(Date.now()) });
    connection.start();
    server.last.open();
    server.last.receive(
      JSON.stringify({ type: 'snapshot', reactions: [count('+1', 1, 1)], refreshAfterMs: 1000 }),
    );
    jest.advanceTimersByTime(1000);
    expect(server.last.actions).toEqual(['getReactions']);
    jest.advanceTimersByTime(500);
    expect(server.last.actions).toEqual(['getReactions', 'getReactions']);
    expect(requested).toHaveLength(2);
    // The follow-up's own refreshAfterMs does not start a loop.
    server.last.receive(
      JSON.stringify({ type: 'snapshot', reactions: [count('+1', 2, 2)], refreshAfterMs: 1000 }),
    );
    jest.advanceTimersByTime(10_000);
    expect(server.last.actions).toEqual(['getReactions', 'getReactions']);
  });

  it('asks only once when the snapshot is current (no refreshAfterMs), and not on a dropped socket', () => {
    const { server, connection } = setup();
    connection.start();
    server.last.open();
    server.last.snapshot([count('+1', 1, 1)]);
    jest.advanceTimersByTime(10_000);
    expect(server.last.actions).toEqual(['getReactions']);
    const first = server.last;
    first.receive(JSON.stringify({ type: 'snapshot', reactions: [], refreshAfterMs: 1000 }));
    first.drop();
    jest.advanceTimersByTime(2_000);
    expect(first.actions).toEqual(['getReactions']);
  });

  it('drops frames that are not valid contract messages', () => {
    const { server, connection, messages } = setup();
    connection.start();
    server.last.open();
    server.last.receive('not json');
    server.last.receive('{"type":"update","reactions":[{"emoji":"x","count":-1,"version":1}]}');
    server.last.receive('{"type":"surprise"}');
    expect(messages).toEqual([]);
  });

  it('reconnects with a growing backoff while the server stays down', () => {
    const { server, connection, statuses } = setup();
    connection.start();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const before = server.sockets.length;
      server.last.drop();
      const status = connection.status;
      if (status.state !== 'reconnecting' || status.retryAt === null)
        throw new Error(`unexpected ${status.state}`);
      delays.push(status.retryAt - Date.now());
      expect(status.attempt).toBe(i + 1);
      // Nothing happens before the delay is over; the next attempt starts right at it.
      jest.advanceTimersByTime(Math.max(0, delays[i]! - 1));
      expect(server.sockets.length).toBe(before);
      jest.advanceTimersByTime(1);
      expect(server.sockets.length).toBe(before + 1);
    }
    // random() = 0.999: each delay is just under its ceiling, 500 ms doubling up to the 30 s cap.
    expect(delays).toEqual([499, 999, 1_998, 3_996, 7_992, 15_984, 29_970, 29_970]);
    expect(statuses.some((s) => s.state === 'live')).toBe(false);
  });

  it('keeps each delay within [0, ceiling) for any random draw', () => {
    for (const r of [0, 0.25, 0.999_999]) {
      const { server, connection } = setup({ random: () => r });
      connection.start();
      for (let attempt = 0; attempt < 10; attempt++) {
        server.last.drop();
        const status = connection.status;
        if (status.state !== 'reconnecting' || status.retryAt === null)
          throw new Error('not waiting');
        const delay = status.retryAt - Date.now();
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(backoffCeiling(attempt));
        expect(delay).toBe(Math.floor(r * backoffCeiling(attempt)));
        jest.advanceTimersByTime(delay);
      }
      connection.stop();
    }
  });

  it('takes a fresh snapshot after reconnecting, and resets the backoff once live', () => {
    const { server, connection, state } = setup();
    connection.start();
    server.last.open();
    server.last.snapshot([count('+1', 1, 1)]);
    server.last.drop(1001, 'server shutting down');
    expect(state()).toBe('reconnecting');
    server.last.drop(); // not reached: the old socket is forgotten
    jest.advanceTimersByTime(backoffCeiling(0));
    expect(server.sockets).toHaveLength(2);
    server.last.drop(); // the first retry fails too
    jest.advanceTimersByTime(backoffCeiling(1));
    expect(server.sockets).toHaveLength(3);
    const socket = server.last;
    socket.open();
    expect(socket.actions).toEqual(['getReactions']);
    expect(state()).toBe('reconnecting');
    socket.snapshot([count('+1', 2, 2)]);
    expect(state()).toBe('live');
    // The next loss starts from the smallest delay again.
    socket.drop();
    const status = connection.status;
    if (status.state !== 'reconnecting' || status.retryAt === null) throw new Error('not waiting');
    expect(status.attempt).toBe(1);
    expect(status.retryAt - Date.now()).toBeLessThan(backoffCeiling(0));
  });

  it('pings every five minutes while live, and reconnects when nothing answers', () => {
    const { server, connection, state } = setup();
    connection.start();
    const socket = server.last;
    socket.open();
    socket.snapshot([]);
    expect(PING_INTERVAL_MS).toBe(5 * 60_000);
    jest.advanceTimersByTime(PING_INTERVAL_MS - 1);
    expect(socket.actions).toEqual(['getReactions']);
    jest.advanceTimersByTime(1);
    expect(socket.actions).toEqual(['getReactions', 'ping']);
    socket.receive({ type: 'pong' });
    jest.advanceTimersByTime(PING_INTERVAL_MS);
    expect(socket.actions).toEqual(['getReactions', 'ping', 'ping']);
    expect(state()).toBe('live');
    // This ping gets no answer: the link is dead even though no close event came.
    jest.advanceTimersByTime(PONG_TIMEOUT_MS);
    expect(state()).toBe('reconnecting');
    expect(socket.closed?.code).toBe(CLIENT_CLOSE.keepaliveTimeout);
  });

  it('gives up on an attempt that gets no snapshot in time', () => {
    const { server, connection, state } = setup();
    connection.start();
    server.last.open();
    jest.advanceTimersByTime(HANDSHAKE_TIMEOUT_MS);
    expect(state()).toBe('reconnecting');
    expect(server.last.closed?.code).toBe(CLIENT_CLOSE.handshakeTimeout);
  });

  it('treats an error like a close, once', () => {
    const { server, connection, statuses } = setup();
    connection.start();
    server.last.fail();
    server.last.drop();
    expect(statuses.filter((s) => s.state === 'reconnecting')).toHaveLength(1);
  });

  it('goes offline with the browser, without retrying, and reconnects at once when back', () => {
    const { server, network, connection, state } = setup();
    connection.start();
    server.last.open();
    server.last.snapshot([]);
    network.set(false);
    expect(state()).toBe('offline');
    expect(server.last.closed?.code).toBe(CLIENT_CLOSE.offline);
    jest.advanceTimersByTime(10 * 60_000);
    expect(server.sockets).toHaveLength(1);
    network.set(true);
    expect(server.sockets).toHaveLength(2);
    expect(state()).toBe('connecting');
  });

  it('starts offline when the browser is offline', () => {
    const { server, network, connection, state } = setup();
    network.set(false);
    connection.start();
    expect(state()).toBe('offline');
    expect(server.sockets).toHaveLength(0);
  });

  it('retries at once on retryNow()', () => {
    const { server, connection } = setup();
    connection.start();
    server.last.drop();
    connection.retryNow();
    expect(server.sockets).toHaveLength(2);
  });

  it('stops for good: closes the socket, cancels timers, ignores late events', () => {
    const { server, connection, state } = setup();
    connection.start();
    const socket = server.last;
    socket.open();
    connection.stop();
    expect(state()).toBe('stopped');
    expect(socket.closed?.code).toBe(CLIENT_CLOSE.stopped);
    socket.snapshot([]);
    socket.drop();
    jest.advanceTimersByTime(60_000);
    expect(state()).toBe('stopped');
    expect(server.sockets).toHaveLength(1);
  });

  it('retries when the socket cannot even be created', () => {
    let calls = 0;
    const server = new FakeSocketServer();
    const { connection, state } = setup({
      createSocket: (url, handlers) => {
        calls++;
        if (calls === 1) throw new SyntaxError('bad URL');
        return server.factory(url, handlers);
      },
    });
    connection.start();
    expect(state()).toBe('reconnecting');
    jest.advanceTimersByTime(backoffCeiling(0));
    expect(server.sockets).toHaveLength(1);
  });

  describe('a hidden tab', () => {
    it('closes its socket after the hidden time, stops retrying, and takes a fresh snapshot when shown', () => {
      const { server, visibility, connection, state, messages } = setup();
      connection.start();
      server.last.open();
      server.last.snapshot([count('tada', 1, 1)]);
      visibility.set(false);
      jest.advanceTimersByTime(HIDDEN_CLOSE_AFTER_MS - 1);
      expect(state()).toBe('live');
      jest.advanceTimersByTime(1);
      expect(state()).toBe('paused');
      expect(server.last.closed?.code).toBe(CLIENT_CLOSE.hidden);
      jest.advanceTimersByTime(60 * 60_000);
      expect(server.sockets).toHaveLength(1);

      visibility.set(true);
      expect(server.sockets).toHaveLength(2);
      expect(state()).toBe('connecting');
      server.last.open();
      expect(server.last.sent).toEqual([JSON.stringify({ action: 'getReactions' })]);
      server.last.snapshot([count('tada', 4, 9)]);
      expect(state()).toBe('live');
      expect(messages.at(-1)).toEqual({ type: 'snapshot', reactions: [count('tada', 4, 9)] });
    });

    it('keeps the socket when shown again before the hidden time', () => {
      const { server, visibility, connection, state } = setup({ hiddenCloseAfterMs: 1_000 });
      connection.start();
      server.last.open();
      server.last.snapshot([]);
      visibility.set(false);
      jest.advanceTimersByTime(999);
      visibility.set(true);
      jest.advanceTimersByTime(10_000);
      expect(state()).toBe('live');
      expect(server.last.closed).toBeNull();
      expect(server.sockets).toHaveLength(1);
    });

    it('stops a reconnect loop too, and counts from the start when opened in the background', () => {
      const { server, visibility, connection, state } = setup({ hiddenCloseAfterMs: 1_000 });
      visibility.set(false);
      connection.start();
      server.last.drop();
      expect(state()).toBe('reconnecting');
      jest.advanceTimersByTime(1_000);
      expect(state()).toBe('paused');
      const opened = server.sockets.length;
      jest.advanceTimersByTime(10 * 60_000);
      expect(server.sockets).toHaveLength(opened);
    });

    it('stays paused through network changes and goes offline if shown while offline', () => {
      const { server, network, visibility, connection, state } = setup({ hiddenCloseAfterMs: 10 });
      connection.start();
      server.last.open();
      server.last.snapshot([]);
      visibility.set(false);
      jest.advanceTimersByTime(10);
      network.set(false);
      network.set(true);
      expect(state()).toBe('paused');
      network.set(false);
      visibility.set(true);
      expect(state()).toBe('offline');
      network.set(true);
      expect(state()).toBe('connecting');
    });
  });
});
