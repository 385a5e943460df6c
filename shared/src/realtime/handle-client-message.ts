import { isReactometerError } from '../errors.js';
import { listReactions } from '../counting/list-reactions.js';
import type { ReactionStore } from '../ports.js';
import {
  PONG,
  errorMessage,
  parseClientMessage,
  snapshotMessage,
  type ClientMessage,
  type ServerMessage,
} from '../protocol/index.js';

/** Where snapshots come from, and how stale they may be (0: current). */
export interface SnapshotSource extends Pick<ReactionStore, 'listCounts'> {
  /** A copy that can be this old (ms): the snapshot carries it as `refreshAfterMs`. */
  readonly maxAgeMs?: number;
}

/** Answers one validated client message (the droplet's ws handler and the Lambda routes share it). */
export async function answerClientMessage(
  message: ClientMessage,
  store: SnapshotSource,
): Promise<ServerMessage> {
  switch (message.action) {
    case 'ping':
      return PONG;
    case 'getReactions':
      try {
        return snapshotMessage(await listReactions(store), store.maxAgeMs ?? 0);
      } catch (err) {
        if (isReactometerError(err) && err.code === 'store_unavailable') {
          return errorMessage(
            'store_unavailable',
            'counts are unavailable right now; ask again shortly',
          );
        }
        return errorMessage('internal_error', 'internal error');
      }
  }
}

/** Parses and answers one raw text frame; bad frames get an `error` message, never a throw. */
export async function answerClientFrame(
  text: string,
  store: SnapshotSource,
): Promise<ServerMessage> {
  const parsed = parseClientMessage(text);
  if (!parsed.ok) return errorMessage(parsed.code, parsed.message);
  return answerClientMessage(parsed.message, store);
}
