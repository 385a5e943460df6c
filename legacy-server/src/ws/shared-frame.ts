/**
 * Frame once, write the same bytes to every socket. `ws.send()` encodes the string to UTF-8 and
 * builds a frame header for each socket it is called on; with 10,000 dashboards that work, not
 * the network, dominated a broadcast (issue 10: 1.2x slower than a naive server at p99). A server
 * frame is unmasked, so the same buffer is valid on every connection: it is built once with ws's
 * own `Sender.frame` and handed to each socket's sender, which writes it as one chunk.
 *
 * `Sender` is exported by ws but absent from its type definitions, and `sendFrame` is the method
 * ws itself uses after framing; both have been stable through ws 8. Where either is missing, or a
 * socket's sender is busy (a queued compressed or Blob message, which this server never sends),
 * the socket falls back to `ws.send()`, so correctness never depends on the shortcut.
 */
import * as wsLib from 'ws';
import type { WebSocket } from 'ws';

interface FrameOptions {
  readonly fin: boolean;
  readonly opcode: number;
  readonly mask: boolean;
  readonly readOnly: boolean;
  readonly rsv1: boolean;
}

interface SenderStatic {
  frame(data: Buffer, options: FrameOptions): Buffer[];
}

interface SenderInternals {
  sendFrame?: (list: Buffer[], cb?: (err?: Error) => void) => void;
  /** ws's sender state: 0 is idle; anything else queues sends behind compression or a Blob. */
  _state?: number;
}

const Sender = (wsLib as unknown as { Sender?: SenderStatic }).Sender;
const TEXT_OPCODE = 0x1;

/** A broadcast message: its UTF-8 bytes, and the complete text frame when it could be built. */
export interface SharedFrame {
  readonly payload: Buffer;
  readonly frame: Buffer | null;
}

/** Encodes and frames `text` once. */
export function sharedTextFrame(text: string): SharedFrame {
  const payload = Buffer.from(text, 'utf8');
  if (typeof Sender?.frame !== 'function') return { payload, frame: null };
  const parts = Sender.frame(payload, {
    fin: true,
    opcode: TEXT_OPCODE,
    mask: false,
    readOnly: true,
    rsv1: false,
  });
  return { payload, frame: parts.length === 1 ? parts[0]! : Buffer.concat(parts) };
}

/**
 * Writes `message` to an open socket: the prebuilt frame through the socket's sender, or
 * `ws.send()` when the shortcut does not apply. The caller checks `readyState` first.
 */
export function writeSharedFrame(ws: WebSocket, message: SharedFrame): void {
  const sender = (ws as unknown as { _sender?: SenderInternals | null })._sender;
  if (
    message.frame !== null &&
    typeof sender?.sendFrame === 'function' &&
    (sender._state ?? 0) === 0 &&
    ws.extensions === ''
  ) {
    sender.sendFrame([message.frame]);
    return;
  }
  ws.send(message.payload, { binary: false });
}
