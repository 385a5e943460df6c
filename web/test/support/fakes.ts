/**
 * Fakes for the platform the dashboard runs on: a scriptable WebSocket, a network switch and a
 * platform object wired to Jest's fake timers.
 */
import type { ServerMessage } from '@reactometer/shared/protocol';
import type {
  NetworkStatus,
  PageVisibility,
  SocketFactory,
  SocketHandlers,
  SocketLike,
} from '../../src/live/connection.js';
import type { EmojiCount } from '../../src/live/leaderboard-state.js';
import type { Platform } from '../../src/platform.js';
import type { PreferenceStorage } from '../../src/config/preferences.js';

export class FakeSocket implements SocketLike {
  readonly sent: string[] = [];
  closed: { code: number | undefined; reason: string | undefined } | null = null;

  constructor(
    readonly url: string,
    private readonly handlers: SocketHandlers,
  ) {}

  /** Parsed client frames, e.g. [{ action: 'getReactions' }]. */
  get actions(): string[] {
    return this.sent.map((frame) => (JSON.parse(frame) as { action: string }).action);
  }

  send(data: string): void {
    if (this.closed !== null) throw new Error('send on a closed FakeSocket');
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closed ??= { code, reason };
  }

  // What the server side does:
  open(): void {
    this.handlers.onOpen();
  }
  receive(message: ServerMessage | string): void {
    this.handlers.onMessage(typeof message === 'string' ? message : JSON.stringify(message));
  }
  snapshot(reactions: EmojiCount[]): void {
    this.receive({ type: 'snapshot', reactions });
  }
  update(reactions: EmojiCount[]): void {
    this.receive({ type: 'update', reactions });
  }
  /** The server or the network ends the connection (1006: no close frame). */
  drop(code = 1006, reason = ''): void {
    this.closed ??= { code, reason };
    this.handlers.onClose(code, reason);
  }
  fail(): void {
    this.handlers.onError();
  }
}

export class FakeSocketServer {
  readonly sockets: FakeSocket[] = [];
  readonly factory: SocketFactory = (url, handlers) => {
    const socket = new FakeSocket(url, handlers);
    this.sockets.push(socket);
    return socket;
  };

  get last(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (socket === undefined) throw new Error('no socket was opened');
    return socket;
  }

  for(url: string): FakeSocket[] {
    return this.sockets.filter((s) => s.url === url);
  }

  lastFor(url: string): FakeSocket {
    const socket = this.for(url).at(-1);
    if (socket === undefined) throw new Error(`no socket was opened to ${url}`);
    return socket;
  }
}

export class FakeNetwork implements NetworkStatus {
  private online = true;
  private readonly listeners = new Set<(online: boolean) => void>();

  isOnline(): boolean {
    return this.online;
  }
  subscribe(listener: (online: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(online: boolean): void {
    this.online = online;
    for (const listener of [...this.listeners]) listener(online);
  }
}

export class FakeVisibility implements PageVisibility {
  private visible = true;
  private readonly listeners = new Set<(visible: boolean) => void>();

  isVisible(): boolean {
    return this.visible;
  }
  subscribe(listener: (visible: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(visible: boolean): void {
    this.visible = visible;
    for (const listener of [...this.listeners]) listener(visible);
  }
}

export class MemoryStorage implements PreferenceStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

export interface TestPlatform extends Platform {
  readonly server: FakeSocketServer;
  readonly networkSwitch: FakeNetwork;
  readonly visibilitySwitch: FakeVisibility;
  readonly memory: MemoryStorage;
  readonly urls: string[];
}

/**
 * A platform on Jest's timers (real or fake, whichever is installed when it is called) that
 * renders synchronously instead of once per animation frame.
 */
export function testPlatform(options: { href?: string; random?: () => number } = {}): TestPlatform {
  const server = new FakeSocketServer();
  const networkSwitch = new FakeNetwork();
  const visibilitySwitch = new FakeVisibility();
  const memory = new MemoryStorage();
  const urls = [options.href ?? 'http://dashboard.test/'];
  return {
    server,
    networkSwitch,
    visibilitySwitch,
    memory,
    urls,
    createSocket: server.factory,
    network: networkSwitch,
    visibility: visibilitySwitch,
    timers: {
      setTimeout: (callback, ms) => setTimeout(callback, ms),
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    },
    now: () => Date.now(),
    random: options.random ?? (() => 0.5),
    scheduleFrame: (callback) => callback(),
    storage: memory,
    href: () => urls.at(-1) ?? '',
    replaceUrl: (url) => urls.push(url),
  };
}

export function count(emoji: string, n: number, version: number): EmojiCount {
  return { emoji, count: n, version };
}
