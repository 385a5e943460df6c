/**
 * The droplet's edge: one `http.Server` carrying Express (Slack events, the leaderboard, health)
 * and a `ws` server on `/ws`. This page composes the parts; each part translates between its
 * transport and the core, and all counting, validation and answer mapping lives in
 * `@reactometer/shared`. Reads no environment: `main.ts` (or a test) passes everything in.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { WebSocketServer } from 'ws';
import { pino, type Logger } from 'pino';
import { systemClock, type Clock, type ReactionStore, type SlackDeps } from '@reactometer/shared';
import type { DropletConfig } from './config.js';
import { dropletLifecycle } from './droplet-lifecycle.js';
import { requestErrors, unmatchedRoute } from './http/fallback-routes.js';
import { READ_ROUTES, readRoutes } from './http/read-routes.js';
import { createRequestLog } from './http/request-log.js';
import { SLACK_ROUTES, slackRoute } from './http/slack-route.js';
import { SIGN_IN_ROUTES, signInRoutes } from './http/sign-in-routes.js';
import { viewerAuth } from './http/viewer-auth.js';
import { upgradeAdmission } from './ws/upgrade-auth.js';
import type { TrustFn } from './http/client-address.js';
import { ANONYMOUS_ACCESS, type ViewerAccessSettings } from './viewer-access-defaults.js';
import { startClientSession } from './ws/client-session.js';
import { upgradeGate } from './ws/upgrade-gate.js';
import { DropletMetrics } from './metrics.js';
import { WsBroadcaster } from './ws-broadcaster.js';

export { WS_PATH } from './ws/upgrade-gate.js';

export type DropletSettings = Pick<
  DropletConfig,
  | 'port'
  | 'host'
  | 'wsMaxConnections'
  | 'wsMaxPayloadBytes'
  | 'wsMaxBufferedBytes'
  | 'wsHeartbeatMs'
  | 'pendingLeaseMs'
  | 'shutdownGraceMs'
> &
  Partial<
    Pick<
      DropletConfig,
      | 'broadcastWindowMs'
      | 'trustProxy'
      | 'wsMaxConnectionsPerAddress'
      | 'wsMaxQueuedRequests'
      | 'httpHeadersTimeoutMs'
      | 'httpRequestTimeoutMs'
      | 'httpKeepAliveTimeoutMs'
    >
  > & {
    /** Omitted: access off, no browser origin allowed (tests that need more pass it). */
    readonly viewerAccess?: ViewerAccessSettings;
  };

export interface DropletOptions extends DropletSettings {
  readonly store: ReactionStore;
  readonly signingSecret: string;
  readonly clock?: Clock;
  /** Defaults to a silent logger (tests). */
  readonly logger?: Logger;
  /** Where the edge records its metrics; a fresh registry when omitted. */
  readonly metrics?: DropletMetrics;
}

export interface Droplet {
  /** Listens on the configured port (0: a free one) and resolves with the bound address. */
  start(): Promise<AddressInfo>;
  /**
   * Stops accepting connections, lets in-flight HTTP requests finish (up to the grace period),
   * closes every WebSocket with 1001 and resolves when every socket is gone. Idempotent.
   * Does not close the store: the composition root owns it.
   */
  stop(): Promise<void>;
  readonly server: http.Server;
  readonly broadcaster: WsBroadcaster;
  readonly metrics: DropletMetrics;
}

export function createDroplet(options: DropletOptions): Droplet {
  const logger = options.logger ?? pino({ level: 'silent' });
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const access = options.viewerAccess ?? ANONYMOUS_ACCESS;

  // The publisher: every open dashboard socket of this process.
  let openClients = (): number => 0;
  const metrics = options.metrics ?? new DropletMetrics(() => openClients());
  const broadcaster = new WsBroadcaster({
    maxBufferedBytes: options.wsMaxBufferedBytes,
    heartbeatMs: options.wsHeartbeatMs,
    windowMs: options.broadcastWindowMs ?? 0,
    logger,
    metrics,
  });
  openClients = () => broadcaster.size;
  const slackDeps: SlackDeps = {
    store,
    publisher: broadcaster,
    clock,
    pendingLeaseMs: options.pendingLeaseMs,
    signingSecret: options.signingSecret,
  };

  // HTTP: every request counted and logged, the routes, then what no route answered.
  const requests = createRequestLog(logger);
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // Who may state the client's address (X-Forwarded-For): nobody unless configured, so that the
  // address in the log is the peer's unless a trusted proxy says otherwise.
  app.set('trust proxy', options.trustProxy ?? false);
  app.use(requests.middleware);
  app.use(slackRoute(slackDeps, metrics));
  // The leaderboard is the company's data: a viewer token when DASHBOARD_AUTH is on, CORS for
  // ALLOWED_ORIGINS only. Health stays open for load balancers.
  app.use('/reactions', viewerAuth(access, clock));
  if (access.slack !== undefined) {
    app.use(signInRoutes({ ...access.slack, allowedOrigins: access.allowedOrigins }, clock));
  }
  app.use(readRoutes(store));
  app.use(
    unmatchedRoute({
      ...SLACK_ROUTES,
      ...READ_ROUTES,
      ...(access.slack === undefined ? {} : SIGN_IN_ROUTES),
    }),
  );
  app.use(requestErrors);

  // Slow clients must not hold sockets: the headers within 10 s, the whole request (Slack gives
  // up after 3 s) within 15 s, an idle keep-alive 5 s. Node checks these every
  // `connectionsCheckingInterval` (30 s by default, which let a slow body run to 78 s against a
  // 30 s request timeout): checked every second, a request is cut within a second of its limit.
  const server = http.createServer(
    {
      headersTimeout: options.httpHeadersTimeoutMs ?? 10_000,
      requestTimeout: options.httpRequestTimeoutMs ?? 15_000,
      keepAliveTimeout: options.httpKeepAliveTimeoutMs ?? 5_000,
      connectionsCheckingInterval: 1_000,
    },
    app,
  );

  // WebSocket: upgrades on the same server pass the gate, then each socket gets a session.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.wsMaxPayloadBytes,
    // Off (the default, made explicit): compressing per client would undo serialising once.
    perMessageDeflate: false,
  });
  const lifecycle = dropletLifecycle({
    server,
    wss,
    broadcaster,
    requests,
    port: options.port,
    host: options.host,
    shutdownGraceMs: options.shutdownGraceMs,
  });
  server.on(
    'upgrade',
    upgradeGate({
      wss,
      openClients: () => broadcaster.size,
      maxConnections: options.wsMaxConnections,
      isStopping: () => lifecycle.stopping,
      logger,
      admission: upgradeAdmission({
        access,
        clock,
        maxPerAddress: options.wsMaxConnectionsPerAddress ?? 100,
        // Express compiled TRUST_PROXY above; the upgrade judges addresses the same way.
        trust: app.get('trust proxy fn') as TrustFn,
      }),
    }),
  );
  wss.on('connection', (ws) =>
    startClientSession(ws, {
      store,
      broadcaster,
      logger,
      maxQueued: options.wsMaxQueuedRequests ?? 16,
    }),
  );

  return { server, broadcaster, metrics, start: lifecycle.start, stop: lifecycle.stop };
}
