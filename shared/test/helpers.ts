import type { ReactionEvent } from '../src/index.js';
import { parseEventTs, type EventTs } from '../src/index.js';

/** A reaction event as the core receives it after parsing. */
export function reactionEvent(opts: {
  user?: string;
  reaction?: string;
  present: boolean;
  ts: string;
  channel?: string;
  messageTs?: string;
  eventId?: string;
  team?: string;
}): ReactionEvent {
  return {
    kind: 'reaction',
    eventId: opts.eventId ?? `Ev-${opts.ts}`,
    team: opts.team ?? 'T1',
    user: opts.user ?? 'U1',
    reaction: opts.reaction ?? 'tada',
    item: {
      type: 'message',
      channel: opts.channel ?? 'C1',
      ts: opts.messageTs ?? '1700000000.000100',
    },
    present: opts.present,
    eventTs: parseEventTs(opts.ts) as EventTs,
  };
}
