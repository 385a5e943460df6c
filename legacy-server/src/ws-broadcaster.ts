import { WebSocket } from 'ws';
import type { Logger } from 'pino';
import { updateMessage, type EmojiCount, type Publisher } from '@reactometer/shared';

export interface WsBroadcasterOptions {
  /** Unsent bytes a client may have queued; past this it is dropped (see `send`). */
  readonly maxBufferedBytes: number;
  /** Interval of protocol pings; a client that has not ponged by the next round is dropped. */
  readonly heartbeatMs: number;
  readonly logger: Logger;
}

export interface BroadcasterStats {
  /** Clients tracked and not yet closed. */
  readonly openClients: number;
  /** Clients dropped because their send buffer passed the cap. */
  readonly droppedSlow: number;
  /** Clients dropped because they missed a heartbeat. */
  readonly droppedUnresponsive: number;
}

/**
 * The droplet's `Publisher`: one process holds every dashboard's socket, so a publish is a loop
 * over them. Delivery is best effort by design (a dashboard recovers with a snapshot after it
 * reconnects), which is what lets a slow or dead client be dropped instead of slowing everyone.
 */
export class WsBroadcaster implements Publisher {
  private readonly clients = new Set<WebSocket>();
  /** Clients that answered the last ping; the rest are dropped on the next round. */
  private readonly alive = new WeakSet<WebSocket>();
  private heartbeat: NodeJS.Timeout | undefined;
  private droppedSlow = 0;
  private droppedUnresponsive = 0;

  constructor(private readonly options: WsBroadcasterOptions) {}

  /** Tracks a connected socket until it closes. */
  add(ws: WebSocket): void {
    this.clients.add(ws);
    this.alive.add(ws);
    ws.on('pong', () => this.alive.add(ws));
    ws.once('close', () => this.clients.delete(ws));
  }

  /** Sockets tracked and not yet closed (the connection cap counts these). */
  get size(): number {
    return this.clients.size;
  }

  stats(): BroadcasterStats {
    return {
      openClients: this.clients.size,
      droppedSlow: this.droppedSlow,
      droppedUnresponsive: this.droppedUnresponsive,
    };
  }

  async publish(counts: readonly EmojiCount[]): Promise<void> {
    // Serialised once: with thousands of dashboards, per-client JSON.stringify would dominate.
    const text = JSON.stringify(updateMessage(counts));
    for (const ws of this.clients) this.send(ws, text);
  }

  /**
   * Sends `text` unless the socket is not open. A client whose unsent data already exceeds the
   * cap is not reading (stalled tab, dead network path the kernel has not noticed yet); queueing
   * more would grow this process's memory without bound, so it is terminated instead, without
   * waiting for anything, and its dashboard resynchronises when it reconnects.
   */
  send(ws: WebSocket, text: string): boolean {
    if (ws.readyState !== WebSocket.OPEN) return false;
    if (ws.bufferedAmount > this.options.maxBufferedBytes) {
      this.droppedSlow++;
      this.options.logger.warn(
        { bufferedAmount: ws.bufferedAmount, maxBufferedBytes: this.options.maxBufferedBytes },
        'dropping slow websocket client',
      );
      ws.terminate();
      return false;
    }
    ws.send(text);
    return true;
  }

  /** Starts the ping rounds (idempotent). */
  startHeartbeat(): void {
    if (this.heartbeat !== undefined) return;
    // Protocol pings, not application ones: browsers answer them without any dashboard code, and
    // a peer that vanished without a FIN (NAT timeout, pulled cable) would otherwise hold its
    // descriptor and a slot under the connection cap forever.
    this.heartbeat = setInterval(() => this.heartbeatRound(), this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private heartbeatRound(): void {
    for (const ws of this.clients) {
      if (!this.alive.has(ws)) {
        this.droppedUnresponsive++;
        this.options.logger.info('dropping websocket client that missed a heartbeat');
        ws.terminate();
        continue;
      }
      this.alive.delete(ws);
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    }
  }

  /**
   * Closes every socket with `code` and waits for the closing handshakes, terminating whatever is
   * still open after `timeoutMs` so that shutdown never waits on a peer that will not answer.
   */
  async closeAll(code: number, reason: string, timeoutMs: number): Promise<void> {
    const sockets = [...this.clients];
    const closed = sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', () => resolve());
        }),
    );
    for (const ws of sockets) {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)
        ws.close(code, reason);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const result = await Promise.race([Promise.all(closed), timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      for (const ws of this.clients) ws.terminate();
      // terminate() destroys the socket at once; 'close' follows within a tick.
      await Promise.all(closed);
    }
  }
}
