/**
 * `k6/websockets`, after internal/js/modules/k6/websockets/websockets.go and params.go (v2.2.0),
 * plus grafana/k6#6306 for v2.3.0. What a script can observe:
 *
 * - exports are `WebSocket` and `Blob` only; `readyState` is a bare number 0-3. The constants
 *   CONNECTING/OPEN/CLOSING/CLOSED exist (on the constructor and on instances) only from v2.3.0
 *   (profile.wsReadyStateConstants); before that `WebSocket.OPEN` is undefined;
 * - `send()` and `ping()` throw "InvalidStateError" unless the socket is OPEN;
 * - `close()` on a CONNECTING socket blocks the VU until the handshake ends: the close frame goes
 *   into an unbuffered channel that only the write loop reads, and that loop starts once connected;
 *   such a socket then never fires `open`. If the handshake fails, k6 blocks that VU forever; the
 *   harness reports it and keeps the VU blocked until the scenario's hard stop;
 * - messages arriving after close() (CLOSING) are dropped; a failed handshake fires `error`
 *   ("websocket: bad handshake" for a non-101 answer) then `close`; a close code other than 1000
 *   or 1001 fires `error` before `close`;
 * - a listener that throws in `open` or `message` closes the socket (error, close events) and the
 *   error ends the iteration; so does one thrown in `error` or `close`;
 * - each socket is a registered callback of the event loop from `new WebSocket()` until closed:
 *   an iteration does not end while one of its sockets is open;
 * - params accept only headers, tags, jar and compression ("unknown WebSocket's option").
 */
import type { WsEvent } from '../../protocol.js';
import type { VuHost } from '../vu-host.js';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
/** v2.3.0 (grafana/k6#6306): the same read-only values on the constructor and on instances. */
const READY_STATE_CONSTANTS: PropertyDescriptorMap = {
  CONNECTING: { value: CONNECTING, enumerable: true },
  OPEN: { value: OPEN, enumerable: true },
  CLOSING: { value: CLOSING, enumerable: true },
  CLOSED: { value: CLOSED, enumerable: true },
};
const HANDLERS = ['onmessage', 'onerror', 'onopen', 'onclose', 'onping', 'onpong'] as const;
const PARAMS = new Set(['headers', 'tags', 'jar', 'compression']);

type Listener = (event: unknown) => unknown;

export interface WebSocketsModule {
  readonly module: Record<string, unknown>;
  /** The iteration's context is done: queue a normal close on every socket (k6's loop does). */
  closeAll(): void;
  /** Sockets not yet closed (any state but CLOSED). */
  openCount(): number;
}

