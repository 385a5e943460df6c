/**
 * The durable inbox between the Slack edge and the counting (issue 11): the edge verifies and
 * validates an event, appends it here and answers 200 once the append is durable; a worker of
 * each deployment (the droplet's journal worker, the serverless counting function) applies
 * inbox events through `applyReactionEvent` and removes each only once it is applied. The inbox
 * never depends on the store it protects, so a database outage delays counting but loses nothing.
 */
import { ReactometerError } from '../errors.js';
import { formatEventTs, parseEventTs, type EventTs } from '../counting/event-ts.js';
import type { ReactionEvent } from '../slack/events.js';

/** How an append ended: stored now, or already in the inbox (a Slack retry of the same `event_id`). */
export type AppendOutcome = 'appended' | 'duplicate';

/** Where the Slack edge puts validated reaction events. */
export interface EventInbox {
  /**
   * Resolves once `event` is durable in the inbox (or an event with its `event_id` already is).
   * Throws `OverloadedError` at once when the inbox takes no more, `StoreUnavailableError` when
   * the inbox itself cannot store it; both answer 503, so Slack retries.
   */
  append(event: ReactionEvent): Promise<AppendOutcome>;
}

/** How far behind an inbox is, for `/healthz`. */
export interface InboxStatus {
  /** Events stored and not yet applied. */
  readonly pending: number;
  /** Age of the oldest of them in ms (0 when none). */
  readonly oldestAgeMs: number;
  /** True while events wait and the worker is applying them (not backing off). */
  readonly draining: boolean;
  /** The code of the worker's last failure while it is backing off, else null. */
  readonly lastErrorCode: string | null;
}

/** The format version of an encoded inbox event; a reader refuses others. */
const INBOX_EVENT_VERSION = 1;

/** A `ReactionEvent` as one JSON object, the same on the droplet's journal and in SQS. */
interface EncodedEvent {
  readonly v: typeof INBOX_EVENT_VERSION;
  readonly eventId: string;
  readonly team: string;
  readonly user: string;
  readonly reaction: string;
  readonly item: ReactionEvent['item'];
  readonly present: boolean;
  /** Canonical form (`formatEventTs`): exact, unlike a float. */
  readonly eventTs: string;
}

/** An inbox record that cannot be decoded: written by another version, or damaged. */
export class InboxRecordError extends ReactometerError {
  constructor(message: string) {
    super('internal_error', `inbox record: ${message}`);
  }
}

/** The JSON text of one inbox event. */
export function encodeInboxEvent(event: ReactionEvent): string {
  const encoded: EncodedEvent = {
    v: INBOX_EVENT_VERSION,
    eventId: event.eventId,
    team: event.team,
    user: event.user,
    reaction: event.reaction,
    item: event.item,
    present: event.present,
    eventTs: formatEventTs(event.eventTs),
  };
  return JSON.stringify(encoded);
}

const isString = (v: unknown): v is string => typeof v === 'string' && v !== '';

function decodeItem(item: unknown): ReactionEvent['item'] | null {
  if (typeof item !== 'object' || item === null) return null;
  const i = item as Record<string, unknown>;
  if (i.type === 'message' && isString(i.channel) && isString(i.ts))
    return { type: 'message', channel: i.channel, ts: i.ts };
  if (i.type === 'file' && isString(i.file)) return { type: 'file', file: i.file };
  if (i.type === 'file_comment' && isString(i.file_comment))
    return { type: 'file_comment', file_comment: i.file_comment };
  return null;
}

/**
 * The event of one inbox record. The edge validated it before it was stored; this checks the
 * shape again because the record crossed a process (and maybe a version) boundary.
 */
export function decodeInboxEvent(text: string): ReactionEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InboxRecordError('not JSON');
  }
  if (typeof raw !== 'object' || raw === null) throw new InboxRecordError('not an object');
  const r = raw as Record<string, unknown>;
  if (r.v !== INBOX_EVENT_VERSION) throw new InboxRecordError(`unknown version ${String(r.v)}`);
  const item = decodeItem(r.item);
  // The canonical form has 12 + 6 digits, which parseEventTs reads back exactly.
  const eventTs: EventTs | null = typeof r.eventTs === 'string' ? parseEventTs(r.eventTs) : null;
  if (
    !isString(r.eventId) ||
    !isString(r.team) ||
    !isString(r.user) ||
    !isString(r.reaction) ||
    item === null ||
    typeof r.present !== 'boolean' ||
    eventTs === null
  ) {
    throw new InboxRecordError('missing or malformed field');
  }
  return {
    kind: 'reaction',
    eventId: r.eventId,
    team: r.team,
    user: r.user,
    reaction: r.reaction,
    item,
    present: r.present,
    eventTs,
  };
}
