// The frame-once broadcast on real sockets: every client gets the update intact, written through
// the prebuilt frame (not `ws.send`, which would encode and frame per client), and a reply after
// it still arrives in order.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import { WsTestClient } from '@reactometer/shared/contract-tests';
import { assertServersAllowed } from '@reactometer/devkit';
import { WsBroadcaster } from '../src/ws-broadcaster.js';
import { sharedTextFrame } from '../src/ws/shared-frame.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function serverWithBroadcaster(): Promise<{
  url: string;
  broadcaster: WsBroadcaster;
  sockets: WebSocket[];
  sends: () => number;
}> {
  assertServersAllowed('a ws server');
  const broadcaster = new WsBroadcaster({
    maxBufferedBytes: 1024 * 1024,
    heartbeatMs: 60_000,
    logger: pino({ level: 'silent' }),
  });
  const server = http.createServer();
  const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false });
  let sends = 0;
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws: WebSocket) => {
    sockets.push(ws);
    const original = ws.send.bind(ws);
    ws.send = ((...args: Parameters<WebSocket['send']>) => {
      sends++;
      return original(...args);
    }) as WebSocket['send'];
    broadcaster.add(ws);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    await broadcaster.closeAll(1001, 'bye', 1000);
    wss.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}/ws`, broadcaster, sockets, sends: () => sends };
}

describe('shared frame', () => {
  it('builds one complete text frame: header and UTF-8 payload', () => {
    const text = JSON.stringify({
      type: 'update',
      reactions: [{ emoji: 'tada', count: 1, version: 1 }],
    });
    const { payload, frame } = sharedTextFrame(text);
    expect(frame).not.toBeNull();
    expect(frame![0]).toBe(0x81); // FIN + text opcode
    expect(frame![1]).toBe(payload.length); // under 126 bytes: length in the second byte, no mask
    expect(frame!.subarray(2).toString('utf8')).toBe(text);
  });

  it('writes the same frame to every client without ws.send, and replies keep their order', async () => {
    const { url, broadcaster, sockets, sends } = await serverWithBroadcaster();
    const clients = await Promise.all([1, 2, 3].map(() => WsTestClient.connect(url)));
    cleanups.push(async () => {
      for (const c of clients) c.socket.terminate();
    });
    await within(() => broadcaster.size === 3);
    // Long enough for a 16-bit length header, with non-ASCII to prove the bytes are UTF-8.
    const emoji = `ünïcode-${'x'.repeat(200)}`;
    await broadcaster.publish([{ emoji, count: 7, version: 3 }]);
    for (const ws of sockets) broadcaster.send(ws, JSON.stringify({ type: 'pong' }));
    for (const c of clients) {
      await c.waitUntil(() => c.messages.length === 2, { description: 'the update, then pong' });
      expect(c.messages).toEqual([
        { type: 'update', reactions: [{ emoji, count: 7, version: 3 }] },
        { type: 'pong' },
      ]);
      expect(c.invalid).toEqual([]);
    }
    expect(sends()).toBe(0);
  });
});

async function within(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}
