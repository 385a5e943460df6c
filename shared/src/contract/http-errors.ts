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
  connection_gone: 410,
  throttled: 429,
  store_unavailable: 503,
  reaction_busy: 503,
  store_conflict: 503,
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
 * Maps any thrown value to a status and a JSON body. Known errors keep their message (they are
 * written for clients); anything else becomes a 500 whose body leaks nothing.
 */
export function toHttpError(err: unknown): HttpError {
  if (isReactometerError(err)) {
    const status = STATUS[err.code];
    const message = status >= 500 && err.code === 'internal_error' ? 'internal error' : err.message;
    return { status, body: { error: { code: err.code, message } } };
  }
  return { status: 500, body: { error: { code: 'internal_error', message: 'internal error' } } };
}

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}
