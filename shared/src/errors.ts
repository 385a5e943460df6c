/**
 * Every error the core raises carries a stable `code`. Only the edges (Express, Lambda) turn
 * codes into HTTP statuses or WebSocket messages, through `contract/http-errors.ts`.
 */
export type ErrorCode =
  | 'invalid_signature'
  | 'invalid_json'
  | 'invalid_event'
  | 'payload_too_large'
  | 'store_unavailable'
  | 'reaction_busy'
  | 'store_conflict'
  | 'overloaded'
  | 'not_found'
  | 'method_not_allowed'
  | 'too_many_connections'
  | 'shutting_down'
  | 'connection_gone'
  | 'throttled'
  | 'unauthorized'
  | 'forbidden_origin'
  | 'too_many_address_connections'
  | 'invalid_sign_in'
  | 'sign_in_refused'
  | 'sign_in_unavailable'
  | 'internal_error';

export class ReactometerError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The Slack signature is missing, malformed, wrong or outside the allowed clock skew. */
export class SignatureError extends ReactometerError {
  constructor(message: string) {
    super('invalid_signature', message);
  }
}

/** A correctly signed body that is not JSON, or not a valid Events API payload. */
export class PayloadError extends ReactometerError {
  /** Dotted path of the offending field, when one can be named. */
  readonly field: string | undefined;

  constructor(code: 'invalid_json' | 'invalid_event', message: string, field?: string) {
    super(code, message);
    this.field = field;
  }
}

/** The body is larger than the contract allows. */
export class PayloadTooLargeError extends ReactometerError {
  constructor(limitBytes: number) {
    super('payload_too_large', `request body exceeds ${limitBytes} bytes`);
  }
}

/** The store could not be reached or did not answer in time; the caller should retry later. */
export class StoreUnavailableError extends ReactometerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('store_unavailable', message, options);
  }
}

/**
 * Another delivery of an event for the same reaction is still being applied. Answering 503 makes
 * Slack retry later, when the other attempt has finished or its lease has expired.
 */
export class ReactionBusyError extends ReactometerError {
  constructor(key: string) {
    super('reaction_busy', `another update of reaction ${key} is in progress`);
  }
}

/** Optimistic writes kept losing to concurrent writers; retrying later is safe. */
export class StoreConflictError extends ReactometerError {
  constructor(message: string) {
    super('store_conflict', message);
  }
}

/**
 * More work is in flight or queued than the deployment accepts: refused at once, before anything
 * is stored, so that Slack retries later instead of waiting out a timeout.
 */
export class OverloadedError extends ReactometerError {
  /** What the edge sends as `Retry-After`. */
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super('overloaded', message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The WebSocket connection no longer exists (API Gateway answers 410 GoneException). */
export class GoneConnectionError extends ReactometerError {
  constructor(connectionId: string, options?: { cause?: unknown }) {
    super('connection_gone', `connection ${connectionId} is gone`, options);
  }
}

/** The remote API asked us to slow down (429 / TooManyRequestsException); retry with backoff. */
export class ThrottledError extends ReactometerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('throttled', message, options);
  }
}

/**
 * A dashboard request without a valid viewer token (missing, malformed, expired, wrong signature,
 * audience or issuer). The message never quotes the token.
 */
export class UnauthorizedError extends ReactometerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unauthorized', message, options);
  }
}

/** A browser page from an origin that is not in ALLOWED_ORIGINS. */
export class ForbiddenOriginError extends ReactometerError {
  constructor(origin: string) {
    super('forbidden_origin', `origin ${JSON.stringify(origin)} is not allowed`);
  }
}

export function isReactometerError(err: unknown): err is ReactometerError {
  return err instanceof ReactometerError;
}
