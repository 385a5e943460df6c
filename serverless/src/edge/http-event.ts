/**
 * Translating API Gateway HTTP API (payload 2.0) events into the core's terms and back.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { toHttpError } from '@reactometer/shared';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/**
 * A case-insensitive header lookup. HTTP API lowercases names, but serverless-offline, other
 * proxies and hand-written events may not; a repeated header arrives joined with commas.
 */
export function headerLookup(
  headers: HttpEvent['headers'] | null | undefined,
): (name: string) => string | undefined {
  const lower = new Map<string, string>();
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const seen = lower.get(key);
    lower.set(key, seen === undefined ? value : `${seen},${value}`);
  }
  return (name) => lower.get(name.toLowerCase());
}

/**
 * The body exactly as the client sent it. A base64 body is decoded to bytes, not to a string:
 * Slack signs the raw bytes, and a detour through a string (`atob`, 'binary', 'ascii') changes
 * every non-ASCII byte and so the signature.
 */
export function rawBody(event: Pick<HttpEvent, 'body' | 'isBase64Encoded'>): Uint8Array {
  if (event.body === undefined || event.body === null) return new Uint8Array(0);
  return event.isBase64Encoded
    ? Buffer.from(event.body, 'base64')
    : Buffer.from(event.body, 'utf8');
}

/** `METHOD /path` of the request, from the route key or, failing that, the raw request line. */
export function requestLine(event: HttpEvent): string {
  const method = event.requestContext?.http?.method ?? 'GET';
  const path = event.rawPath ?? event.requestContext?.http?.path ?? '/';
  return `${method.toUpperCase()} ${path}`;
}

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

/** The contract's error response for any thrown value (see `toHttpError`). */
export function errorResult(err: unknown): HttpResult {
  const { status, body } = toHttpError(err);
  return json(status, body);
}
