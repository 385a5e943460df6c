/**
 * The network thread: every HTTP request and WebSocket of every VU, the part k6 does in Go
 * goroutines. A frame is timestamped here when read (k6's readPump takes `time.Now()` as it reads,
 * and MessageEvent.timestamp reports that), then posted to the owning VU's event port, where the
 * VU's event loop picks it up when it is free.
 *
 * WebSocket behaviour follows internal/js/modules/k6/websockets/websockets.go (v2.2.0):
 * - a failed handshake is one error then one close (`failed` here); a non-101 answer is
 *   gorilla's "websocket: bad handshake"; k6's handshake timeout is 60 s;
 * - a close frame from the VU goes out only once connected (see wsCloseWhenOpen);
 * - pings are answered with pongs automatically (the `ws` library does, as gorilla's handler).
 */
import { parentPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import WebSocket from 'ws';
import { HTTP_ERROR_CODES } from './protocol.js';
import type {
  CloseWhenOpenReply,
  HttpReply,
  HttpRequestMessage,
  NetControl,
  NetEvent,
  NetRequest,
} from './protocol.js';

/** k6's websocket.Dialer HandshakeTimeout. */
const HANDSHAKE_TIMEOUT_MS = 60_000;

interface Socket {
  readonly ws: WebSocket;
  opened: boolean;
  done: boolean;
  /** wsCloseWhenOpen waiting for the handshake. */
  closeWhenOpen: { code: number; reason: string } | null;
}

interface Vu {
  readonly id: number;
  readonly events: MessagePort;
  readonly sync: MessagePort;
  readonly signal: Int32Array;
  readonly sockets: Map<number, Socket>;
  readonly aborts: Set<AbortController>;
  detached: boolean;
}

const vus = new Map<number, Vu>();

function post(vu: Vu, event: NetEvent): void {
  if (!vu.detached) vu.events.postMessage(event);
}

function postSync(vu: Vu, reply: HttpReply | CloseWhenOpenReply): void {
  if (vu.detached) return;
  vu.sync.postMessage(reply);
  Atomics.store(vu.signal, 0, 1);
  Atomics.notify(vu.signal, 0);
}

function errorText(e: unknown): { error: string; errorCode: number } {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') {
    return { error: 'request timeout', errorCode: HTTP_ERROR_CODES.requestTimeout };
  }
  const code = err.cause?.code ?? '';
  if (code === 'ECONNREFUSED') {
    return { error: 'dial: connection refused', errorCode: HTTP_ERROR_CODES.connectionRefused };
  }
  return {
    error: err.cause?.message ?? err.message ?? String(e),
    errorCode: HTTP_ERROR_CODES.generic,
  };
}

async function http(vu: Vu, req: HttpRequestMessage): Promise<void> {
  const abort = new AbortController();
  vu.aborts.add(abort);
  const timer = setTimeout(
    () => abort.abort(new DOMException('timeout', 'TimeoutError')),
    req.timeoutMs,
  );
  const started = performance.now();
  let reply: HttpReply;
  const bytesSent =
    req.body === null
      ? 0
      : typeof req.body === 'string'
        ? Buffer.byteLength(req.body)
        : req.body.length;
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body === null || req.method === 'GET' || req.method === 'HEAD' ? null : req.body,
      signal: abort.signal,
      redirect: 'follow',
    });
    const raw = new Uint8Array(await res.arrayBuffer());
    const headers: Record<string, string> = {};
    res.headers.forEach((value, key) => {
      // k6 canonicalises header names (Go's textproto): Content-Type, X-Slack-...
      headers[key.replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase())] =
        value;
    });
    reply = {
      op: 'http',
      id: req.id,
      status: res.status,
      body:
        req.responseType === 'none'
          ? null
          : req.responseType === 'binary'
            ? raw
            : Buffer.from(raw).toString('utf8'),
      headers,
      url: res.url || req.url,
      error: '',
      errorCode: 0,
      durationMs: performance.now() - started,
      bytesSent,
      bytesReceived: raw.length,
    };
  } catch (e) {
    const { error, errorCode } = errorText(abort.signal.aborted ? abort.signal.reason : e);
    reply = {
      op: 'http',
      id: req.id,
      status: 0,
      body: null,
      headers: {},
      url: req.url,
      error,
      errorCode,
      durationMs: performance.now() - started,
      bytesSent,
      bytesReceived: 0,
    };
  } finally {
    clearTimeout(timer);
    vu.aborts.delete(abort);
  }
  if (req.sync) postSync(vu, reply);
  else post(vu, reply);
}

