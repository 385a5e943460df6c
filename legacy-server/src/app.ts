/**
 * The droplet's edge: one `http.Server` carrying Express (Slack events, the leaderboard, health)
 * and a `ws` server on `/ws`. This page composes the parts; each part translates between its
 * transport and the core, and all counting, validation and answer mapping lives in
 * `@reactometer/shared`. Reads no environment: `main.ts` (or a test) passes everything in.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { WebSocketServer } from 'ws';
import { pino, type Logger } from 'pino';
import {
  StoreUnavailableError,
  listReactions,
  systemClock,
  type Clock,
  type EventInbox,
  type InboxSlackDeps,
  type InboxStatus,
  type Publisher,
  type ReactionStore,
} from '@reactometer/shared';
import type { CountBus } from './count-bus.js';
import type { DropletConfig } from './config.js';
import type { EmojiLock } from './emoji-lock.js';
import { CountsCache } from './counts-cache.js';
import { InboxWorker } from './inbox/inbox-worker.js';
import { JournalInbox } from './inbox/journal-inbox.js';
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
      | 'inboxDir'
      | 'inboxMaxPending'
      | 'slackMaxInFlight'
      | 'countsRefreshMs'
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
  /**
   * Several processes on one database: each counted change goes out on the bus too, and the
   * other processes' changes come in through it (REDIS_URL). Omitted: one process. The
   * composition root owns it (closes it after `stop()`).
   */
  readonly countBus?: CountBus;
  /** Held around each event's writes across processes (STORE_LOCK=redis); owned by the root. */
  readonly emojiLock?: EmojiLock;
  /** The inbox worker's first and longest backoff (tests shorten them). */
  readonly inboxBackoffMs?: { readonly min: number; readonly max: number };
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
  /** How far behind the inbox is (what `/healthz` reports). */
  inboxStatus(): InboxStatus;
  /** Resolves once every stored event has been applied (tests, the bench). */
  drained(): Promise<void>;
}

/** Defaults of the inbox settings for callers that build `DropletOptions` by hand (tests). */
const INBOX_DEFAULTS = { inboxMaxPending: 100_000, slackMaxInFlight: 512, countsRefreshMs: 5_000 };

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
  const settings = { ...INBOX_DEFAULTS, ...options };

  // Reads are answered from memory (see counts-cache.ts); the worker's writes pass through it.
  const counts = new CountsCache(store, broadcaster, logger);
  // Without a configured folder (tests), a temporary one that stop() removes.
  const temporaryInbox = options.inboxDir === undefined;
  const inboxDir = options.inboxDir ?? mkdtempSync(path.join(os.tmpdir(), 'reactometer-inbox-'));
  let inbox: JournalInbox | null = null;
  let worker: InboxWorker | null = null;
  const openInbox: EventInbox = {
    append: (event) =>
      inbox === null
        ? Promise.reject(new StoreUnavailableError('the inbox is not open'))
        : inbox.append(event),
  };
  const slackDeps: InboxSlackDeps = {
    inbox: openInbox,
    clock,
    signingSecret: options.signingSecret,
  };
  const { countBus } = options;
  // This process's dashboards first, then the other processes: a lost Redis must not cost the
  // local dashboards their update (a failed publish is counted by the metrics, not retried).
  const workerPublisher: Publisher =
    countBus === undefined
      ? counts.publisher()
      : {
          publish: async (changed) => {
            await counts.publisher().publish(changed);
            await countBus.publish(changed);
          },
        };
  // After the bus was lost: re-read every count (whatever others counted meanwhile) and give every
  // dashboard of this process a fresh snapshot, so that none keeps a count it missed an update of.
  const resynchronise = async (): Promise<void> => {
    await counts.refresh().catch((err: unknown) => {
      logger.warn(
        { err },
        'counts not re-read after the bus returned; sending what this process holds',
      );
    });
    const delivered = broadcaster.broadcastSnapshot(await listReactions(counts));
    logger.info({ dashboards: delivered }, 'sent every dashboard a fresh snapshot');
  };
  const inboxStatus = (): InboxStatus =>
    worker?.status() ?? { pending: 0, oldestAgeMs: 0, draining: false, lastErrorCode: null };

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
  app.use(readRoutes({ counts, store, inbox: inboxStatus }));
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
    // What was acknowledged is applied before the sockets close if the database lets it within
    // the grace period; whatever is left stays in the journal and drains at the next start.
    beforeClose: async () => {
      if (worker === null) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        worker.drained(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, options.shutdownGraceMs);
        }),
      ]);
      clearTimeout(timer);
    },
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
      store: counts,
      broadcaster,
      logger,
      maxQueued: options.wsMaxQueuedRequests ?? 16,
    }),
  );

  const start = async (): Promise<AddressInfo> => {
    // Whatever the journal holds from before a crash or restart drains first, in order.
    inbox = await JournalInbox.open({
      dir: inboxDir,
      maxPending: settings.inboxMaxPending,
      maxAppendsInFlight: settings.slackMaxInFlight,
      logger,
    });
    if (inbox.size > 0) logger.info({ pending: inbox.size, inboxDir }, 'inbox: draining on start');
    try {
      await counts.refresh();
    } catch (err) {
      // Served as unavailable until the periodic refresh or the worker's recovery loads them.
      logger.warn({ err }, 'counts not loaded at start; reads answer 503 until they are');
    }
    worker = new InboxWorker({
      inbox,
      counting: {
        store,
        publisher: workerPublisher,
        clock,
        pendingLeaseMs: options.pendingLeaseMs,
      },
      // After an outage, re-read every count: settled recounts and other processes' changes.
      onRecovered: () => void counts.refresh().catch(() => undefined),
      onChanged: (publishFailed) => metrics.countChanged(publishFailed),
      ...(options.emojiLock === undefined ? {} : { lock: options.emojiLock }),
      logger,
      ...(options.inboxBackoffMs === undefined
        ? {}
        : { backoffMinMs: options.inboxBackoffMs.min, backoffMaxMs: options.inboxBackoffMs.max }),
    });
    worker.start();
    await countBus?.subscribe({
      onCounts: (heard) => void counts.receive(heard),
      onReconnected: () => void resynchronise().catch(() => undefined),
    });
    // Without a refresh the copy would stay unloaded forever if the store was down at start.
    counts.start(settings.countsRefreshMs > 0 ? settings.countsRefreshMs : 1_000);
    return lifecycle.start();
  };

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      // Requests first (their appends finish), then the worker (events left stay in the journal).
      await lifecycle.stop();
      await worker?.stop();
      counts.stop();
      await inbox?.close();
      if (temporaryInbox) rmSync(inboxDir, { recursive: true, force: true });
    })());

  return {
    server,
    broadcaster,
    metrics,
    start,
    stop,
    inboxStatus,
    drained: async () => {
      await worker?.drained();
    },
  };
}
