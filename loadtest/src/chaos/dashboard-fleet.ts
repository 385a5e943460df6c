/**
 * Dashboards as the web app keeps them: a WebSocket that asks for a snapshot on connect, applies
 * updates newer than what it holds (by version), and reconnects by itself when the socket drops.
 * The chaos run drops some of them on purpose, and the server drops all of them when it restarts.
 */
import WebSocket from 'ws';

interface Held {
  readonly count: number;
  readonly version: number;
}

interface CountMessage {
  readonly emoji: string;
  readonly count: number;
  readonly version: number;
}

class Dashboard {
  readonly counts = new Map<string, Held>();
  socket: WebSocket | null = null;
  connects = 0;
  private stopped = false;

  constructor(private readonly url: () => string) {}

  connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.url());
    this.socket = ws;
    ws.on('open', () => {
      this.connects++;
      ws.send(JSON.stringify({ action: 'getReactions' }));
    });
    ws.on('message', (data: Buffer) => this.receive(data.toString('utf8')));
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (this.socket === ws) this.socket = null;
      // Like the web dashboard: back off a little, then reconnect and resynchronise.
      if (!this.stopped) setTimeout(() => this.connect(), 200 + Math.random() * 800);
    });
  }

  /** Cuts the socket without a close handshake (a network drop). */
  drop(): void {
    this.socket?.terminate();
  }

  stop(): void {
    this.stopped = true;
    this.socket?.terminate();
  }

  /** The counts shown, zeros left out. */
  shown(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [emoji, h] of this.counts) if (h.count > 0) out.set(emoji, h.count);
    return out;
  }

  private receive(text: string): void {
    let msg: { type?: string; reactions?: CountMessage[] };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    if (msg.type === 'snapshot' && Array.isArray(msg.reactions)) {
      // A snapshot leaves out zero counts: what it does not list is 0, unless an update newer
      // than the snapshot's data already arrived.
      const listed = new Map(msg.reactions.map((r) => [r.emoji, r]));
      for (const [emoji, held] of this.counts) {
        if (!listed.has(emoji)) this.counts.set(emoji, { count: 0, version: held.version });
      }
      for (const r of msg.reactions) this.apply(r);
    } else if (msg.type === 'update' && Array.isArray(msg.reactions)) {
      for (const r of msg.reactions) this.apply(r);
    }
  }

  private apply(r: CountMessage): void {
    const held = this.counts.get(r.emoji);
    if (held !== undefined && held.version > r.version) return;
    this.counts.set(r.emoji, { count: r.count, version: r.version });
  }
}

export class DashboardFleet {
  private readonly dashboards: Dashboard[];

  constructor(size: number, url: () => string) {
    this.dashboards = Array.from({ length: size }, () => new Dashboard(url));
  }

  start(): void {
    for (const d of this.dashboards) d.connect();
  }

  get size(): number {
    return this.dashboards.length;
  }

  /** Drops one dashboard's socket at random; it reconnects by itself. */
  dropOne(random: () => number): void {
    this.dashboards[Math.floor(random() * this.dashboards.length)]?.drop();
  }

  /** Each dashboard's shown counts. */
  shown(): Map<string, number>[] {
    return this.dashboards.map((d) => d.shown());
  }

  /** Connections opened in all (first connects and reconnects). */
  get connects(): number {
    return this.dashboards.reduce((n, d) => n + d.connects, 0);
  }

  stop(): void {
    for (const d of this.dashboards) d.stop();
  }
}
