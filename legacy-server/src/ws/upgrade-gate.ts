/**
 * Which HTTP upgrades become WebSockets: only on `WS_PATH`, not while shutting down, and not past
 * the connection cap. A refused upgrade gets a plain JSON error response, as any HTTP request.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import type { Logger } from 'pino';
import {
  ReactometerError,
  isReactometerError,
  toHttpError,
  type HttpError,
} from '@reactometer/shared';
import type { UpgradeAdmission } from './upgrade-auth.js';

export const WS_PATH = '/ws';

export interface UpgradeGateOptions {
  readonly wss: WebSocketServer;
  /** Sockets open now (the broadcaster's size). */
  readonly openClients: () => number;
  readonly maxConnections: number;
  readonly isStopping: () => boolean;
  readonly logger: Logger;
  /** Origin, per-address cap and viewer token (`upgrade-auth.ts`). */
  readonly admission: UpgradeAdmission;
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
  if (status === 503 || status === 429) head.push('Retry-After: 5');
  if (status === 401) head.push('WWW-Authenticate: Bearer');
  // end() flushes the response before the FIN; destroying right away could discard it.
  socket.once('finish', () => socket.destroy());
  socket.end(`${head.join('\r\n')}\r\n\r\n${json}`);
}

/** The path of a request target; a target URL cannot parse has none (answered 404). */
function pathOf(target: string | undefined): string {
  try {
    return new URL(target ?? '/', 'http://droplet').pathname;
  } catch {
    return '(unparsable)';
  }
}

/** The server's `upgrade` listener: hands an accepted upgrade to `wss` (its `connection`). */
export function upgradeGate(
  options: UpgradeGateOptions,
): (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { wss, logger } = options;
  return (req, socket, head) => {
    socket.on('error', (err) => logger.debug({ err }, 'upgrade socket error'));
    const path = pathOf(req.url);
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
    if (options.isStopping()) {
      rejectUpgrade(socket, toHttpError(new ReactometerError('shutting_down', 'shutting down')));
      return;
    }
    // Refused before the handshake with a plain 503, so that the descriptors this process still
    // has go to Slack's POSTs and health checks rather than to one more dashboard.
    const open = options.openClients();
    if (open >= options.maxConnections) {
      logger.warn(
        { openClients: open, max: options.maxConnections },
        'upgrade refused: connection cap',
      );
      rejectUpgrade(
        socket,
        toHttpError(new ReactometerError('too_many_connections', 'cap reached')),
      );
      return;
    }
    options.admission.admit(req).then(
      ({ release, address, viewer }) => {
        // The raw socket closes however the connection ends (handshake refused, client gone
        // during the check, WebSocket closed), so the address's slot always comes back.
        socket.once('close', release);
        if (socket.destroyed) return release();
        wss.handleUpgrade(req, socket, head, (ws) => {
          logger.debug({ clientIp: address, viewer }, 'upgrade admitted');
          wss.emit('connection', ws, req);
        });
      },
      (err: unknown) => {
        const answer = toHttpError(err);
        // The URL is not logged: its query string carries the token.
        const fields = {
          status: answer.status,
          errorCode: answer.body.error.code,
          origin: req.headers.origin,
          clientIp: req.socket.remoteAddress,
        };
        if (isReactometerError(err)) logger.info(fields, 'upgrade refused');
        else logger.error({ ...fields, err }, 'upgrade check failed');
        rejectUpgrade(socket, answer);
      },
    );
  };
}
