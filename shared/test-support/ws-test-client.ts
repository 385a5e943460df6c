/**
 * A WebSocket client for tests that never hangs: every wait has a deadline and fails with what
 * was received so far, so a missing update shows up as a readable failure instead of a Jest
 * timeout. Every frame is checked against the contract's `serverMessageSchema`.
 */
import WebSocket from 'ws';
import { serverMessageSchema, type ServerMessage } from '../src/protocol/index.js';

export interface WsCloseInfo {
  readonly code: number;
  readonly reason: string;
}

/** The HTTP answer to an upgrade that was refused (no WebSocket was opened). */
export interface RefusedUpgrade {
  readonly status: number;
  readonly body: string;
}

export interface WaitOptions {
  /** Shown in the failure message: what the test was waiting for. */
  readonly description: string;
  readonly timeoutMs?: number;
}

export const DEFAULT_WS_TIMEOUT_MS = 10_000;

/** How to reach a `wss://` endpoint whose certificate no public CA signed (a test's own). */
/** Headers of the opening handshake, e.g. `Origin` (a `ws` client sends none by default). */
export type HandshakeHeaders = Readonly<Record<string, string>>;

export interface TlsTrust {
  /** PEM of the certificate (or its CA) to trust, on top of none: only it is accepted. */
  readonly ca?: string;
}

interface Waiter {
  readonly check: () => boolean;
  readonly resolve: () => void;
}

export class WsTestClient {
  /** Every frame that matched the contract, in arrival order. */
  readonly messages: ServerMessage[] = [];
  /** Frames that were not valid contract messages (a test asserts this stays empty). */
  readonly invalid: string[] = [];
  /** Resolves when the socket has closed, with the close code the client saw. */
  readonly closed: Promise<WsCloseInfo>;
  private closeInfo: WsCloseInfo | undefined;
  private readonly waiters = new Set<Waiter>();

  private constructor(
    readonly socket: WebSocket,
    private readonly defaultTimeoutMs: number,
  ) {
    socket.on('message', (data, isBinary) => {
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.isBuffer(data)
          ? data.toString('utf8')
          : Buffer.from(data).toString('utf8');
      let parsed: unknown;
      try {
        parsed = isBinary ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const result = serverMessageSchema.safeParse(parsed);
      if (result.success) this.messages.push(result.data);
      else this.invalid.push(isBinary ? `(binary ${text.length} bytes)` : text);
      this.notify();
    });
    // A listener is required: ws emits 'error' for protocol failures and would throw without one.
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => {
      socket.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        resolve(this.closeInfo);
        this.notify();
      });
    });
  }

  /** Opens a connection; rejects (with the HTTP status, if any) when it cannot be opened. */
  static async connect(
    url: string,
    timeoutMs = DEFAULT_WS_TIMEOUT_MS,
    tls: TlsTrust = {},
  ): Promise<WsTestClient> {
    const result = await WsTestClient.tryConnect(url, timeoutMs, tls);
    if (result instanceof WsTestClient) return result;
    throw new Error(
      `WebSocket upgrade to ${url} refused with HTTP ${result.status}: ${result.body}`,
    );
  }

  /** Opens a connection, or resolves with the HTTP response that refused the upgrade. */
  static tryConnect(
    url: string,
    timeoutMs = DEFAULT_WS_TIMEOUT_MS,
    tls: TlsTrust = {},
    headers: HandshakeHeaders = {},
  ): Promise<WsTestClient | RefusedUpgrade> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, {
        handshakeTimeout: timeoutMs,
        headers: { ...headers },
        ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
      });
      const fail = (err: Error): void =>
        reject(new Error(`WebSocket connect to ${url} failed: ${err.message}`));
      socket.once('error', fail);
      socket.once('unexpected-response', (_req, res) => {
        socket.off('error', fail);
        socket.on('error', () => undefined);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => undefined);
        const done = (): void =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        res.once('end', done);
        res.once('close', done);
      });
      socket.once('open', () => {
        socket.off('error', fail);
        resolve(new WsTestClient(socket, timeoutMs));
      });
    });
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends an object as JSON, or a string / bytes as they are (text frame unless bytes). */
  send(data: string | Buffer | Record<string, unknown>): void {
    if (typeof data === 'string' || Buffer.isBuffer(data))
      this.socket.send(data, { binary: Buffer.isBuffer(data) });
    else this.socket.send(JSON.stringify(data));
  }

  /** Resolves once `condition` holds (checked now and after every frame or close); rejects at the deadline. */
  waitUntil(condition: () => boolean, options: WaitOptions): Promise<void> {
    if (condition()) return Promise.resolve();
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check: condition,
        resolve: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${options.description}; ` +
              `received ${JSON.stringify(this.messages).slice(0, 2000)}` +
              (this.invalid.length > 0
                ? `; invalid frames ${JSON.stringify(this.invalid).slice(0, 500)}`
                : '') +
              (this.closeInfo ? `; socket closed with ${this.closeInfo.code}` : ''),
          ),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** The first message after index `from` that satisfies `predicate`, waiting for it if needed. */
  async waitForMessage(
    predicate: (m: ServerMessage) => boolean,
    options: WaitOptions & { readonly from?: number },
  ): Promise<ServerMessage> {
    const from = options.from ?? 0;
    let found: ServerMessage | undefined;
    await this.waitUntil(() => {
      found = this.messages.slice(from).find(predicate);
      return found !== undefined;
    }, options);
    return found as ServerMessage;
  }

  /** Sends `frame` and waits for the first reply of `type` that arrives after it. */
  async request<T extends ServerMessage['type']>(
    frame: string | Buffer | Record<string, unknown>,
    type: T,
    timeoutMs?: number,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    const from = this.messages.length;
    this.send(frame);
    const reply = await this.waitForMessage((m) => m.type === type, {
      description: `a "${type}" reply to ${typeof frame === 'string' ? frame.slice(0, 80) : Buffer.isBuffer(frame) ? 'a binary frame' : JSON.stringify(frame)}`,
      from,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
    return reply as Extract<ServerMessage, { type: T }>;
  }

  /** Waits for the server to close the socket and returns the close code. */
  async waitForClose(timeoutMs?: number): Promise<WsCloseInfo> {
    await this.waitUntil(() => this.closeInfo !== undefined, {
      description: 'the server to close the socket',
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
    return this.closeInfo as WsCloseInfo;
  }

  /** Closes from the client side and waits (briefly) for the close to finish. */
  async close(): Promise<void> {
    if (this.closeInfo !== undefined) return;
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(1000, 'test done');
    const timer = setTimeout(() => this.socket.terminate(), 2_000);
    await this.closed;
    clearTimeout(timer);
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) if (waiter.check()) waiter.resolve();
  }
}
