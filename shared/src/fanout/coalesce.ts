import { ReactometerError } from '../errors.js';
import type { Clock, CountsReader, FanOutGate } from '../ports.js';
import { updateMessage } from '../protocol/index.js';
import { LatestCounts } from '../realtime/latest-counts.js';

/**
 * A fan-out gate's lease is no longer the caller's (it expired and another invocation took it): a
 * compare-and-set lost to a concurrent writer, so the caller stops flushing and leaves the latest
 * state to the new holder.
 */
export class LeaseLostError extends ReactometerError {
  constructor(holder: string, options?: { cause?: unknown }) {
    super('store_conflict', `fan-out lease of ${holder} was lost to another holder`, options);
  }
}

/** What one flush reports back to the gate loop. */
export interface FlushOutcome {
  /** Connections the flush tried to reach (sizes the next flush's workers). */
  readonly connections: number;
}

/** One flush, for logs and metrics. */
export interface FlushRecord {
  readonly startedAt: number;
  readonly endedAt: number;
  /** Emoji carried by the update. */
  readonly emoji: number;
  readonly connections: number;
}

export interface CoalesceOptions {
  readonly gate: FanOutGate;
  readonly counts: CountsReader;
  readonly clock: Clock;
  /** Unique per invocation: who holds the lease. */
  readonly holder: string;
  /** Quiet time between the end of one flush and the start of the next (FANOUT_WINDOW_MS). */
  readonly windowMs: number;
  /** How long a lease lives without renewal; a crashed holder blocks the gate this long at most. */
  readonly leaseMs: number;
  /**
   * Sends one `update` frame to every dashboard and resolves once every post is answered.
   * `previousConnections` is what the last flush reached (null before the first), for sizing.
   */
  readonly flush: (frame: string, previousConnections: number | null) => Promise<FlushOutcome>;
  /** Checked after each flush: false once this invocation should stop holding (time left). */
  readonly mayContinue?: () => boolean;
  /** Called when this invocation stops holding while changes still wait: start another holder. */
  readonly handOff?: () => Promise<void>;
  readonly onFlush?: (record: FlushRecord) => void;
  /** Injectable for tests; defaults to setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface CoalesceReport {
  /** False: another invocation holds the gate and will send these changes with its next flush. */
  readonly held: boolean;
  readonly flushes: number;
  /** Stopped holding with changes pending and asked `handOff` to carry on. */
  readonly handedOff: boolean;
  /** Stopped because the lease expired under it (another holder carries on). */
  readonly leaseLost: boolean;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Coalesced fan-out with stateless workers (Lambda), through a gate with a dirty set and a lease.
 *
 * Every count change marks its emoji dirty and tries to take the lease. Whoever holds it flushes:
 * takes the dirty set, reads those emoji's current counts, sends one `update` with them, and
 * records on the gate that no flush may start before the END of this one plus `windowMs`, so a
 * dashboard never gets two updates closer than the window. A change that finds the gate free and
 * its window passed goes out at once (leading edge); changes during a flush or its window are
 * merged into the one flush that follows (trailing edge), which happens even if traffic stops,
 * because the holder only lets go after looking at the set once more, and whoever finds it dirty
 * takes the gate and sleeps out the window. Reading the counts after taking the set, from the
 * store that committed them before they were published, means a flush carries the latest state;
 * flushes of one gate never overlap, so versions never go backwards on a dashboard.
 *
 * The race every such lease has: a writer marks dirty just after the holder found the set empty,
 * fails to acquire (still held), and leaves. So the holder releases first and then looks again;
 * whatever it finds, it or that writer holds the gate next.
 */
export async function coalesce(
  changed: readonly string[],
  options: CoalesceOptions,
): Promise<CoalesceReport> {
  const { gate, clock, holder, leaseMs } = options;
  const sleep = options.sleep ?? defaultSleep;
  if (changed.length > 0) await gate.markDirty(changed);
  let lease = await gate.tryAcquire(holder, clock.now(), leaseMs);
  if (lease === null) return { held: false, flushes: 0, handedOff: false, leaseLost: false };

  let nextFlushAt = lease.nextFlushAt;
  let connections = lease.connections;
  let flushes = 0;
  const report = (extra: Partial<CoalesceReport> = {}): CoalesceReport => ({
    held: true,
    flushes,
    handedOff: false,
    leaseLost: false,
    ...extra,
  });

  const renewEvery = Math.max(1, Math.floor(leaseMs / 3));
  /** Sleeps until `at`, renewing the lease so that a long window does not let it expire. */
  const holdUntil = async (at: number): Promise<void> => {
    for (let wait = at - clock.now(); wait > 0; wait = at - clock.now()) {
      await sleep(Math.min(wait, renewEvery));
      if (at - clock.now() > 0) await gate.renew(holder, clock.now(), leaseMs);
    }
  };

  /**
   * Lets the gate go, then looks again (see above). True when this invocation holds it once
   * more and should carry on; 'handOff' when changes wait but this invocation must stop.
   */
  const releaseAndRecheck = async (): Promise<boolean | 'handOff'> => {
    await gate.release(holder, { nextFlushAt, connections });
    if (!(await gate.isDirty())) return false;
    if (options.mayContinue && !options.mayContinue()) return 'handOff';
    lease = await gate.tryAcquire(holder, clock.now(), leaseMs);
    if (lease === null) return false;
    nextFlushAt = lease.nextFlushAt;
    connections = lease.connections ?? connections;
    return true;
  };

  for (;;) {
    let taken: string[] = [];
    try {
      await holdUntil(nextFlushAt);
      taken = await gate.takeDirty(holder, clock.now(), leaseMs);
      const latest = new LatestCounts();
      if (taken.length > 0) latest.add(await options.counts.getCounts(taken));
      const reactions = latest.take();
      if (reactions.length > 0) {
        const startedAt = clock.now();
        const outcome = await withHeartbeat(options, renewEvery, () =>
          options.flush(JSON.stringify(updateMessage(reactions)), connections),
        );
        connections = outcome.connections;
        flushes++;
        const endedAt = clock.now();
        options.onFlush?.({ startedAt, endedAt, emoji: reactions.length, connections });
        nextFlushAt = endedAt + options.windowMs;
      }
      taken = [];
    } catch (err) {
      if (taken.length > 0) {
        // Taken but maybe not delivered: put them back, so that the next holder sends them.
        await gate.markDirty(taken).catch(() => undefined);
      }
      if (err instanceof LeaseLostError) return report({ leaseLost: true });
      // Let go at once rather than block every change for a whole lease; the invocation's retry
      // (or the next change) takes over.
      await gate.release(holder, { nextFlushAt, connections }).catch(() => undefined);
      throw err;
    }
    // Nobody waits out a window unless something is pending: let go, and take the gate back
    // only if a change arrived meanwhile (then sleep until the window has passed).
    const again = await releaseAndRecheck();
    if (again === 'handOff') {
      await options.handOff?.();
      return report({ handedOff: options.handOff !== undefined });
    }
    if (!again) return report();
  }
}

/**
 * Runs one flush while renewing the lease in the background; a renewal that finds the lease lost
 * fails the flush once it has finished (posts already in flight cannot be called back).
 */
async function withHeartbeat<T>(
  options: CoalesceOptions,
  everyMs: number,
  work: () => Promise<T>,
): Promise<T> {
  let lost: unknown;
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    renewing = renewing
      .then(() => options.gate.renew(options.holder, options.clock.now(), options.leaseMs))
      .catch((err: unknown) => {
        lost ??= err;
      });
  }, everyMs);
  try {
    const result = await work();
    await renewing;
    if (lost !== undefined) throw lost;
    return result;
  } finally {
    clearInterval(timer);
  }
}
