import { z } from 'zod';
import { PayloadError } from '../errors.js';
import { parseEventTs, type EventTs } from '../counting/event-ts.js';
import { baseEmoji, type ReactionItem } from '../counting/reaction-key.js';

/**
 * A non-empty string that is well-formed UTF-16. These values become parts of a store key
 * (`reactionKey` URI-encodes them), and a lone surrogate (`"\ud800"`) cannot be encoded: it is
 * refused here, as a 400 naming the field, instead of failing later as a 500.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const nonEmpty = z
  .string()
  .min(1)
  .refine((s) => !LONE_SURROGATE.test(s), 'must be well-formed Unicode (no lone UTF-16 surrogate)');

const itemSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message'), channel: nonEmpty, ts: nonEmpty }),
  z.object({ type: z.literal('file'), file: nonEmpty }),
  z.object({ type: z.literal('file_comment'), file_comment: nonEmpty }),
]);

const eventTsSchema = z
  .string()
  .refine((s) => parseEventTs(s) !== null, 'must be a Slack timestamp like "1360782804.083113"');

const reactionEventSchema = z.object({
  type: z.enum(['reaction_added', 'reaction_removed']),
  user: nonEmpty,
  reaction: nonEmpty
    .pipe(z.string().max(100))
    .pipe(z.string().regex(/^[^\s|]+$/, 'must be an emoji name without spaces'))
    // `::skin-tone-2` alone would count toward an emoji named "" that no dashboard can show.
    .refine((r) => baseEmoji(r) !== '', 'must name an emoji, not only a skin tone'),
  item: itemSchema,
  event_ts: eventTsSchema,
});

const urlVerificationSchema = z.object({
  type: z.literal('url_verification'),
  challenge: z.string().min(1).max(1000),
});

const eventCallbackSchema = z.object({
  type: z.literal('event_callback'),
  team_id: nonEmpty,
  event_id: nonEmpty,
  event: z.object({ type: nonEmpty }).passthrough(),
});

/** A reaction_added / reaction_removed event, validated and normalised. */
export interface ReactionEvent {
  readonly kind: 'reaction';
  readonly eventId: string;
  readonly team: string;
  readonly user: string;
  readonly reaction: string;
  readonly item: ReactionItem;
  /** true for reaction_added, false for reaction_removed. */
  readonly present: boolean;
  readonly eventTs: EventTs;
}

export type SlackPayload =
  | { readonly kind: 'url_verification'; readonly challenge: string }
  | ReactionEvent
  | { readonly kind: 'ignored'; readonly eventId: string; readonly eventType: string };

function fail(error: z.ZodError, prefix: string): never {
  const issue = error.issues[0];
  const path = [prefix, ...(issue?.path ?? []).map(String)].filter((p) => p !== '').join('.');
  const field = path === '' ? '(root)' : path;
  throw new PayloadError('invalid_event', `${field}: ${issue?.message ?? 'invalid'}`, field);
}

/**
 * Parses a verified Events API body. Throws `PayloadError` with code `invalid_json` for
 * non-JSON and `invalid_event` (naming the field) for a payload the contract does not accept.
 * Event types other than reactions are returned as `ignored`, so that Slack gets its 200.
 */
export function parseSlackPayload(rawBody: Uint8Array): SlackPayload {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(rawBody));
  } catch {
    throw new PayloadError('invalid_json', 'body is not valid UTF-8 JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new PayloadError('invalid_event', '(root): must be a JSON object', '(root)');
  }
  const type = (json as { type?: unknown }).type;
  if (type === 'url_verification') {
    const parsed = urlVerificationSchema.safeParse(json);
    if (!parsed.success) fail(parsed.error, '');
    return { kind: 'url_verification', challenge: parsed.data.challenge };
  }
  if (type !== 'event_callback') {
    const shown = typeof type === 'string' ? JSON.stringify(type) : 'missing';
    throw new PayloadError(
      'invalid_event',
      `type: must be "url_verification" or "event_callback" (got ${shown})`,
      'type',
    );
  }
  const envelope = eventCallbackSchema.safeParse(json);
  if (!envelope.success) fail(envelope.error, '');
  const { event, team_id: team, event_id: eventId } = envelope.data;
  if (event.type !== 'reaction_added' && event.type !== 'reaction_removed') {
    return { kind: 'ignored', eventId, eventType: event.type };
  }
  const parsed = reactionEventSchema.safeParse(event);
  if (!parsed.success) fail(parsed.error, 'event');
  const e = parsed.data;
  return {
    kind: 'reaction',
    eventId,
    team,
    user: e.user,
    reaction: e.reaction,
    item: e.item,
    present: e.type === 'reaction_added',
    // Safe: the schema refused anything parseEventTs rejects.
    eventTs: parseEventTs(e.event_ts) as EventTs,
  };
}
