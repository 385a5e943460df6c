/**
 * The `CountBus` on Redis pub/sub (ioredis): one connection publishes, one subscribes. ioredis
 * reconnects both by itself (and subscribes again); this adapter only turns its connection
 * events into one log line per loss and per return, and a `onReconnected` call on return.
 */
import { Redis } from 'ioredis';
import { z } from 'zod';
import type { EmojiCount } from '@reactometer/shared';
import { emojiCountSchema } from '@reactometer/shared/protocol';
import type { CountBus, CountBusHandlers } from '../count-bus.js';

export interface RedisCountBusLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface RedisCountBusOptions {
  readonly url: string;
  /** The channel every process of one deployment shares. */
  readonly channel: string;
  readonly logger: RedisCountBusLogger;
}

const messageSchema = z.object({ counts: z.array(emojiCountSchema).min(1) });

/** Longest wait between reconnection attempts: a returning Redis is noticed within this. */
const MAX_RECONNECT_DELAY_MS = 1_000;

/** How long start-up waits for the first SUBSCRIBE before it goes on without Redis. */
const SUBSCRIBE_WAIT_MS = 2_000;

function connectionOptions() {
  return {
    // A publish while Redis is down fails at once instead of queueing: the change is durable in
    // MongoDB already, and a queued one would be replayed late, after the fresh snapshot.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times: number) => Math.min(50 * times, MAX_RECONNECT_DELAY_MS),
  };
}

export class RedisCountBus implements CountBus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private lostSince: number | null = null;

  constructor(private readonly options: RedisCountBusOptions) {
    this.publisher = new Redis(options.url, connectionOptions());
    // The subscriber may queue: its SUBSCRIBE must go out as soon as Redis answers, however late.
    this.subscriber = new Redis(options.url, {
      ...connectionOptions(),
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      lazyConnect: true,
    });
    // Without a listener ioredis prints every failed reconnection attempt; the loss is logged once.
    this.publisher.on('error', () => undefined);
    this.subscriber.on('error', (err: Error) => this.lost(err));
    this.subscriber.on('close', () => this.lost());
  }

  async subscribe(handlers: CountBusHandlers): Promise<void> {
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel !== this.options.channel) return;
      const counts = this.parse(text);
      if (counts !== null) handlers.onCounts(counts);
    });
    // ioredis subscribes again before it emits 'ready' after a reconnection, so nothing published
    // after the re-read below can be missed.
    // A Redis that was down at start counts as lost too: changes made meanwhile were missed.
    this.subscriber.on('ready', () => {
      if (this.lostSince === null) return;
      this.options.logger.info(
        { lostForMs: Date.now() - this.lostSince, channel: this.options.channel },
        'redis: connected again; resynchronising dashboards',
      );
      this.lostSince = null;
      handlers.onReconnected();
    });
    const subscribed = this.subscriber.subscribe(this.options.channel).then(
      () => undefined,
      (err: unknown) => this.lost(err),
    );
    // Not held up by a Redis that is down: the droplet starts, and the SUBSCRIBE waits in
    // ioredis's queue until Redis answers.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      subscribed,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  async publish(counts: readonly EmojiCount[]): Promise<void> {
    await this.publisher.publish(this.options.channel, JSON.stringify({ counts }));
  }

  async close(): Promise<void> {
    this.subscriber.removeAllListeners('close');
    await Promise.all(
      [this.publisher, this.subscriber].map((c) =>
        c.status === 'end' ? undefined : c.quit().catch(() => c.disconnect()),
      ),
    );
  }

  private lost(err?: unknown): void {
    if (this.lostSince !== null) return;
    this.lostSince = Date.now();
    // A process without Redis still counts Slack's events and serves its own dashboards; only
    // the other processes' changes wait (for the return, or the periodic re-read of the counts).
    this.options.logger.warn(
      { err, channel: this.options.channel },
      'redis: connection lost; broadcasting to this process only until it returns',
    );
  }

  private parse(text: string): EmojiCount[] | null {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const result = messageSchema.safeParse(parsed);
    if (result.success) return result.data.counts;
    this.options.logger.warn({ length: text.length }, 'redis: ignoring a malformed counts message');
    return null;
  }
}
