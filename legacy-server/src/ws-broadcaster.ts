import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import type { Logger } from 'pino';
import {
  snapshotMessage,
  updateMessage,
  type EmojiCount,
  type Publisher,
} from '@reactometer/shared';
import type { DropletMetrics } from './metrics.js';
import { sharedTextFrame, writeSharedFrame, type SharedFrame } from './ws/shared-frame.js';
import { nodeSchedule, UpdateCoalescer, type Schedule } from './ws/update-coalescer.js';

export interface WsBroadcasterOptions {
  /** Unsent bytes a client may have queued; past this it is dropped (see `send`). */
  readonly maxBufferedBytes: number;
  /** Interval of protocol pings; a client that has not ponged by the next round is dropped. */
  readonly heartbeatMs: number;
  /** At most one update per this many ms per dashboard (0: every change at once). */
  readonly windowMs?: number;
  readonly logger: Logger;
  readonly metrics?: DropletMetrics;
  /** Timer for the coalescing window (tests inject their own). */
  readonly schedule?: Schedule;
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
 * over them. Changes go through the coalescer (at most one update per `windowMs`), and each update
 * is serialised, encoded and framed once, the same bytes written to every socket
 * (`ws/shared-frame.ts`). Delivery is best effort by design (a dashboard recovers with a snapshot
 * after it reconnects), which is what lets a slow or dead client be dropped instead of slowing
 * everyone.
 */
export class WsBroadcaster implements Publisher {
  private readonly clients = new Set<WebSocket>();
  /** Clients that answered the last ping; the rest are dropped on the next round. */
  private readonly alive = new WeakSet<WebSocket>();
  private heartbeat: NodeJS.Timeout | undefined;
  private droppedSlow = 0;
  private droppedUnresponsive = 0;
  private readonly coalescer: UpdateCoalescer;

  constructor(private readonly options: WsBroadcasterOptions) {
    this.coalescer = new UpdateCoalescer({
      windowMs: options.windowMs ?? 0,
      now: () => performance.now(),
      schedule: options.schedule ?? nodeSchedule,
      flush: (counts) => this.broadcast(counts),
    });
  }

  /** Tracks a connected socket until it closes. */
  add(ws: WebSocket): void {
    this.clients.add(ws);
    this.alive.add(ws);
    this.options.metrics?.connectionOpened();
    ws.on('pong', () => this.alive.add(ws));
    ws.once('close', () => {
      this.clients.delete(ws);
      this.options.metrics?.connectionClosed();
    });
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

  /**
   * Hands the change to the coalescer, which broadcasts it now or at the end of the window.
   * Never throws: delivery is best effort (dashboards resync from a snapshot on reconnect).
   */
  async publish(counts: readonly EmojiCount[]): Promise<void> {
    this.coalescer.add(counts);
  }

  /** Broadcasts whatever the coalescer holds now (before a shutdown closes the sockets). */
  flush(): void {
    this.coalescer.flushNow();
  }

  /** One `update` to every open socket: serialised, encoded and framed once for all of them. */
  private broadcast(counts: readonly EmojiCount[]): void {
    const started = performance.now();
    const message = sharedTextFrame(JSON.stringify(updateMessage(counts)));
    let delivered = 0;
    for (const ws of this.clients) if (this.write(ws, message)) delivered++;
    this.options.metrics?.broadcast(delivered, performance.now() - started);
  }

  /**
   * A `snapshot` to every open socket, framed once: after this process missed other processes'
   * changes (Redis was lost), the dashboards replace what they hold instead of waiting for each
   * emoji's next change. Sent at once, not coalesced: it is the whole truth, not a change.
   */
  broadcastSnapshot(counts: readonly EmojiCount[]): number {
    const message = sharedTextFrame(JSON.stringify(snapshotMessage(counts)));
    let delivered = 0;
    for (const ws of this.clients) if (this.write(ws, message)) delivered++;
    return delivered;
  }

  /** Sends one reply (snapshot, pong, error) to one socket, under the same slow-client cap. */
  send(ws: WebSocket, text: string): boolean {
    return this.write(ws, sharedTextFrame(text));
  }

  /**
   * Writes `message` unless the socket is not open. A client whose unsent data already exceeds
   * the cap is not reading (stalled tab, dead network path the kernel has not noticed yet);
   * queueing more would grow this process's memory without bound, so it is terminated instead,
   * without waiting for anything, and its dashboard resynchronises when it reconnects.
   */
  private write(ws: WebSocket, message: SharedFrame): boolean {
    if (ws.readyState !== WebSocket.OPEN) return false;
    if (ws.bufferedAmount > this.options.maxBufferedBytes) {
      this.droppedSlow++;
      this.options.metrics?.slowConnectionDropped();
      this.options.logger.warn(
        { bufferedAmount: ws.bufferedAmount, maxBufferedBytes: this.options.maxBufferedBytes },
        'dropping slow websocket client',
      );
      ws.terminate();
      return false;
    }
    writeSharedFrame(ws, message);
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
        this.options.metrics?.goneConnection();
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
