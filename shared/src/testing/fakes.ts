import { ConfigError } from '../config/env-schema.js';
import type {
  Clock,
  ConnectionRecord,
  ConnectionRegistry,
  EmojiCount,
  Publisher,
  ScanSegment,
} from '../ports.js';
import type { AppendOutcome, EventInbox } from '../inbox/event-inbox.js';
import type { ReactionEvent } from '../slack/events.js';

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  constructor(private ms: number = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Records every publish; can be told to fail. */
export class RecordingPublisher implements Publisher {
  readonly published: EmojiCount[][] = [];
  failing = false;

  async publish(counts: readonly EmojiCount[]): Promise<void> {
    if (this.failing) throw new Error('publisher is failing');
    this.published.push([...counts]);
  }

  /** The latest published count per emoji, as a dashboard applying versions would hold it. */
  latest(): Map<string, EmojiCount> {
    const out = new Map<string, EmojiCount>();
    for (const batch of this.published) {
      for (const c of batch) {
        const seen = out.get(c.emoji);
        if (seen === undefined || c.version > seen.version) out.set(c.emoji, c);
      }
    }
    return out;
  }
}

/** A stable hash of a string (FNV-1a, 32 bits): which segment an id falls in. */
export function segmentOf(id: string, total: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % total;
}

/** Connections in memory; `pages` yields pages of `pageSize`, of one segment when asked. */
export class InMemoryConnectionRegistry implements ConnectionRegistry {
  readonly records = new Map<string, ConnectionRecord>();
  constructor(private readonly pageSize = 100) {}
  async add(record: ConnectionRecord): Promise<void> {
    this.records.set(record.id, record);
  }
  async remove(id: string): Promise<void> {
    this.records.delete(id);
  }
  async *pages(
    nowSeconds: number,
    segment?: ScanSegment,
  ): AsyncIterable<readonly ConnectionRecord[]> {
    const live = [...this.records.values()].filter(
      (r) =>
        r.expiresAt > nowSeconds &&
        (segment === undefined || segmentOf(r.id, segment.total) === segment.index),
    );
    for (let i = 0; i < live.length; i += this.pageSize) yield live.slice(i, i + this.pageSize);
  }
}

/** The `NAME: problem` lines a config loader throws; fails if it throws nothing or anything else. */
export function configProblems(load: () => unknown): readonly string[] {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

/**
 * An `EventInbox` in memory: appends in order, a repeated `event_id` is a duplicate, and
 * `refuseWith` makes every append throw (an overloaded or broken inbox).
 */
export class InMemoryInbox implements EventInbox {
  readonly events: ReactionEvent[] = [];
  refuseWith: Error | null = null;

  append(event: ReactionEvent): Promise<AppendOutcome> {
    if (this.refuseWith !== null) return Promise.reject(this.refuseWith);
    if (this.events.some((e) => e.eventId === event.eventId)) return Promise.resolve('duplicate');
    this.events.push(event);
    return Promise.resolve('appended');
  }
}
