import { isReactometerError, type ErrorCode } from '../errors.js';

/**
 * The contract's status for each error code, shared by both edges so that they cannot drift.
 * 503 tells Slack to retry; everything else is final.
 */
const STATUS: Record<ErrorCode, number> = {
  invalid_signature: 401,
  invalid_json: 400,
  invalid_event: 400,
  payload_too_large: 413,
  not_found: 404,
  method_not_allowed: 405,
  too_many_connections: 503,
  shutting_down: 503,
  connection_gone: 410,
  throttled: 429,
  unauthorized: 401,
  forbidden_origin: 403,
  too_many_address_connections: 429,
  invalid_sign_in: 400,
  sign_in_refused: 403,
  sign_in_unavailable: 503,
  store_unavailable: 503,
  reaction_busy: 503,
  store_conflict: 503,
  overloaded: 503,
  internal_error: 500,
};

export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string };
}

export interface HttpError {
  readonly status: number;
  readonly body: ErrorBody;
}

/**
 * What a client may read about a server-side failure. Messages of 5xx errors often quote a driver
 * (database host and port, server errors): those stay in the log, and the client gets a fixed
 * sentence saying what to do.
 */
const SERVER_ERROR_MESSAGES: Partial<Record<ErrorCode, string>> = {
  store_unavailable: 'the database is unavailable; retry later',
  reaction_busy: 'another delivery of this reaction is being applied; retry later',
  store_conflict: 'too many concurrent updates of this reaction; retry later',
  overloaded: 'too much work in flight; retry later',
  too_many_connections: 'too many WebSocket connections; retry later',
  shutting_down: 'the server is shutting down; reconnect shortly',
  sign_in_unavailable: 'the sign-in provider is unavailable; retry later',
  internal_error: 'internal error',
};

/**
 * Maps any thrown value to a status and a JSON body. 4xx errors keep their message (written for
 * clients: it names the field or header at fault); 5xx errors get a fixed message; anything
 * unknown becomes a 500 whose body leaks nothing.
 */
export function toHttpError(err: unknown): HttpError {
  if (isReactometerError(err)) {
    const status = STATUS[err.code];
    const message =
      status >= 500 ? (SERVER_ERROR_MESSAGES[err.code] ?? 'internal error') : err.message;
    return { status, body: { error: { code: err.code, message } } };
  }
  return { status: 500, body: { error: { code: 'internal_error', message: 'internal error' } } };
}

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}
