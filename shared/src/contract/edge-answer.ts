/**
 * What an edge answers and logs for one request, as data. The core decides the status, the body,
 * the log level and the log fields; each deployment only writes them, with its own response type
 * and its own logger (pino on the droplet, Powertools on Lambda). Written once here because the
 * two edges drifted when each wrote its own mapping.
 */
import { OverloadedError, StoreUnavailableError, type ErrorCode } from '../errors.js';
import type { InboxStatus } from '../inbox/event-inbox.js';
import type { ReactionStore } from '../ports.js';
import { toHttpError, type ErrorBody } from './http-errors.js';

export type EdgeLogLevel = 'info' | 'warn' | 'error';

/**
 * The fields of an answer's log line. Both deployments write exactly these names, so that one
 * query finds the same event in either deployment's logs.
 */
export type EdgeLogFields = {
  /** The status answered. */
  readonly status: number;
  readonly eventId?: string;
  /**
   * `url_verification`, `ignored:<type>`, `appended` / `duplicate` (stored in the inbox), or
   * `changed` / `unchanged:<reason>` (applied at once, without an inbox).
   */
  readonly outcome?: string;
  readonly emoji?: string;
  readonly count?: number;
  readonly version?: number;
  /** The count is stored but pushing it to dashboards failed (`errorText`). */
  readonly publishError?: string;
  /** The count is stored but clearing the state's pending marker failed (`errorText`). */
  readonly settleError?: string;
  readonly errorCode?: ErrorCode;
  /** `errorText` of what was thrown. */
  readonly error?: string;
  /** The thrown value itself, for its stack and cause; 5xx only, where the fault is ours. */
  readonly err?: unknown;
  /** Size of the request body. */
  readonly bytes?: number;
  /** Slack's retry headers: they say why an earlier delivery failed and explain duplicate work. */
  readonly slackRetryNum?: string;
  readonly slackRetryReason?: string;
};

/**
 * One request's answer: `status` and `body` for the client, `level`, `message` and `fields` for
 * the log line. An edge that writes one line per answer (Lambda) uses `message`; the droplet puts
 * the level and fields on its one access-log line per request.
 */
export interface EdgeAnswer<TBody = unknown> {
  readonly status: number;
  readonly body: TBody;
  readonly level: EdgeLogLevel;
  readonly message: string;
  readonly fields: EdgeLogFields;
  /** Response headers besides the content type (`Retry-After` on an overload 503). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** `Name: message` of a thrown value, for a log field. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/**
 * The contract's error answer for any thrown value (status and body from `toHttpError`). A 5xx is
 * logged at `error` with the thrown value; a 4xx is the client's doing and is logged at `info`.
 * `subject` names the line: `<subject> failed` or `<subject> rejected`.
 */
export function answerError(err: unknown, subject = 'request'): EdgeAnswer<ErrorBody> {
  const { status, body } = toHttpError(err);
  const failed = status >= 500;
  return {
    status,
    body,
    level: failed ? 'error' : 'info',
    message: failed ? `${subject} failed` : `${subject} rejected`,
    fields: {
      status,
      errorCode: body.error.code,
      error: errorText(err),
      // The cause goes to the log only; toHttpError keeps 5xx details out of the body.
      ...(failed ? { err } : {}),
    },
    ...(err instanceof OverloadedError
      ? { headers: { 'Retry-After': String(err.retryAfterSeconds) } }
      : {}),
  };
}

export type HealthBody =
  | { readonly status: 'ok'; readonly inbox?: InboxStatus }
  | (ErrorBody & { readonly inbox?: InboxStatus });

/** How a store's `ping` ended. */
export type PingOutcome = { readonly ok: true } | { readonly ok: false; readonly error: unknown };

/**
 * `GET /healthz`: 200 `{status: 'ok'}` when the store answered, otherwise 503 with the contract's
 * error body. Whatever went wrong, the answer to "can this deployment serve?" is no: 503, never
 * 500, whatever the store threw.
 */
export function answerHealth(ping: PingOutcome, inbox?: InboxStatus): EdgeAnswer<HealthBody> {
  // How far behind the inbox is rides along either way: during an outage it is what says how
  // much is waiting to be counted. The status still says only whether the store answers.
  const withInbox = inbox === undefined ? {} : { inbox };
  if (ping.ok) {
    return {
      status: 200,
      body: { status: 'ok', ...withInbox },
      level: 'info',
      message: 'healthy',
      fields: { status: 200 },
    };
  }
  const unavailable =
    toHttpError(ping.error).status === 503
      ? ping.error
      : new StoreUnavailableError('store did not answer', { cause: ping.error });
  const answer = answerError(unavailable, 'health check');
  return { ...answer, body: { ...answer.body, ...withInbox } };
}

/** Pings the store and answers `GET /healthz` (see `answerHealth`). Never throws. */
export async function checkHealth(
  store: Pick<ReactionStore, 'ping'>,
  inbox?: () => InboxStatus | Promise<InboxStatus>,
): Promise<EdgeAnswer<HealthBody>> {
  // The inbox's status is extra information: if it cannot be read, the field is left out and the
  // answer still says what the store says.
  const status =
    inbox === undefined
      ? undefined
      : Promise.resolve()
          .then(inbox)
          .catch(() => undefined);
  try {
    await store.ping();
    return answerHealth({ ok: true }, await status);
  } catch (error) {
    return answerHealth({ ok: false, error }, await status);
  }
}
