/**
 * The WebSocket and HTTP message shapes of the contract, with runtime validation. Pure and
 * dependency-light so that the dashboard can import it too (`@reactometer/shared/protocol`).
 */
import { z } from 'zod';

export const emojiCountSchema = z.object({
  emoji: z.string().min(1),
  count: z.number().int().nonnegative(),
  version: z.number().int().nonnegative(),
});

export const clientMessageSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('getReactions') }),
  z.object({ action: z.literal('ping') }),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

export const serverMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('snapshot'),
    reactions: z.array(emojiCountSchema),
    // Set when the snapshot came from a cached copy up to this old (serverless, COUNTS_CACHE_MS):
    // the client asks once more after this long, so that a change fanned out meanwhile is not lost.
    refreshAfterMs: z.number().int().nonnegative().optional(),
  }),
  z.object({ type: z.literal('update'), reactions: z.array(emojiCountSchema) }),
  z.object({ type: z.literal('pong') }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;

export const reactionsResponseSchema = z.object({ reactions: z.array(emojiCountSchema) });
export type ReactionsResponse = z.infer<typeof reactionsResponseSchema>;

export type WsErrorCode =
  'invalid_message' | 'unknown_action' | 'store_unavailable' | 'internal_error';

export type ParsedClientMessage =
  | { readonly ok: true; readonly message: ClientMessage }
  | { readonly ok: false; readonly code: WsErrorCode; readonly message: string };

/** Validates one client frame; never throws. */
export function parseClientMessage(text: string): ParsedClientMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, code: 'invalid_message', message: 'frame is not valid JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, code: 'invalid_message', message: 'frame must be a JSON object' };
  }
  const action = (json as { action?: unknown }).action;
  if (typeof action !== 'string') {
    return { ok: false, code: 'invalid_message', message: 'action: must be a string' };
  }
  const parsed = clientMessageSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      code: 'unknown_action',
      message: `action: unknown action ${JSON.stringify(action.slice(0, 64))} (expected "getReactions" or "ping")`,
    };
  }
  return { ok: true, message: parsed.data };
}

export function snapshotMessage(
  reactions: readonly z.infer<typeof emojiCountSchema>[],
  refreshAfterMs = 0,
): ServerMessage {
  return refreshAfterMs > 0
    ? { type: 'snapshot', reactions: [...reactions], refreshAfterMs }
    : { type: 'snapshot', reactions: [...reactions] };
}

export function updateMessage(
  reactions: readonly z.infer<typeof emojiCountSchema>[],
): ServerMessage {
  return { type: 'update', reactions: [...reactions] };
}

export function errorMessage(code: WsErrorCode, message: string): ServerMessage {
  return { type: 'error', code, message };
}

export const PONG: ServerMessage = { type: 'pong' };
