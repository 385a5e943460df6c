/**
 * The dashboard's WebSocket connection as a state machine, with the socket, timers, clock,
 * randomness and network status injected so that every transition is unit-tested with fakes.
 *
 *   connecting --snapshot--> live --close/error--> reconnecting --timer--> (attempt) --snapshot--> live
 *        any --browser offline--> offline --online--> connecting
 *        any --tab hidden for hiddenCloseAfterMs--> paused --tab shown--> connecting
 *
 * "Live" means a snapshot has arrived on this socket, so the counts on screen are the server's.
 */
import {
  serverMessageSchema,
  type ClientMessage,
  type ServerMessage,
} from '@reactometer/shared/protocol';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';

/** Added to a snapshot's `refreshAfterMs`: the server's copy has surely expired by then. */
const REFRESH_MARGIN_MS = 250;

export type ConnectionStatus =
  | { readonly state: 'idle' }
  | { readonly state: 'connecting' }
  | { readonly state: 'live'; readonly since: number }
  | {
      readonly state: 'reconnecting';
      /** Failed attempts in a row (1 after the first failure). */
      readonly attempt: number;
      /** When the next attempt starts (client clock, ms); null while an attempt is under way. */
      readonly retryAt: number | null;
      readonly reason: string;
    }
  | { readonly state: 'offline' }
  /** The tab has been hidden long enough to close the socket; it reconnects when shown. */
  | { readonly state: 'paused' }
  | { readonly state: 'stopped' };

export interface SocketHandlers {
  onOpen(): void;
  onMessage(data: unknown): void;
  onClose(code: number, reason: string): void;
  onError(): void;
}

/** What the connection needs of a WebSocket. */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string, handlers: SocketHandlers) => SocketLike;

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface NetworkStatus {
  isOnline(): boolean;
  /** Calls back with the new state on every change; returns an unsubscribe function. */
  subscribe(listener: (online: boolean) => void): () => void;
}

export interface PageVisibility {
  isVisible(): boolean;
  /** Calls back with the new state on every change; returns an unsubscribe function. */
  subscribe(listener: (visible: boolean) => void): () => void;
}

export interface ConnectionOptions {
  readonly url: string;
  readonly createSocket: SocketFactory;
  readonly timers?: Timers;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly network?: NetworkStatus;
  readonly visibility?: PageVisibility;
  /**
   * A tab hidden this long closes its socket (a dashboard nobody looks at still costs a connection
   * and every message on API Gateway) and reconnects, with a fresh snapshot, when shown again.
   */
  readonly hiddenCloseAfterMs?: number;
  readonly backoff?: BackoffPolicy;
  /** API Gateway drops a connection idle for 10 minutes; ping well inside that. */
  readonly pingIntervalMs?: number;
  /** No frame at all this long after a ping: the link is dead (half-open TCP), reconnect. */
  readonly pongTimeoutMs?: number;
  /** From creating a socket to its snapshot; longer means the attempt failed. */
  readonly handshakeTimeoutMs?: number;
  readonly onStatus?: (status: ConnectionStatus) => void;
  /** Every valid server frame, in order. */
  readonly onMessage?: (message: ServerMessage) => void;
  /** Called right before `getReactions` is sent on a new socket. */
  readonly onSnapshotRequested?: () => void;
}

export const PING_INTERVAL_MS = 5 * 60_000;
export const PONG_TIMEOUT_MS = 20_000;
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Default for `hiddenCloseAfterMs`; `hiddenTabCloseSeconds` in config.json changes it. */
export const HIDDEN_CLOSE_AFTER_MS = 5 * 60_000;

/** Close codes the client uses for its own decisions (4000-4999 are the application's). */
export const CLIENT_CLOSE = {
  stopped: 1000,
  keepaliveTimeout: 4000,
  handshakeTimeout: 4001,
  offline: 4002,
  retry: 4003,
  hidden: 4004,
} as const;

