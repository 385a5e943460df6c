/**
 * Faults put between a k6 script and a real local deployment, to see what the scripts make of
 * them: a TCP proxy for the WebSocket endpoint that drops or silences chosen connections, and an
 * HTTP proxy that fails or delays chosen requests. Both listen on 127.0.0.1 only and forward to
 * a loopback target; both are closed by the caller.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface WsFaults {
  /** Zero-based index of an accepted connection to cut (TCP reset) `afterMs` after it opened. */
  readonly drop?: { readonly connection: number; readonly afterMs: number };
  /**
   * Index of a connection whose server-to-client bytes are discarded after the first chunk (the
   * 101 handshake answer): the client stays open and never hears from the server again.
   */
  readonly silence?: number;
}

export interface FaultProxy {
  /** URL to give the script instead of the target's. */
  readonly url: string;
  /** Connections or requests the fault was applied to. */
  applied(): number;
  close(): Promise<void>;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** A TCP proxy for `ws://host:port/path` applying `faults`; keeps the path. */
export async function startWsFaultProxy(
  targetWsUrl: string,
  faults: WsFaults,
): Promise<FaultProxy> {
  const target = new URL(targetWsUrl);
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let applied = 0;
  const server = net.createServer((client) => {
    const index = accepted++;
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    const cleanup = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', cleanup);
    upstream.on('error', cleanup);
    client.on('close', cleanup);
    upstream.on('close', cleanup);
    client.pipe(upstream);
    if (faults.silence === index) {
      let first = true;
      upstream.on('data', (chunk: Buffer) => {
        if (first) client.write(chunk);
        else applied++;
        first = false;
      });
    } else {
      upstream.pipe(client);
    }
    if (faults.drop?.connection === index) {
      setTimeout(() => {
        applied++;
        client.resetAndDestroy();
        upstream.destroy();
      }, faults.drop.afterMs).unref();
    }
  });
  const port = await listen(server);
  return {
    url: `ws://127.0.0.1:${port}${target.pathname}${target.search}`,
    applied: () => applied,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface HttpFaults {
  /** Answer the first N `GET /reactions` with 503 (the probe read-back). */
  readonly failReactionReads?: number;
  /** Hold every signed `event_callback` POST this long before forwarding it (a slow deployment). */
  readonly delayEventsMs?: number;
}

/** An HTTP proxy to `targetHttpUrl` applying `faults`. */
export async function startHttpFaultProxy(
  targetHttpUrl: string,
  faults: HttpFaults,
): Promise<FaultProxy> {
  let reactionReads = 0;
  let applied = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        if (req.method === 'GET' && req.url === '/reactions') {
          reactionReads++;
          if (reactionReads <= (faults.failReactionReads ?? 0)) {
            applied++;
            res.writeHead(503, { 'content-type': 'application/json' });
            res.end('{"error":{"code":"unavailable","message":"fault injected"}}');
            return;
          }
        }
        if (
          faults.delayEventsMs !== undefined &&
          req.method === 'POST' &&
          body.includes('"event_callback"')
        ) {
          applied++;
          await new Promise((r) => setTimeout(r, faults.delayEventsMs));
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) {
          if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) {
            headers[k] = v;
          }
        }
        try {
          const upstream = await fetch(`${targetHttpUrl}${req.url ?? '/'}`, {
            method: req.method ?? 'GET',
            headers,
            body: req.method === 'GET' || req.method === 'HEAD' ? null : body,
          });
          const text = Buffer.from(await upstream.arrayBuffer());
          res.writeHead(upstream.status, {
            'content-type': upstream.headers.get('content-type') ?? 'application/json',
          });
          res.end(text);
        } catch {
          res.writeHead(502);
          res.end();
        }
      })();
    });
  });
  server.keepAliveTimeout = 1000;
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    applied: () => applied,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
