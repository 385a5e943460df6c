/**
 * The Slack edge, once for both deployments: what `POST /slack/events` answers for each result
 * of `handleSlackRequest` (or what it threw), at which log level, with which log fields.
 */
import {
  answerError,
  errorText,
  type EdgeAnswer,
  type EdgeLogFields,
} from '../contract/edge-answer.js';
import type { ErrorBody } from '../contract/http-errors.js';
import type { ApplyOutcome } from '../counting/apply-reaction-event.js';
import {
  handleSlackRequest,
  type InboxSlackDeps,
  type SlackDeps,
  type SlackRequest,
  type SlackResult,
} from './handle-slack-request.js';

export type SlackAnswerBody = { readonly ok: true } | { readonly challenge: string } | ErrorBody;

export type SlackAnswer = EdgeAnswer<SlackAnswerBody>;

/** Longest event id written to a log line: the id of an unparsed body is the client's text. */
const MAX_LOGGED_EVENT_ID = 64;

/**
 * The `event_id` of a body that failed before parsing finished (bad signature, store down), for
 * the log line only: it ties a rejected delivery to Slack's retries of it. Best effort.
 */
export function peekEventId(rawBody: Uint8Array): string | undefined {
  try {
    const id = (JSON.parse(new TextDecoder().decode(rawBody)) as { event_id?: unknown } | null)
      ?.event_id;
    return typeof id === 'string' ? id.slice(0, MAX_LOGGED_EVENT_ID) : undefined;
  } catch {
    return undefined;
  }
}

/** What every Slack line carries whatever the outcome: the body size and Slack's retry headers. */
function requestFields(req: SlackRequest): Omit<EdgeLogFields, 'status'> {
  const retryNum = req.header('x-slack-retry-num');
  const retryReason = req.header('x-slack-retry-reason');
  return {
    bytes: req.rawBody.byteLength,
    ...(retryNum === undefined ? {} : { slackRetryNum: retryNum }),
    ...(retryReason === undefined ? {} : { slackRetryReason: retryReason }),
  };
}

/**
 * The answer to a request `handleSlackRequest` resolved: always 200 (the effect is durable).
 * A change that is stored but not pushed (`publishError`) or whose pending marker was not
 * cleared (`settleError`) is logged at `warn`: the count is right, but dashboards lag until the
 * next update, or the next event for that reaction pays for a recount.
 */
export function answerSlackResult(req: SlackRequest, result: SlackResult): SlackAnswer {
  const base = { ...requestFields(req), status: 200 };
  if (result.kind === 'challenge') {
    return {
      status: 200,
      body: { challenge: result.challenge },
      level: 'info',
      message: 'slack event',
      fields: { ...base, outcome: 'url_verification' },
    };
  }
  const ok = { status: 200, body: { ok: true }, message: 'slack event' } as const;
  if (result.kind === 'ignored') {
    return {
      ...ok,
      level: 'info',
      fields: { ...base, eventId: result.eventId, outcome: `ignored:${result.eventType}` },
    };
  }
  if (result.kind === 'queued') {
    return {
      ...ok,
      level: 'info',
      fields: { ...base, eventId: result.eventId, outcome: result.append },
    };
  }
  const applied = appliedOutcome(result.outcome);
  return {
    ...ok,
    level: applied.level,
    fields: { ...base, eventId: result.eventId, ...applied.fields },
  };
}

/**
 * The level and log fields of one applied reaction: `info`, or `warn` for a change that is stored
 * but not pushed (`publishError`) or whose pending marker was not cleared (`settleError`). The
 * edge logs it when it applies the event itself; an inbox worker logs it when it applies it later.
 */
export function appliedOutcome(outcome: ApplyOutcome): {
  readonly level: 'info' | 'warn';
  readonly fields: Pick<
    EdgeLogFields,
    'outcome' | 'emoji' | 'count' | 'version' | 'publishError' | 'settleError'
  >;
} {
  if (outcome.kind === 'unchanged') {
    return { level: 'info', fields: { outcome: `unchanged:${outcome.reason}` } };
  }
  const degraded = outcome.publishError !== undefined || outcome.settleError !== undefined;
  return {
    level: degraded ? 'warn' : 'info',
    fields: {
      outcome: 'changed',
      emoji: outcome.count.emoji,
      count: outcome.count.count,
      version: outcome.count.version,
      ...(outcome.publishError === undefined
        ? {}
        : { publishError: errorText(outcome.publishError) }),
      ...(outcome.settleError === undefined ? {} : { settleError: errorText(outcome.settleError) }),
    },
  };
}

/**
 * The answer to a request `handleSlackRequest` threw on: the contract's error status and body
 * (401, 400, 413; 503 so that Slack retries), logged with the event id peeked from the body.
 */
export function answerSlackError(req: SlackRequest, err: unknown): SlackAnswer {
  const answer = answerError(err, 'slack event');
  const eventId = peekEventId(req.rawBody);
  return {
    ...answer,
    fields: {
      ...requestFields(req),
      ...(eventId === undefined ? {} : { eventId }),
      ...answer.fields,
    },
  };
}

/**
 * Runs the `POST /slack/events` use case and maps it to its answer. Never throws. `result` is
 * there for an edge that also counts outcomes (Lambda's metrics); it is absent on an error.
 */
export async function answerSlackRequest(
  req: SlackRequest,
  deps: SlackDeps | InboxSlackDeps,
): Promise<{ readonly answer: SlackAnswer; readonly result?: SlackResult }> {
  let result: SlackResult;
  try {
    result = await handleSlackRequest(req, deps);
  } catch (err) {
    return { answer: answerSlackError(req, err) };
  }
  return { answer: answerSlackResult(req, result), result };
}
