/**
 * One dashboard's socket from connect to close: registered with the broadcaster (updates, the
 * heartbeat, the cap), and its frames answered by the core's protocol, in order.
 */
import type { RawData, WebSocket } from 'ws';
import type { Logger } from 'pino';
import { answerClientFrame, errorMessage, type ReactionStore } from '@reactometer/shared';
import type { WsBroadcaster } from '../ws-broadcaster.js';

export interface ClientSessionDeps {
  /** Where snapshots come from: the in-memory counts, not the database. */
  readonly store: Pick<ReactionStore, 'listCounts'>;
  readonly broadcaster: WsBroadcaster;
  readonly logger: Logger;
  /** Frames waiting for an answer past which the socket is closed (WS_MAX_QUEUED_REQUESTS). */
  readonly maxQueued: number;
}

/**
 * Policy violation: the client sent more requests than it waited answers for. A dashboard sends
 * one getReactions after connecting and a ping a minute; only a flood gets here.
 */
export const TOO_MANY_QUEUED_CLOSE = { code: 1008, reason: 'too many requests in flight' } as const;

function rawDataToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** The server's `connection` listener. */
export function startClientSession(
  ws: WebSocket,
  { store, broadcaster, logger, maxQueued }: ClientSessionDeps,
): void {
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
  // Bounded: each queued frame holds its bytes and, for getReactions, a database read to come.
  let queued = 0;
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (queued >= maxQueued) {
      if (ws.readyState === ws.OPEN) {
        logger.info({ queued }, 'websocket closed: too many requests in flight');
        ws.close(TOO_MANY_QUEUED_CLOSE.code, TOO_MANY_QUEUED_CLOSE.reason);
      }
      return;
    }
    queued++;
    queue = queue
      .then(async () => {
        // A closed socket's backlog is dropped, not answered: nobody is there to read it.
        if (ws.readyState !== ws.OPEN) return;
        const reply = isBinary
          ? errorMessage(
              'invalid_message',
              'binary frames are not supported; send JSON text frames',
            )
          : await answerClientFrame(rawDataToString(data), store);
        broadcaster.send(ws, JSON.stringify(reply));
      })
      .catch((err: unknown) => logger.error({ err }, 'websocket reply failed'))
      .finally(() => queued--);
  });
}
