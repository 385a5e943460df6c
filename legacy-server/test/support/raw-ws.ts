/**
 * A WebSocket peer made from a bare TCP socket: it completes the opening handshake and then does
 * only what a test tells it to. Unlike a `ws` client it never answers pings and can stop reading,
 * which is how dead and slow peers look from the server.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export interface RawPeer {
  readonly socket: net.Socket;
  /** Resolves when the server (or the network) has closed the connection. */
  readonly closed: Promise<void>;
}

export async function rawWebSocketPeer(
  port: number,
  path = '/ws',
  timeoutMs = 5_000,
): Promise<RawPeer> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  const key = randomBytes(16).toString('base64');
  await new Promise<void>((resolve, reject) => {
    let head = '';
    const timer = setTimeout(
      () => reject(new Error(`no handshake answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      // Stop consuming until the test decides; anything past the head stays in the stream.
      socket.pause();
      const status = head.slice(0, head.indexOf('\r\n'));
      if (!status.startsWith('HTTP/1.1 101')) reject(new Error(`upgrade refused: ${status}`));
      else resolve();
    };
    socket.on('data', onData);
    socket.once('connect', () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
  });
  return { socket, closed };
}
