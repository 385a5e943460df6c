import { computeSlackSignature } from '../slack/signature.js';
import { parseSlackPayload, type ReactionEvent } from '../slack/events.js';

/** What a synthetic reaction event needs; used by tests and the Slack traffic generator. */
export interface ReactionEventSpec {
  readonly team?: string;
  readonly eventId: string;
  readonly type: 'reaction_added' | 'reaction_removed';
  readonly user: string;
  readonly reaction: string;
  /** Slack `event_ts`, e.g. "1700000000.000100". */
  readonly eventTs: string;
  readonly item:
    | { readonly type: 'message'; readonly channel: string; readonly ts: string }
    | { readonly type: 'file'; readonly file: string };
}

/** An Events API `event_callback` body shaped like Slack's own deliveries. */
export function reactionEventPayload(spec: ReactionEventSpec): Record<string, unknown> {
  const team = spec.team ?? 'T0REACTOM';
  return {
    token: 'unused-verification-token',
    team_id: team,
    api_app_id: 'A0REACTOM',
    event: {
      type: spec.type,
      user: spec.user,
      reaction: spec.reaction,
      item_user: 'U0AUTHOR',
      item: spec.item,
      event_ts: spec.eventTs,
    },
    type: 'event_callback',
    event_id: spec.eventId,
    event_time: Number(spec.eventTs.split('.')[0]),
    authorizations: [{ team_id: team, user_id: 'U0BOT', is_bot: true }],
  };
}

export interface SignedRequest {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

/** Serialises and signs a body as Slack would, with `timestampSeconds` as the request time. */
export function signSlackBody(
  secret: string,
  body: string | Uint8Array | Record<string, unknown>,
  timestampSeconds: number,
  extraHeaders: Record<string, string> = {},
): SignedRequest {
  const raw =
    typeof body === 'string'
      ? Buffer.from(body, 'utf8')
      : body instanceof Uint8Array
        ? Buffer.from(body)
        : Buffer.from(JSON.stringify(body), 'utf8');
  const timestamp = String(timestampSeconds);
  return {
    body: raw,
    headers: {
      'content-type': 'application/json',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': computeSlackSignature(secret, timestamp, raw),
      ...extraHeaders,
    },
  };
}

/** `spec` as the edge hands it on after parsing: what an inbox stores and its worker applies. */
export function parsedReactionEvent(spec: ReactionEventSpec): ReactionEvent {
  const parsed = parseSlackPayload(Buffer.from(JSON.stringify(reactionEventPayload(spec))));
  if (parsed.kind !== 'reaction') throw new Error(`not a reaction event: ${parsed.kind}`);
  return parsed;
}
