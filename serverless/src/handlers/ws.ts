/**
 * Every route of the WebSocket API, dispatched by `routeKey` (like middy's ws-router):
 * `$connect` records the connection, `$disconnect` forgets it, `getReactions` and `ping` answer
 * the caller through the management API, `$default` answers an error message.
 *
 * API Gateway cannot send to a connection during `$connect` (it is not open yet), so a new
 * dashboard asks for its snapshot with `getReactions`.
 */
import type { APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import {
  GoneConnectionError,
  MAX_CLIENT_FRAME_BYTES,
  answerClientFrame,
  errorMessage,
  type ServerMessage,
} from '@reactometer/shared';
import { createComposition } from '../composition.js';
import { METRIC, MetricUnit, errorText } from '../observability.js';

export type WsEvent = APIGatewayProxyWebsocketEventV2;
export interface WsResult {
  readonly statusCode: number;
  readonly body?: string;
}

const app = createComposition(process.env);
// Snapshots come from the warm container's copy of the counts: a reconnect storm of dashboards
// costs one Scan per container per COUNTS_CACHE_MS, not one per dashboard.
const counts = app.counts();
const registry = app.registry();
const { connectionTtlSeconds } = app.connectionsConfig();
const { managementEndpoint } = app.senderConfig();
const logger = app.logger();
const metrics = app.metrics();

const OK: WsResult = { statusCode: 200 };

/**
 * Where to post replies: the configured endpoint, else the one this event came through. The
 * execute-api host, not a custom domain, is what the management API answers on, so deployments
 * set WS_MANAGEMENT_ENDPOINT; the fallback serves a bare `serverless deploy` of this file.
 */
function endpointOf(event: WsEvent): string {
  if (managementEndpoint !== undefined) return managementEndpoint;
  const { domainName, stage } = event.requestContext;
  return `https://${domainName}/${stage}`;
}

/** Epoch seconds after which the record is garbage: connect time plus the TTL. */
function expiresAt(connectedAtMs: number): number {
  return Math.floor(connectedAtMs / 1000) + connectionTtlSeconds;
}

function connectedAtOf(event: WsEvent): number {
  const at = event.requestContext.connectedAt;
  return typeof at === 'number' && Number.isFinite(at) ? at : Date.now();
}

async function connect(event: WsEvent): Promise<WsResult> {
  const { connectionId } = event.requestContext;
  const connectedAt = connectedAtOf(event);
  try {
    await registry.add({ id: connectionId, connectedAt, expiresAt: expiresAt(connectedAt) });
  } catch (err) {
    // A non-2xx refuses the upgrade; the dashboard reconnects with backoff.
    logger.error('connect failed', { connectionId, error: errorText(err), cause: err });
    return { statusCode: 503 };
  }
  metrics.addMetric(METRIC.connectionsOpened, MetricUnit.Count, 1);
  logger.debug('connected', { connectionId });
  return OK;
}

async function disconnect(event: WsEvent): Promise<WsResult> {
  const { connectionId } = event.requestContext;
  try {
    await registry.remove(connectionId);
  } catch (err) {
    // Not fatal: the next fan-out's 410 or the TTL removes the record.
    logger.warn('disconnect cleanup failed', { connectionId, error: errorText(err) });
  }
  metrics.addMetric(METRIC.connectionsClosed, MetricUnit.Count, 1);
  logger.debug('disconnected', { connectionId });
  return OK;
}

function frameText(event: WsEvent): string {
  const body = event.body ?? '';
  return event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
}

async function reply(event: WsEvent, message: ServerMessage): Promise<void> {
  const { connectionId } = event.requestContext;
  try {
    await app.sender(endpointOf(event)).send(connectionId, JSON.stringify(message));
  } catch (err) {
    if (err instanceof GoneConnectionError) {
      // The caller left between sending and our answer; forget it now rather than at the next fan-out.
      await registry.remove(connectionId).catch(() => undefined);
      return;
    }
    logger.warn('reply failed', { connectionId, type: message.type, error: errorText(err) });
  }
}

/**
 * Re-records a connection that talks to us. A fan-out that raced a `$connect` (API Gateway
 * answers 410 until the connection is open) deletes the fresh record; the snapshot request every
 * dashboard sends after connecting, and its keep-alive pings, put it back. The expiry stays tied
 * to the connect time, so the 2-hour limit still bounds it.
 */
async function touch(event: WsEvent): Promise<void> {
  const { connectionId } = event.requestContext;
  const connectedAt = connectedAtOf(event);
  try {
    await registry.add({ id: connectionId, connectedAt, expiresAt: expiresAt(connectedAt) });
  } catch (err) {
    logger.warn('connection refresh failed', { connectionId, error: errorText(err) });
  }
}

/**
 * Answers one client frame. `refresh`: the route proves the connection is alive and wanted
 * (`getReactions`, `ping`), so its record is put back too (see `touch`).
 */
async function answerFrame(event: WsEvent, refresh: boolean): Promise<WsResult> {
  const text = frameText(event);
  if (Buffer.byteLength(text, 'utf8') > MAX_CLIENT_FRAME_BYTES) {
    // API Gateway accepts frames far larger than the contract's limit and cannot close with 1009;
    // the droplet's answer to such a frame is a close, ours an error the client can read.
    await reply(
      event,
      errorMessage('invalid_message', `frame exceeds ${MAX_CLIENT_FRAME_BYTES} bytes`),
    );
    return OK;
  }
  const [answer] = await Promise.all([
    answerClientFrame(text, counts),
    refresh ? touch(event) : undefined,
  ]);
  await reply(event, answer);
  return OK;
}

/** Frames that are not JSON, have no `action`, or name an action without a route. */
const defaultRoute = (event: WsEvent): Promise<WsResult> => answerFrame(event, false);

type Route = (event: WsEvent) => Promise<WsResult>;

/**
 * The message routes, by `routeKey`. A Map, not an object literal: the route key comes from what
 * the client wrote (`$request.body.action`), and `routes["constructor"]` on a plain object finds
 * `Object.prototype`'s member instead of nothing.
 */
export const messageRoutes: ReadonlyMap<string, Route> = new Map<string, Route>([
  ['getReactions', (event) => answerFrame(event, true)],
  ['ping', (event) => answerFrame(event, true)],
  ['$default', defaultRoute],
]);

/**
 * The route of an event. Connect and disconnect are what API Gateway says happened
 * (`eventType`), never what a client wrote: a frame `{"action":"$disconnect"}` arrives as a
 * MESSAGE (API Gateway itself routes it to `$disconnect` when that route exists) and must not
 * unregister a socket that stays open.
 */
export function routeOf(event: WsEvent): Route {
  const { eventType, routeKey } = event.requestContext;
  if (eventType === 'CONNECT') return connect;
  if (eventType === 'DISCONNECT') return disconnect;
  return messageRoutes.get(routeKey) ?? defaultRoute;
}

export async function handler(event: WsEvent, context?: Context): Promise<WsResult> {
  const routeKey = event.requestContext.routeKey;
  const route = routeOf(event);
  try {
    return await route(event);
  } catch (err) {
    logger.error('websocket route failed', {
      awsRequestId: context?.awsRequestId,
      routeKey,
      connectionId: event.requestContext.connectionId,
      error: errorText(err),
      cause: err,
    });
    return { statusCode: 500 };
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