export function websocketsModule(host: VuHost): WebSocketsModule {
  const live = new Set<{ queueClose(): void }>();

  class Blob {
    readonly #parts: Uint8Array;
    constructor(parts: unknown[] = []) {
      const chunks = parts.map((p) =>
        typeof p === 'string' ? Buffer.from(p) : Buffer.from(p as ArrayBuffer),
      );
      this.#parts = new Uint8Array(Buffer.concat(chunks));
    }
    get size(): number {
      return this.#parts.length;
    }
    text(): Promise<string> {
      return Promise.resolve(Buffer.from(this.#parts).toString('utf8'));
    }
    arrayBuffer(): Promise<ArrayBuffer> {
      return Promise.resolve(this.#parts.slice().buffer);
    }
  }

  function WebSocket(
    this: Record<string, unknown>,
    url: unknown,
    protocols?: unknown,
    params?: unknown,
  ) {
    if (!new.target) throw host.error('WebSocket must be called with new');
    const state = host.state();
    if (state === null) throw host.error('Using websockets in the init context is not supported');
    const urlText = String(url);
    if (!/^wss?:\/\//.test(urlText))
      throw host.error(`the url scheme must be ws or wss, got "${urlText}"`);
    const headers: Record<string, string> = {};
    const userTags: Record<string, string> = {};
    if (params !== undefined && params !== null) {
      for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
        if (!PARAMS.has(k)) throw host.error(`unknown WebSocket's option ${k}`);
        if (k === 'headers')
          for (const [h, hv] of Object.entries(v as Record<string, unknown>))
            headers[h] = String(hv);
        if (k === 'tags')
          for (const [t, tv] of Object.entries(v as Record<string, unknown>))
            userTags[t] = String(tv);
      }
    }
    const subprotocols =
      protocols === undefined || protocols === null
        ? []
        : Array.isArray(protocols)
          ? protocols.map(String)
          : [String(protocols)];
    const id = host.nextId();
    const tags: Record<string, string> = {
      url: urlText,
      name: userTags['name'] ?? urlText,
      ...userTags,
    };
    let readyState = CONNECTING;
    let closeCode = 0;
    let closeReason = '';
    let binaryType = 'blob';
    let openedAt = 0;
    const startedAt = Date.now();
    const on = new Map<string, Listener | null>();
    const listeners = new Map<string, Listener[]>();
    const release = host.loop.register();

    const all = (type: string): Listener[] => {
      const handler = on.get(`on${type}`);
      return [...(handler ? [handler] : []), ...(listeners.get(type) ?? [])];
    };
    const event = (type: string, t: number, extra: Record<string, unknown> = {}) => ({
      type,
      target: this,
      timestamp: t,
      ...extra,
    });
    const callErrorListeners = (text: string): void => {
      const ev = event('error', Date.now(), { error: text });
      for (const l of all('error')) l(ev);
    };
    /** connectionClosedWithError: CLOSED, error listeners unless a normal closure, then close. */
    const closedWithError = (errorText: string | null): void => {
      if (readyState === CLOSED) return;
      readyState = CLOSED;
      live.delete(handle);
      release();
      if (openedAt > 0) host.emit('ws_session_duration', Date.now() - openedAt, tags);
      if (errorText !== null) callErrorListeners(errorText);
      const ev = event('close', Date.now(), {
        ...(closeCode !== 0 ? { code: closeCode } : {}),
        reason: closeReason,
      });
      for (const l of all('close')) l(ev);
    };
    const fromListener = (fn: () => void): void => {
      try {
        fn();
      } catch (e) {
        // k6: close the connection, report the error to the socket's listeners, end the iteration.
        host.send({ op: 'wsClose', id, code: 1000, reason: '' });
        host.loop.run(() => closedWithError(String((e as Error)?.message ?? e)));
        throw e;
      }
    };
    host.onWsEvent(id, (ev: WsEvent) =>
      host.loop.run(() => {
        switch (ev.kind) {
          case 'open':
            host.emit('ws_sessions', 1, { ...tags, status: '101' });
            host.emit('ws_connecting', ev.t - startedAt, { ...tags, status: '101' });
            if (readyState !== CONNECTING) return; // closed while connecting: no open event
            readyState = OPEN;
            openedAt = ev.t;
            fromListener(() => {
              for (const l of all('open')) l(event('open', ev.t));
            });
            return;
          case 'message': {
            if (readyState !== OPEN) return;
            host.emit('ws_msgs_received', 1, tags);
            const data =
              typeof ev.data === 'string'
                ? ev.data
                : binaryType === 'arraybuffer'
                  ? ev.data.slice().buffer
                  : new Blob([ev.data.slice().buffer]);
            fromListener(() => {
              for (const l of all('message')) l(event('message', ev.t, { data, origin: urlText }));
            });
            return;
          }
          case 'failed':
            host.emit('ws_sessions', 1, { ...tags, status: String(ev.status) });
            host.emit('ws_connecting', ev.t - startedAt, { ...tags, status: String(ev.status) });
            closedWithError(ev.error);
            return;
          case 'closed':
            if (ev.code !== 0) {
              closeCode = ev.code;
              closeReason = ev.reason;
            }
            closedWithError(
              ev.code === 1000 || ev.code === 1001
                ? null
                : `websocket: close ${ev.code} ${ev.reason}`.trim(),
            );
            return;
          case 'ping':
          case 'pong':
            for (const l of all(ev.kind)) l(event(ev.kind, ev.t));
            return;
        }
      }),
    );
    const assertOpen = (): void => {
      if (readyState !== OPEN) throw host.error('InvalidStateError');
    };
    const close = (code?: unknown, reason?: unknown): void => {
      if (readyState === CLOSED || readyState === CLOSING) return;
      const c = code === undefined || code === null ? 0 : Number(code);
      if (c !== 0 && !(c === 1000 || (c >= 3000 && c <= 4999))) {
        throw host.error(
          `InvalidAccessError: Failed to execute 'close' on 'WebSocket': The close code must be either 1000, or between 3000 and 4999. ${c} is neither`,
        );
      }
      const r = reason === undefined ? '' : String(reason);
      if (Buffer.byteLength(r) > 123) {
        throw host.error(
          "SyntaxError: Failed to execute 'close' on 'WebSocket': The message must not be greater than 123 bytes",
        );
      }
      const wasConnecting = readyState === CONNECTING;
      readyState = CLOSING;
      closeCode = c === 0 ? 1000 : c;
      if (!wasConnecting) {
        host.send({ op: 'wsClose', id, code: closeCode, reason: r });
        return;
      }
      const reply = host.sendSync<{ opened: boolean }>(
        { op: 'wsCloseWhenOpen', id, code: closeCode, reason: r },
        70_000,
      );
      if (!reply.opened) {
        host.finding(
          `VU ${host.vuId}: close() was called on a CONNECTING WebSocket (${urlText}) whose handshake then failed; ` +
            'k6 blocks this VU forever here (the close frame waits for a write loop that never starts)',
        );
        // As in k6: the VU stays blocked until the test interrupts it.
        for (;;) host.block(60_000);
      }
    };
    // At the end of the VU's context k6 closes open sockets normally and cancels handshakes.
    const handle = {
      queueClose: () => {
        if (readyState === OPEN) host.loop.run(() => close(1000, ''));
        else if (readyState === CONNECTING)
          host.send({ op: 'wsClose', id, code: 1000, reason: '' });
      },
    };
    live.add(handle);

    const props: PropertyDescriptorMap = {
      url: { value: urlText, enumerable: true },
      readyState: { get: () => readyState, enumerable: true },
      bufferedAmount: { get: () => 0, enumerable: true },
      extensions: { get: () => [], enumerable: true },
      protocol: { get: () => '', enumerable: true },
      binaryType: {
        get: () => binaryType,
        set: (v: unknown) => {
          if (v !== 'blob' && v !== 'arraybuffer') {
            throw host.error(
              `unknown binaryType ${String(v)}, the supported ones are "blob" and "arraybuffer"`,
            );
          }
          binaryType = v;
        },
        enumerable: true,
      },
      send: {
        value: (data: unknown) => {
          assertOpen();
          const payload =
            typeof data === 'string'
              ? data
              : ArrayBuffer.isView(data)
                ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice()
                : Object.prototype.toString.call(data) === '[object ArrayBuffer]'
                  ? new Uint8Array((data as ArrayBuffer).slice(0))
                  : null;
          if (payload === null) throw host.error(`unsupported send type ${typeof data}`);
          host.send({ op: 'wsSend', id, data: payload });
          host.emit('ws_msgs_sent', 1, tags);
        },
      },
      ping: {
        value: () => {
          assertOpen();
          host.send({ op: 'wsPing', id });
        },
      },
      close: { value: close },
      addEventListener: {
        value: (type: unknown, fn: unknown) => {
          if (typeof fn !== 'function')
            throw host.error(`handler for event type "${String(type)}" isn't a callable function`);
          const t = String(type);
          if (!['open', 'message', 'error', 'close', 'ping', 'pong'].includes(t)) {
            host.log('warn', `can't add event handler: unknown event type "${t}"`);
            return;
          }
          listeners.set(t, [...(listeners.get(t) ?? []), fn as Listener]);
        },
      },
    };
    for (const name of HANDLERS) {
      props[name] = {
        get: () => on.get(name) ?? null,
        set: (v: unknown) => {
          if (v === null || v === undefined) on.set(name, null);
          else if (typeof v !== 'function')
            throw host.error(`a value for '${name}' should be callable`);
          else on.set(name, v as Listener);
        },
        enumerable: true,
      };
    }
    if (host.profile.wsReadyStateConstants) Object.assign(props, READY_STATE_CONSTANTS);
    Object.defineProperties(this, props);
    host.send({ op: 'wsOpen', id, url: urlText, protocols: subprotocols, headers });
  }
  if (host.profile.wsReadyStateConstants) Object.defineProperties(WebSocket, READY_STATE_CONSTANTS);
  const api = { WebSocket, Blob };
  return {
    module: { __esModule: true, default: api, ...api },
    closeAll: () => {
      for (const s of [...live]) s.queueClose();
    },
    openCount: () => live.size,
  };
}