export const browserTimers: Timers = {
  // Looked up at call time, so that fake timers installed by a test after import still apply.
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** A browser's `navigator.onLine` and its `online` / `offline` events. */
export const browserNetwork: NetworkStatus = {
  isOnline: () => (typeof navigator === 'undefined' ? true : navigator.onLine !== false),
  subscribe(listener) {
    if (typeof window === 'undefined') return () => {};
    const online = () => listener(true);
    const offline = () => listener(false);
    window.addEventListener('online', online);
    window.addEventListener('offline', offline);
    return () => {
      window.removeEventListener('online', online);
      window.removeEventListener('offline', offline);
    };
  },
};

/** The page's `document.visibilityState` and its `visibilitychange` event. */
export const browserVisibility: PageVisibility = {
  isVisible: () => typeof document === 'undefined' || document.visibilityState !== 'hidden',
  subscribe(listener) {
    if (typeof document === 'undefined') return () => {};
    const changed = () => listener(document.visibilityState !== 'hidden');
    document.addEventListener('visibilitychange', changed);
    return () => document.removeEventListener('visibilitychange', changed);
  },
};

/** The browser's WebSocket behind the `SocketLike` interface. */
export const browserSocketFactory: SocketFactory = (url, handlers) => {
  const ws = new WebSocket(url);
  ws.onopen = () => handlers.onOpen();
  ws.onmessage = (event: MessageEvent) => handlers.onMessage(event.data);
  ws.onclose = (event: CloseEvent) => handlers.onClose(event.code, event.reason);
  ws.onerror = () => handlers.onError();
  return {
    send: (data) => ws.send(data),
    close: (code, reason) => ws.close(code, reason),
  };
};

export class Connection {
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly network: NetworkStatus;
  private readonly visibility: PageVisibility;
  private readonly hiddenCloseAfterMs: number;
  private readonly backoff: BackoffPolicy;
  private readonly pingIntervalMs: number;
  private readonly pongTimeoutMs: number;
  private readonly handshakeTimeoutMs: number;

  private current: ConnectionStatus = { state: 'idle' };
  private socket: SocketLike | null = null;
  /** Identifies the current socket; callbacks from older sockets compare and drop themselves. */
  private generation = 0;
  private failures = 0;
  private retryTimer: unknown = null;
  private handshakeTimer: unknown = null;
  private pingTimer: unknown = null;
  private pongTimer: unknown = null;
  private hiddenTimer: unknown = null;
  private refreshTimer: unknown = null;
  /** The follow-up snapshot of this socket has been scheduled (at most one per socket). */
  private refreshScheduled = false;
  private unsubscribeNetwork: (() => void) | null = null;
  private unsubscribeVisibility: (() => void) | null = null;
  private running = false;
  /** Why the last socket was lost, shown while reconnecting. */
  private lastReason = '';

  constructor(private readonly options: ConnectionOptions) {
    this.timers = options.timers ?? browserTimers;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.network = options.network ?? browserNetwork;
    this.visibility = options.visibility ?? browserVisibility;
    this.hiddenCloseAfterMs = options.hiddenCloseAfterMs ?? HIDDEN_CLOSE_AFTER_MS;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.pingIntervalMs = options.pingIntervalMs ?? PING_INTERVAL_MS;
    this.pongTimeoutMs = options.pongTimeoutMs ?? PONG_TIMEOUT_MS;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  }

  get status(): ConnectionStatus {
    return this.current;
  }

  /** Connects (or waits for the network); calling it again after `stop()` starts afresh. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    this.unsubscribeNetwork = this.network.subscribe((online) => this.onNetworkChange(online));
    this.unsubscribeVisibility = this.visibility.subscribe((visible) =>
      this.onVisibilityChange(visible),
    );
    if (this.network.isOnline()) this.open();
    else this.setStatus({ state: 'offline' });
    // A tab opened in the background starts its hidden clock now.
    if (!this.visibility.isVisible()) this.onVisibilityChange(false);
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.unsubscribeNetwork?.();
    this.unsubscribeNetwork = null;
    this.unsubscribeVisibility?.();
    this.unsubscribeVisibility = null;
    this.dropSocket(CLIENT_CLOSE.stopped, 'dashboard closed');
    this.clearTimer('retryTimer');
    this.clearTimer('hiddenTimer');
    this.setStatus({ state: 'stopped' });
  }

  /** Skips the rest of a backoff wait (the "Retry now" button). */
  retryNow(): void {
    if (!this.running || this.current.state !== 'reconnecting' || this.current.retryAt === null)
      return;
    this.clearTimer('retryTimer');
    this.open();
  }

  private setStatus(status: ConnectionStatus): void {
    this.current = status;
    this.options.onStatus?.(status);
  }

  private clearTimer(
    name:
      'retryTimer' | 'handshakeTimer' | 'pingTimer' | 'pongTimer' | 'hiddenTimer' | 'refreshTimer',
  ): void {
    if (this[name] !== null) this.timers.clearTimeout(this[name]);
    this[name] = null;
  }

  private open(): void {
    const generation = ++this.generation;
    const isCurrent = () => this.running && generation === this.generation;
    this.refreshScheduled = false;
    if (this.failures === 0) this.setStatus({ state: 'connecting' });
    else
      this.setStatus({
        state: 'reconnecting',
        attempt: this.failures,
        retryAt: null,
        reason: this.lastReason,
      });

    let socket: SocketLike;
    try {
      socket = this.options.createSocket(this.options.url, {
        onOpen: () => {
          if (!isCurrent()) return;
          this.options.onSnapshotRequested?.();
          this.send({ action: 'getReactions' });
        },
        onMessage: (data) => {
          if (isCurrent()) this.onFrame(data);
        },
        onClose: (code, reason) => {
          if (isCurrent())
            this.onLost(reason === '' ? `closed (${code})` : `closed (${code} ${reason})`);
        },
        // Browsers follow every error with a close; a socket that does not is closed here.
        onError: () => {
          if (isCurrent()) this.onLost('connection failed');
        },
      });
    } catch (err) {
      this.socket = null;
      this.onLost(`could not open (${(err as Error).message})`);
      return;
    }
    this.socket = socket;
    this.handshakeTimer = this.timers.setTimeout(() => {
      this.handshakeTimer = null;
      if (isCurrent()) this.onLost('no snapshot in time', CLIENT_CLOSE.handshakeTimeout);
    }, this.handshakeTimeoutMs);
  }

  private send(message: ClientMessage): void {
    try {
      this.socket?.send(JSON.stringify(message));
    } catch {
      // A send on a socket that is closing throws in some browsers; its close event follows.
    }
  }

  private onFrame(data: unknown): void {
    // Any frame proves the link is alive.
    this.clearTimer('pongTimer');
    if (typeof data !== 'string') return;
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return;
    }
    const parsed = serverMessageSchema.safeParse(json);
    if (!parsed.success) return;
    const message = parsed.data;
    if (message.type === 'snapshot') {
      this.clearTimer('handshakeTimer');
      this.failures = 0;
      if (this.current.state !== 'live') this.setStatus({ state: 'live', since: this.now() });
      this.schedulePing();
      if (message.refreshAfterMs !== undefined) this.scheduleRefresh(message.refreshAfterMs);
    }
    this.options.onMessage?.(message);
  }

  /**
   * A snapshot served from a cached copy (serverless: up to COUNTS_CACHE_MS old) can miss a
   * change fanned out just before this socket was registered, and no update would bring it: ask
   * once more when the copy has expired. Once per socket, so the follow-up's own
   * `refreshAfterMs` does not start a loop.
   */
  private scheduleRefresh(afterMs: number): void {
    if (this.refreshScheduled) return;
    this.refreshScheduled = true;
    const generation = this.generation;
    this.refreshTimer = this.timers.setTimeout(() => {
      this.refreshTimer = null;
      if (!this.running || generation !== this.generation) return;
      this.options.onSnapshotRequested?.();
      this.send({ action: 'getReactions' });
    }, afterMs + REFRESH_MARGIN_MS);
  }

  private schedulePing(): void {
    this.clearTimer('pingTimer');
    const generation = this.generation;
    this.pingTimer = this.timers.setTimeout(() => {
      this.pingTimer = null;
      if (!this.running || generation !== this.generation) return;
      this.send({ action: 'ping' });
      this.clearTimer('pongTimer');
      this.pongTimer = this.timers.setTimeout(() => {
        this.pongTimer = null;
        if (this.running && generation === this.generation) {
          this.onLost('no answer to keepalive ping', CLIENT_CLOSE.keepaliveTimeout);
        }
      }, this.pongTimeoutMs);
      this.schedulePing();
    }, this.pingIntervalMs);
  }

  /** Closes and forgets the current socket; its late callbacks are ignored. */
  private dropSocket(code: number, reason: string): void {
    this.generation++;
    this.clearTimer('refreshTimer');
    this.clearTimer('handshakeTimer');
    this.clearTimer('pingTimer');
    this.clearTimer('pongTimer');
    const socket = this.socket;
    this.socket = null;
    try {
      socket?.close(code, reason);
    } catch {
      // Already closed.
    }
  }

  private onLost(reason: string, closeCode: number = CLIENT_CLOSE.retry): void {
    this.dropSocket(closeCode, reason);
    this.lastReason = reason;
    if (!this.network.isOnline()) {
      this.setStatus({ state: 'offline' });
      return;
    }
    const delay = backoffDelay(this.failures, this.random, this.backoff);
    this.failures++;
    this.setStatus({
      state: 'reconnecting',
      attempt: this.failures,
      retryAt: this.now() + delay,
      reason,
    });
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      if (this.running) this.open();
    }, delay);
  }

  private onVisibilityChange(visible: boolean): void {
    if (!this.running) return;
    if (!visible) {
      if (this.hiddenTimer !== null || this.current.state === 'paused') return;
      this.hiddenTimer = this.timers.setTimeout(() => {
        this.hiddenTimer = null;
        if (!this.running) return;
        // No socket, no retries and no network watch while nobody looks.
        this.clearTimer('retryTimer');
        this.dropSocket(CLIENT_CLOSE.hidden, 'tab hidden');
        this.setStatus({ state: 'paused' });
      }, this.hiddenCloseAfterMs);
      return;
    }
    this.clearTimer('hiddenTimer');
    if (this.current.state === 'paused') {
      // Shown again: a fresh socket and snapshot, without a backoff the server did not cause.
      this.failures = 0;
      if (this.network.isOnline()) this.open();
      else this.setStatus({ state: 'offline' });
    }
  }

  private onNetworkChange(online: boolean): void {
    if (!this.running) return;
    if (this.current.state === 'paused') return;
    if (!online) {
      this.clearTimer('retryTimer');
      this.dropSocket(CLIENT_CLOSE.offline, 'browser offline');
      this.setStatus({ state: 'offline' });
      return;
    }
    if (this.current.state === 'offline') {
      // Back online: the wait so far was the network's fault, not the server's; start afresh.
      this.failures = 0;
      this.open();
    }
  }
}
