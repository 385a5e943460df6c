/**
 * A realistic stream of Slack reaction events: a few emoji dominate (Zipf), most events are adds,
 * removes only take back reactions that exist, several users, channels and messages (recent
 * messages get most reactions), skin-tone variants, and occasional Slack retries of an event_id.
 * Pure and deterministic for a seed; `traffic-sender.ts` signs and delivers it.
 */
import { baseEmoji } from '@reactometer/shared';
import { reactionEventPayload } from '@reactometer/shared/testing';
import { readFileSync } from 'node:fs';
import { seededRandom, zipfSampler, type Random } from './random.js';

const TRAFFIC = (
  JSON.parse(readFileSync(new URL('../scenarios/scenarios.json', import.meta.url), 'utf8')) as {
    traffic: { emojiByPopularity: [string, boolean][]; zipfExponent: number };
  }
).traffic;

/**
 * Popular Slack reactions, most popular first; `true` where Slack offers skin tones. Defined once
 * in scenarios.json (`traffic`), which the k6 scripts read too.
 */
export const EMOJI_BY_POPULARITY: readonly (readonly [string, boolean])[] =
  TRAFFIC.emojiByPopularity;

export interface TrafficOptions {
  readonly seed: number;
  readonly team?: string;
  readonly users?: number;
  readonly channels?: number;
  /** Share of events that are removals of an existing reaction (Slack workspaces: ~10-15%). */
  readonly removeRatio?: number;
  /** Share of deliveries that Slack repeats with the same event_id (timeouts, 5xx). */
  readonly retryRatio?: number;
  /** Share of skin-tone-capable reactions sent with a tone. */
  readonly skinToneRatio?: number;
  /** Zipf exponent of emoji popularity. */
  readonly skew?: number;
  /** First event_ts, in epoch seconds (defaults to now). */
  readonly startSeconds?: number;
}

export interface TrafficEvent {
  readonly eventId: string;
  /** 0 for the first delivery, 1.. for Slack's retries of the same event. */
  readonly retryNum: number;
  readonly body: Record<string, unknown>;
  readonly type: 'reaction_added' | 'reaction_removed';
  readonly reaction: string;
}

interface Held {
  readonly key: string;
  readonly user: string;
  readonly reaction: string;
  readonly channel: string;
  readonly ts: string;
}

/** An endless, deterministic event stream; `expectedCounts()` is the truth it implies. */
export class SlackTraffic {
  private readonly random: Random;
  private readonly pickEmoji: () => number;
  private readonly held = new Map<string, Held>();
  private readonly heldList: Held[] = [];
  private readonly messages: { channel: string; ts: string }[] = [];
  private seq = 0;
  private micros = 0;
  private seconds: number;
  private pendingRetry: TrafficEvent | null = null;
  private readonly opts: Required<TrafficOptions>;

  constructor(options: TrafficOptions) {
    this.opts = {
      team: 'T0TRAFFIC',
      users: 40,
      channels: 6,
      removeRatio: 0.12,
      retryRatio: 0.02,
      skinToneRatio: 0.3,
      skew: TRAFFIC.zipfExponent,
      startSeconds: Math.floor(Date.now() / 1000),
      ...options,
    };
    this.random = seededRandom(this.opts.seed);
    this.pickEmoji = zipfSampler(EMOJI_BY_POPULARITY.length, this.opts.skew, this.random);
    this.seconds = this.opts.startSeconds;
  }

  private int(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** Every event gets a later event_ts than the one before, as Slack's do. */
  private nextTs(): string {
    this.micros += 1 + this.int(50_000);
    if (this.micros >= 1_000_000) {
      this.seconds += Math.floor(this.micros / 1_000_000);
      this.micros %= 1_000_000;
    }
    return `${this.seconds}.${String(this.micros).padStart(6, '0')}`;
  }

  /** Recent messages get most reactions; now and then a new message appears. */
  private pickMessage(): { channel: string; ts: string } {
    if (this.messages.length === 0 || this.random() < 0.05) {
      const m = { channel: `C0CHAN${this.int(this.opts.channels)}`, ts: this.nextTs() };
      this.messages.push(m);
      if (this.messages.length > 200) this.messages.shift();
      return m;
    }
    const back = Math.min(this.messages.length - 1, Math.floor(-Math.log(1 - this.random()) * 8));
    return this.messages[this.messages.length - 1 - back] as { channel: string; ts: string };
  }

  private event(type: TrafficEvent['type'], h: Omit<Held, 'key'>): TrafficEvent {
    this.seq++;
    const eventId = `Ev${this.opts.seed.toString(36)}T${this.seq.toString(36).toUpperCase()}`;
    const body = reactionEventPayload({
      team: this.opts.team,
      eventId,
      type,
      user: h.user,
      reaction: h.reaction,
      eventTs: this.nextTs(),
      item: { type: 'message', channel: h.channel, ts: h.ts },
    });
    return { eventId, retryNum: 0, body, type, reaction: h.reaction };
  }

  /** The next delivery: a new event, or a Slack retry of the previous one. */
  next(): TrafficEvent {
    if (this.pendingRetry) {
      const retry = this.pendingRetry;
      this.pendingRetry = null;
      return retry;
    }
    const ev = this.newEvent();
    if (this.random() < this.opts.retryRatio) this.pendingRetry = { ...ev, retryNum: 1 };
    return ev;
  }

  private newEvent(): TrafficEvent {
    if (this.heldList.length > 0 && this.random() < this.opts.removeRatio) {
      const i = this.int(this.heldList.length);
      const h = this.heldList[i] as Held;
      this.heldList[i] = this.heldList[this.heldList.length - 1] as Held;
      this.heldList.pop();
      this.held.delete(h.key);
      return this.event('reaction_removed', h);
    }
    for (;;) {
      const [name, tones] = EMOJI_BY_POPULARITY[this.pickEmoji()] as readonly [string, boolean];
      const reaction =
        tones && this.random() < this.opts.skinToneRatio
          ? `${name}::skin-tone-${2 + this.int(5)}`
          : name;
      const user = `U0USER${this.int(this.opts.users)}`;
      const { channel, ts } = this.pickMessage();
      const key = `${user}|${channel}|${ts}|${reaction}`;
      if (this.held.has(key)) continue; // Slack sends no add for a reaction the user already has
      const h: Held = { key, user, reaction, channel, ts };
      this.held.set(key, h);
      this.heldList.push(h);
      return this.event('reaction_added', h);
    }
  }

  /** The counts per base emoji that a correct deployment holds after every event so far. */
  expectedCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const h of this.heldList)
      counts.set(baseEmoji(h.reaction), (counts.get(baseEmoji(h.reaction)) ?? 0) + 1);
    return counts;
  }
}
