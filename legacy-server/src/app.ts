/**
 * The droplet's edge: one `http.Server` carrying Express (Slack events, the leaderboard, health)
 * and a `ws` server on `/ws`. It translates requests into the core's types, calls the core and
 * maps results back; all counting and validation logic lives in `@reactometer/shared`.
 * Reads no environment: `main.ts` (or a test) passes everything in.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import express, { type NextFunction, type Request, type Response } from 'express';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { pino, type Logger } from 'pino';
import {
  MAX_SLACK_BODY_BYTES,
  PayloadError,
  PayloadTooLargeError,
  ReactometerError,
  StoreUnavailableError,
  answerClientFrame,
  errorMessage,
  handleSlackRequest,
  isReactometerError,
  listReactions,
  systemClock,
  toHttpError,
  type Clock,
  type HttpError,
  type ReactionStore,
  type SlackDeps,
} from '@reactometer/shared';
import type { DropletConfig } from './config.js';
import { WsBroadcaster } from './ws-broadcaster.js';

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
>;

export interface DropletOptions extends DropletSettings {
  readonly store: ReactionStore;
  readonly signingSecret: string;
  readonly clock?: Clock;
  /** Defaults to a silent logger (tests). */
  readonly logger?: Logger;
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
}

export const WS_PATH = '/ws';

/** Methods each route answers; the 404 for a wrong method lists them in `Allow`. */
const ROUTES: Record<string, readonly string[]> = {
  '/slack/events': ['POST'],
  '/reactions': ['GET', 'HEAD'],
  '/healthz': ['GET', 'HEAD'],
};

/** How long shutdown waits for WebSocket peers to answer the close frame before cutting them. */
const WS_CLOSE_HANDSHAKE_MS = 2_000;

/** Fields a handler adds to the request's log line. */
interface LogFields {
  eventId?: string;
  outcome?: string;
  errorCode?: string;
  err?: unknown;
  [key: string]: unknown;
}

function logFields(res: Response): LogFields {
  return res.locals.log as LogFields;
}

function sendError(res: Response, err: unknown): void {
  const { status, body } = toHttpError(err);
  const fields = logFields(res);
  fields.errorCode = body.error.code;
  // The cause goes to the log only; toHttpError keeps 5xx details out of the body.
  if (status >= 500) fields.err = err;
  res.status(status).json(body);
}

/** Best effort, for the log line of a request that failed before the core parsed it. */
function peekEventId(rawBody: Uint8Array): string | undefined {
  try {
    const id = (JSON.parse(Buffer.from(rawBody).toString('utf8')) as { event_id?: unknown })
      .event_id;
    return typeof id === 'string' ? id.slice(0, 64) : undefined;
  } catch {
    return undefined;
  }
}

function rawDataToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** Answers an upgrade we refuse with a plain HTTP response, then drops the socket. */
function rejectUpgrade(socket: Duplex, { status, body }: HttpError): void {
  const json = JSON.stringify(body);
  const head = [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(json)}`,
  ];
  if (status === 503) head.push('Retry-After: 5');
  // end() flushes the response before the FIN; destroying right away could discard it.
  socket.once('finish', () => socket.destroy());
  socket.end(`${head.join('\r\n')}\r\n\r\n${json}`);
}

export function createDroplet(options: DropletOptions): Droplet {
  const logger = options.logger ?? pino({ level: 'silent' });
  const clock = options.clock ?? systemClock;
  const { store } = options;

  const broadcaster = new WsBroadcaster({
    maxBufferedBytes: options.wsMaxBufferedBytes,
    heartbeatMs: options.wsHeartbeatMs,
    logger,
  });
  const slackDeps: SlackDeps = {
    store,
    publisher: broadcaster,
    clock,
    pendingLeaseMs: options.pendingLeaseMs,
    signingSecret: options.signingSecret,
  };

  let stopping = false;
  let inFlight = 0;
  let onIdle: (() => void)[] = [];

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  // Every request: count it (shutdown waits for these) and log its outcome once it is over.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const started = performance.now();
    const fields: LogFields = {};
    res.locals.log = fields;
    inFlight++;
    if (stopping) res.setHeader('Connection', 'close');
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) {
        for (const resolve of onIdle) resolve();
        onIdle = [];
      }
      const { err, ...rest } = fields;
      const line = {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        ...rest,
        ...(err !== undefined ? { err } : {}),
      };
      if (!res.writableFinished) logger.warn({ ...line, aborted: true }, 'request aborted');
      else if (res.statusCode >= 500) logger.error(line, 'request');
      else logger.info(line, 'request');
    });
    next();
  });

  app.post(
    '/slack/events',
    // Raw bytes, whatever the content type: the signature is over the body exactly as sent.
    // inflate: false, so the bytes verified are the bytes on the wire (Slack never compresses).
    express.raw({ type: () => true, limit: MAX_SLACK_BODY_BYTES, inflate: false }),
    async (req: Request, res: Response) => {
      const fields = logFields(res);
      // Slack's retry headers say why an earlier delivery failed; they explain duplicate work.
      const retryNum = req.get('x-slack-retry-num');
      const retryReason = req.get('x-slack-retry-reason');
      if (retryNum !== undefined) fields.slackRetryNum = retryNum;
      if (retryReason !== undefined) fields.slackRetryReason = retryReason;
      const rawBody: Uint8Array = Buffer.isBuffer(req.body) ? req.body : new Uint8Array(0);
      try {
        const result = await handleSlackRequest(
          { rawBody, header: (name) => req.get(name) },
          slackDeps,
        );
        switch (result.kind) {
          case 'challenge':
            fields.outcome = 'url_verification';
            res.status(200).json({ challenge: result.challenge });
            return;
          case 'ignored':
            fields.eventId = result.eventId;
            fields.outcome = `ignored:${result.eventType}`;
            break;
          case 'reaction':
            fields.eventId = result.eventId;
            if (result.outcome.kind === 'changed') {
              fields.outcome = 'changed';
              fields.emoji = result.outcome.count.emoji;
              fields.count = result.outcome.count.count;
              fields.version = result.outcome.count.version;
              if (result.outcome.publishError !== undefined)
                fields.publishError = String(result.outcome.publishError);
            } else {
              fields.outcome = `unchanged:${result.outcome.reason}`;
            }
            break;
        }
        res.status(200).json({ ok: true });
      } catch (err) {
        const eventId = peekEventId(rawBody);
        if (eventId !== undefined) fields.eventId = eventId;
        sendError(res, err);
      }
    },
  );

  app.get('/reactions', async (_req: Request, res: Response) => {
    try {
      const reactions = await listReactions(store);
      res.set('Cache-Control', 'no-store').status(200).json({ reactions });
    } catch (err) {
      sendError(res, err);
    }
  });

  app.get('/healthz', async (_req: Request, res: Response) => {
    try {
      await store.ping();
      res.set('Cache-Control', 'no-store').status(200).json({ status: 'ok' });
    } catch (err) {
      // Whatever went wrong, the answer to "can this process serve?" is no: 503, never 500.
      sendError(
        res,
        isReactometerError(err)
          ? err
          : new StoreUnavailableError('store did not answer', { cause: err }),
      );
    }
  });

  // Unknown paths (404), and known paths with the wrong method (405 with `Allow`).
  app.use((req: Request, res: Response) => {
    const allowed = ROUTES[req.path];
    if (allowed !== undefined) {
      res.set('Allow', allowed.join(', '));
      sendError(
        res,
        new ReactometerError(
          'method_not_allowed',
          `${req.method} is not supported on ${req.path}; use ${allowed.join(' or ')}`,
        ),
      );
      return;
    }
    sendError(res, new ReactometerError('not_found', `no route for ${req.method} ${req.path}`));
  });

  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const type = (err as { type?: unknown } | null)?.type;
    if (type === 'entity.too.large')
      return sendError(res, new PayloadTooLargeError(MAX_SLACK_BODY_BYTES));
    // Other body-parser failures (aborted upload, compressed body, bad length) are the client's:
    // the body could not be read, so it could not be checked either.
    if (typeof type === 'string') {
      return sendError(
        res,
        new PayloadError('invalid_json', `request body could not be read (${type})`),
      );
    }
    sendError(res, err);
  });

  const server = http.createServer(app);
  // Slack gives up after 3 s; a body still trickling in after 30 s is not worth a socket.
  server.requestTimeout = 30_000;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.wsMaxPayloadBytes,
    // Off (the default, made explicit): compressing per client would undo serialising once.
    perMessageDeflate: false,
  });

  wss.on('connection', (ws: WebSocket) => {
    broadcaster.add(ws);
    logger.debug({ openClients: broadcaster.size }, 'websocket connected');
    // Protocol errors (a frame over maxPayload -> 1009, invalid UTF-8 -> 1007) arrive here after
    // ws has already closed the socket; without a listener they would crash the process.
    ws.on('error', (err) => logger.debug({ err }, 'websocket protocol error'));
    ws.on('close', (code) =>
      logger.debug({ code, openClients: broadcaster.size }, 'websocket closed'),
    );
    // One frame at a time per socket: replies keep request order, and a client flooding
    // getReactions costs one store query at a time, not one per frame.
    let queue: Promise<void> = Promise.resolve();
    ws.on('message', (data: RawData, isBinary: boolean) => {
      queue = queue
        .then(async () => {
          const reply = isBinary
            ? errorMessage(
                'invalid_message',
                'binary frames are not supported; send JSON text frames',
              )
            : await answerClientFrame(rawDataToString(data), store);
          broadcaster.send(ws, JSON.stringify(reply));
        })
        .catch((err: unknown) => logger.error({ err }, 'websocket reply failed'));
    });
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => logger.debug({ err }, 'upgrade socket error'));
    const path = new URL(req.url ?? '/', 'http://droplet').pathname;
    if (path !== WS_PATH) {
      logger.info({ path }, 'upgrade refused: unknown path');
      rejectUpgrade(
        socket,
        toHttpError(
          new ReactometerError('not_found', `no WebSocket endpoint at ${path}; use ${WS_PATH}`),
        ),
      );
      return;
    }
    if (stopping) {
      rejectUpgrade(socket, toHttpError(new ReactometerError('shutting_down', 'shutting down')));
      return;
    }
    // Refused before the handshake with a plain 503, so that the descriptors this process still
    // has go to Slack's POSTs and health checks rather than to one more dashboard.
    if (broadcaster.size >= options.wsMaxConnections) {
      logger.warn(
        { openClients: broadcaster.size, max: options.wsMaxConnections },
        'upgrade refused: connection cap',
      );
      rejectUpgrade(
        socket,
        toHttpError(new ReactometerError('too_many_connections', 'cap reached')),
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  function waitForIdle(timeoutMs: number): Promise<void> {
    if (inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      onIdle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  let stopped: Promise<void> | undefined;

  return {
    server,
    broadcaster,
    start: () =>
      new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
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
        await waitForIdle(options.shutdownGraceMs);
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