function wsOpen(
  vu: Vu,
  id: number,
  url: string,
  protocols: string[],
  headers: Record<string, string>,
): void {
  const ws = new WebSocket(url, protocols, {
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    headers,
    perMessageDeflate: false,
  });
  const s: Socket = { ws, opened: false, done: false, closeWhenOpen: null };
  vu.sockets.set(id, s);
  const fail = (error: string, status: number): void => {
    if (s.done) return;
    s.done = true;
    vu.sockets.delete(id);
    post(vu, { op: 'ws', id, kind: 'failed', t: Date.now(), error, status });
    if (s.closeWhenOpen !== null) postSync(vu, { op: 'wsCloseWhenOpen', id, opened: false });
  };
  ws.on('unexpected-response', (req, res) => {
    // gorilla/websocket: any answer but 101 is ErrBadHandshake.
    fail('websocket: bad handshake', res.statusCode ?? 0);
    req.destroy();
  });
  ws.on('open', () => {
    s.opened = true;
    if (s.closeWhenOpen !== null) {
      // The VU's close() was blocked until now; it still gets no open event (readyState is
      // CLOSING, and connectionConnected ignores a socket that is no longer CONNECTING).
      ws.close(s.closeWhenOpen.code, s.closeWhenOpen.reason);
      postSync(vu, { op: 'wsCloseWhenOpen', id, opened: true });
      s.closeWhenOpen = null;
    }
    post(vu, { op: 'ws', id, kind: 'open', t: Date.now() });
  });
  ws.on('message', (data, isBinary) => {
    const t = Date.now();
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    post(vu, {
      op: 'ws',
      id,
      kind: 'message',
      t,
      data: isBinary ? new Uint8Array(buf) : buf.toString('utf8'),
      binary: isBinary,
    });
  });
  ws.on('ping', () => post(vu, { op: 'ws', id, kind: 'ping', t: Date.now() }));
  ws.on('pong', () => post(vu, { op: 'ws', id, kind: 'pong', t: Date.now() }));
  ws.on('error', (err: Error & { code?: string }) => {
    if (!s.opened) {
      const text =
        err.code === 'ECONNREFUSED'
          ? `dial tcp ${new URL(url).host}: connect: connection refused`
          : /timed out/i.test(err.message)
            ? 'websocket: handshake i/o timeout'
            : err.message;
      fail(text, 0);
    }
    // After open, the close event that follows carries the code (1006 for a broken connection).
  });
  ws.on('close', (code, reason) => {
    if (!s.opened) {
      fail('websocket: connection closed during the handshake', 0);
      return;
    }
    if (s.done) return;
    s.done = true;
    vu.sockets.delete(id);
    // ws reports 1005 for a close frame without status, 1006 for a dropped connection: the
    // codes gorilla gives k6 as well.
    post(vu, {
      op: 'ws',
      id,
      kind: 'closed',
      t: Date.now(),
      code,
      reason: reason.toString('utf8'),
    });
  });
}

function handle(vu: Vu, msg: NetRequest): void {
  switch (msg.op) {
    case 'http':
      void http(vu, msg);
      return;
    case 'wsOpen':
      wsOpen(vu, msg.id, msg.url, msg.protocols, msg.headers);
      return;
    case 'wsSend': {
      const s = vu.sockets.get(msg.id);
      if (s?.opened === true && s.ws.readyState === WebSocket.OPEN) s.ws.send(msg.data);
      return;
    }
    case 'wsPing': {
      const s = vu.sockets.get(msg.id);
      if (s?.opened === true && s.ws.readyState === WebSocket.OPEN) s.ws.ping('0');
      return;
    }
    case 'wsClose': {
      const s = vu.sockets.get(msg.id);
      if (s !== undefined && s.ws.readyState === WebSocket.OPEN) s.ws.close(msg.code, msg.reason);
      // A handshake cancelled because the VU's context ended: the VU sees it fail.
      else if (s !== undefined && !s.opened) s.ws.terminate();
      return;
    }
    case 'wsCloseWhenOpen': {
      const s = vu.sockets.get(msg.id);
      if (s === undefined) {
        postSync(vu, { op: 'wsCloseWhenOpen', id: msg.id, opened: false });
      } else if (s.opened) {
        s.ws.close(msg.code, msg.reason);
        postSync(vu, { op: 'wsCloseWhenOpen', id: msg.id, opened: true });
      } else {
        s.closeWhenOpen = { code: msg.code, reason: msg.reason };
      }
      return;
    }
  }
}

function detach(vu: Vu): void {
  vu.detached = true;
  for (const a of vu.aborts) a.abort();
  for (const s of vu.sockets.values()) {
    // The VU's context is done: k6 queues a normal close for every socket; here the VU is gone,
    // so the socket is closed (and then dropped) without telling it.
    if (s.ws.readyState === WebSocket.OPEN) s.ws.close(1000, '');
    else s.ws.terminate();
  }
  vu.sockets.clear();
  vu.events.close();
  vu.sync.close();
  vus.delete(vu.id);
}

parentPort?.on('message', (msg: NetControl) => {
  if (msg.op === 'attach') {
    const vu: Vu = {
      id: msg.vu,
      events: msg.events,
      sync: msg.sync,
      signal: new Int32Array(msg.signal),
      sockets: new Map(),
      aborts: new Set(),
      detached: false,
    };
    vus.set(msg.vu, vu);
    msg.events.on('message', (req: NetRequest) => handle(vu, req));
  } else if (msg.op === 'detach') {
    const vu = vus.get(msg.vu);
    if (vu !== undefined) detach(vu);
  } else if (msg.op === 'stop') {
    for (const vu of [...vus.values()]) detach(vu);
    parentPort?.close();
  }
});
