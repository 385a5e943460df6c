import { PayloadError, PayloadTooLargeError } from '../errors.js';
import { MAX_SLACK_BODY_BYTES } from '../contract/limits.js';
import {
  applyReactionEvent,
  type ApplyOutcome,
  type CountingDeps,
} from '../counting/apply-reaction-event.js';
import type { AppendOutcome, EventInbox } from '../inbox/event-inbox.js';
import type { Clock } from '../ports.js';
import { parseSlackPayload, type ReactionEvent } from './events.js';
import { SIGNATURE_MAX_SKEW_SECONDS, verifySlackSignature } from './signature.js';

/**
 * A reaction's `event_ts` is when Slack saw it, so it is never later than the request carrying it,
 * give or take the clock skew the signature window allows. A far-future one would win every
 * later-timestamp comparison and freeze that reaction for good, so it is refused.
 */
function assertNotFromTheFuture(event: ReactionEvent, requestTimestamp: string | undefined): void {
  const sentAt = Number(requestTimestamp);
  if (event.eventTs.seconds > sentAt + SIGNATURE_MAX_SKEW_SECONDS) {
    throw new PayloadError(
      'invalid_event',
      `event.event_ts: is more than ${SIGNATURE_MAX_SKEW_SECONDS} s later than X-Slack-Request-Timestamp`,
      'event.event_ts',
    );
  }
}

/** The normalised input every edge builds from its own request type. */
export interface SlackRequest {
  readonly rawBody: Uint8Array;
  /** Looks a header up by name, case-insensitively. */
  readonly header: (name: string) => string | undefined;
}

/** What the edge itself needs: the secret and the clock of the signature window. */
export interface SlackEdgeDeps {
  readonly signingSecret: string;
  readonly clock: Clock;
}

/** Applies a reaction to the store before answering (the path without an inbox). */
export interface SlackDeps extends SlackEdgeDeps, CountingDeps {}

/** Appends a reaction to a durable inbox and answers once it is stored there; a worker applies it. */
export interface InboxSlackDeps extends SlackEdgeDeps {
  readonly inbox: EventInbox;
}

function hasInbox(deps: SlackDeps | InboxSlackDeps): deps is InboxSlackDeps {
  return 'inbox' in deps;
}

export type SlackResult =
  | { readonly kind: 'challenge'; readonly challenge: string }
  | { readonly kind: 'reaction'; readonly eventId: string; readonly outcome: ApplyOutcome }
  | { readonly kind: 'queued'; readonly eventId: string; readonly append: AppendOutcome }
  | { readonly kind: 'ignored'; readonly eventId: string; readonly eventType: string };

/**
 * The whole `POST /slack/events` use case: size limit, signature on the raw bytes, parsing,
 * url_verification, and the counting model (or the inbox in front of it). Resolves once the
 * effect is durable; throws a
 * `ReactometerError` whose code the edge maps to a status (see `contract/http-errors.ts`).
 */
export async function handleSlackRequest(
  req: SlackRequest,
  deps: SlackDeps | InboxSlackDeps,
): Promise<SlackResult> {
  if (req.rawBody.byteLength > MAX_SLACK_BODY_BYTES) {
    throw new PayloadTooLargeError(MAX_SLACK_BODY_BYTES);
  }
  verifySlackSignature(
    {
      rawBody: req.rawBody,
      signature: req.header('x-slack-signature'),
      timestamp: req.header('x-slack-request-timestamp'),
    },
    deps.signingSecret,
    deps.clock,
  );
  const payload = parseSlackPayload(req.rawBody);
  switch (payload.kind) {
    case 'url_verification':
      return { kind: 'challenge', challenge: payload.challenge };
    case 'ignored':
      return payload;
    case 'reaction':
      // The signature check above accepted this header, so it is a number.
      assertNotFromTheFuture(payload, req.header('x-slack-request-timestamp'));
      if (hasInbox(deps)) {
        return {
          kind: 'queued',
          eventId: payload.eventId,
          append: await deps.inbox.append(payload),
        };
      }
      return {
        kind: 'reaction',
        eventId: payload.eventId,
        outcome: await applyReactionEvent(payload, deps),
      };
  }
}
