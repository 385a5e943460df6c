/**
 * Starting and stopping the droplet: listen (and start the heartbeat); on stop, refuse new work,
 * let in-flight requests finish within the grace period, close every WebSocket with 1001, and
 * resolve once every socket is gone.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebSocketServer } from 'ws';
import type { RequestLog } from './http/request-log.js';
import type { WsBroadcaster } from './ws-broadcaster.js';

/** Connections the kernel may queue before the process accepts them (capped by somaxconn). */
const LISTEN_BACKLOG = 4096;

/** How long shutdown waits for WebSocket peers to answer the close frame before cutting them. */
const WS_CLOSE_HANDSHAKE_MS = 2_000;

export interface LifecycleParts {
  readonly server: http.Server;
  readonly wss: WebSocketServer;
  readonly broadcaster: WsBroadcaster;
  readonly requests: RequestLog;
  readonly port: number;
  readonly host: string;
  readonly shutdownGraceMs: number;
  /**
   * Runs after in-flight requests finished and before the sockets close (the inbox worker
   * applies what those requests stored, so that dashboards get it before 1001).
   */
  readonly beforeClose?: () => Promise<void>;
}

export interface DropletLifecycle {
  start(): Promise<AddressInfo>;
  /** Idempotent: every call returns the same promise. */
  stop(): Promise<void>;
  /** True from the first `stop()` on; the upgrade gate refuses new sockets then. */
  readonly stopping: boolean;
}

export function dropletLifecycle(parts: LifecycleParts): DropletLifecycle {
  const { server, wss, broadcaster, requests } = parts;
  let stopping = false;
  let stopped: Promise<void> | undefined;

  return {
    get stopping() {
      return stopping;
    },
    start: () =>
      new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        // A reconnect storm (a deploy, a balancer that lost a peer) brings thousands of handshakes
        // at once; Node's default accept queue (511) overflows and the kernel drops SYNs, which
        // the clients retry only after 1, 3, 7 s. The kernel caps this at net.core.somaxconn.
        server.listen({ port: parts.port, host: parts.host, backlog: LISTEN_BACKLOG }, () => {
          server.off('error', reject);
          broadcaster.startHeartbeat();
          resolve(server.address() as AddressInfo);
        });
      }),
    stop: () => {
      stopped ??= (async () => {
        stopping = true;
        broadcaster.stopHeartbeat();
        // close() stops accepting at once (and, on Node >= 19, drops idle keep-alive
        // connections); its callback fires only when every socket, WebSockets included, is gone.
        const allClosed = server.listening
          ? new Promise<void>((resolve) => server.close(() => resolve()))
          : Promise.resolve();
        await requests.drain(parts.shutdownGraceMs);
        await parts.beforeClose?.();
        // Changes held for the end of a coalescing window go out before the sockets close.
        broadcaster.flush();
        // Dashboards reconnect on 1001 (going away) and resynchronise from a snapshot.
        await broadcaster.closeAll(1001, 'server shutting down', WS_CLOSE_HANDSHAKE_MS);
        wss.close();
        // Whatever HTTP is left after the grace period (slow uploads, idle keep-alives) is cut.
        server.closeAllConnections();
        await allClosed;
      })();
      return stopped;
    },
  };
}
