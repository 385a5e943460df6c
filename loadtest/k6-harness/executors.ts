/**
 * The executors the scripts use, after lib/executor/*.go (v2.2.0):
 *
 * - per-vu-iterations: `vus` VUs each run `iterations` iterations; no new iteration starts after
 *   `maxDuration` (default 10m); one still running at maxDuration + gracefulStop (default 30s)
 *   is interrupted;
 * - constant-arrival-rate: an iteration starts every timeUnit/rate from the scenario start for
 *   `duration`, on a free VU; with none free the iteration is dropped (dropped_iterations) and,
 *   below `maxVUs`, one more VU is initialised in the background; running iterations get
 *   gracefulStop after `duration`;
 * - ramping-arrival-rate: the same with the rate moving linearly between `stages`, from
 *   `startRate`;
 * - ramping-vus: VUs loop iterations while the VU count follows `stages` from `startVUs`; a VU
 *   no longer wanted finishes its iteration within gracefulRampDown (default 30s).
 *
 * Every executor waits for `startTime`. With an execution segment (k6-operator runners), VU
 * counts and rates are scaled to the segment: a unit lands on exactly one runner.
 */
import { parseDuration } from './duration.js';
import type { InstanceInfo, ScenarioInfo, Tags } from './protocol.js';

export interface ScenarioConfig {
  readonly name: string;
  readonly executor: string;
  readonly exec: string;
  readonly startTimeMs: number;
  readonly gracefulStopMs: number;
  readonly tags: Tags;
  readonly raw: Record<string, unknown>;
}

export class ScenarioConfigError extends Error {
  readonly code = 'invalid_scenario';
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioConfigError';
  }
}

export const EXECUTORS = [
  'per-vu-iterations',
  'constant-arrival-rate',
  'ramping-arrival-rate',
  'ramping-vus',
] as const;

function int(
  raw: Record<string, unknown>,
  key: string,
  scenario: string,
  fallback?: number,
): number {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new ScenarioConfigError(
      `scenario ${scenario}: ${key} must be a non-negative integer (got ${String(v)})`,
    );
  }
  return v;
}

function dur(
  raw: Record<string, unknown>,
  key: string,
  scenario: string,
  fallback: string,
): number {
  return parseDuration(raw[key] ?? fallback, `scenario ${scenario}: ${key}`);
}

/** Parses `options.scenarios` (or the shortcut options) into scenario configs. */
export function parseScenarios(options: Record<string, unknown>): ScenarioConfig[] {
  let scenarios = options['scenarios'] as Record<string, Record<string, unknown>> | undefined;
  if (scenarios === undefined || Object.keys(scenarios).length === 0) {
    // k6's shortcut options: one "default" scenario.
    const vus = (options['vus'] as number | undefined) ?? 1;
    scenarios = {
      default: {
        executor: 'per-vu-iterations',
        vus,
        iterations: (options['iterations'] as number | undefined) ?? 1,
      },
    };
  }
  return Object.entries(scenarios).map(([name, raw]) => {
    const executor = String(raw['executor'] ?? '');
    if (!(EXECUTORS as readonly string[]).includes(executor)) {
      throw new ScenarioConfigError(
        `scenario ${name}: executor "${executor}" is ${executor === '' ? 'missing' : 'not modelled by the harness'} (modelled: ${EXECUTORS.join(', ')})`,
      );
    }
    const tags: Tags = {};
    for (const [k, v] of Object.entries((raw['tags'] as Record<string, unknown> | undefined) ?? {}))
      tags[k] = String(v);
    return {
      name,
      executor,
      exec: String(raw['exec'] ?? 'default'),
      startTimeMs: dur(raw, 'startTime', name, '0s'),
      gracefulStopMs: dur(raw, 'gracefulStop', name, '30s'),
      tags,
      raw,
    };
  });
}

/** The k6 execution segment `from:to` as fractions (e.g. "1/2:1"). */
export interface Segment {
  readonly start: number;
  readonly end: number;
}

export function parseSegment(text: string | undefined): Segment {
  if (text === undefined || text.trim() === '') return { start: 0, end: 1 };
  const frac = (s: string): number => {
    const [n, d] = s.split('/');
    const v = d === undefined ? Number(n) : Number(n) / Number(d);
    if (!Number.isFinite(v) || v < 0 || v > 1)
      throw new ScenarioConfigError(`bad execution segment "${text}"`);
    return v;
  };
  const parts = text.split(':');
  const [a, b] =
    parts.length === 1 ? ['0', parts[0] as string] : [parts[0] as string, parts[1] as string];
  const seg = { start: frac(a), end: frac(b) };
  if (!(seg.end > seg.start)) throw new ScenarioConfigError(`bad execution segment "${text}"`);
  return seg;
}

/** This segment's share of `n` units: each unit lands on exactly one segment. */
export function scale(n: number, seg: Segment): number {
  const eps = 1e-9;
  return Math.floor(n * seg.end + eps) - Math.floor(n * seg.start + eps);
}

/** A VU the engine lends an executor. */
export interface LentVu {
  readonly id: number;
}

export interface ExecutorHost {
  readonly segment: Segment;
  /** A VU from the pool (initialising one if none is idle and `allowNew`). */
  acquire(allowNew: boolean): Promise<LentVu | null>;
  release(vu: LentVu): void;
  /** Runs one iteration; resolves 'interrupted' when it was still running at `hardStopAt`. */
  iterate(
    vu: LentVu,
    scenario: ScenarioInfo,
    fn: string,
    iterationInScenario: number,
    hardStopAt: number,
  ): Promise<'done' | 'interrupted'>;
  emit(metric: string, value: number, tags: Tags): void;
  log(level: string, text: string): void;
  /** True once the test is being stopped (abort, threshold abortOnFail). */
  stopping(): boolean;
  instance(): InstanceInfo;
}

function sleepUntil(at: number, host: ExecutorHost): Promise<void> {
  return new Promise((resolve) => {
    const tick = (): void => {
      const left = at - Date.now();
      if (left <= 0 || host.stopping()) resolve();
      else setTimeout(tick, Math.min(left, 250));
    };
    tick();
  });
}

interface Clock {
  readonly startTime: number;
  readonly iterationCounter: { next(): number };
}

function info(
  sc: ScenarioConfig,
  clock: Clock,
  progress: number,
  iterationInTest: number,
  iterationInInstance: number,
): ScenarioInfo {
  return {
    name: sc.name,
    executor: sc.executor,
    startTime: clock.startTime,
    progress,
    iterationInInstance,
    iterationInTest,
    tags: sc.tags,
  };
}

async function perVuIterations(sc: ScenarioConfig, host: ExecutorHost): Promise<void> {
  const totalVus = int(sc.raw, 'vus', sc.name, 1);
  const iterations = int(sc.raw, 'iterations', sc.name, 1);
  const maxDurationMs = dur(sc.raw, 'maxDuration', sc.name, '10m');
  const vus = scale(totalVus, host.segment);
  const offset = Math.floor(totalVus * host.segment.start + 1e-9) * iterations;
  const startTime = Date.now();
  const regularEnd = startTime + maxDurationMs;
  const hardStop = regularEnd + sc.gracefulStopMs;
  let counter = 0;
  const clock: Clock = { startTime, iterationCounter: { next: () => counter++ } };
  await Promise.all(
    Array.from({ length: vus }, async () => {
      const vu = await host.acquire(true);
      if (vu === null) return;
      try {
        for (let i = 0; i < iterations; i++) {
          if (Date.now() >= regularEnd || host.stopping()) break;
          const n = clock.iterationCounter.next();
          const progress = Math.min(1, (Date.now() - startTime) / maxDurationMs);
          const outcome = await host.iterate(
            vu,
            info(sc, clock, progress, offset + n, n),
            sc.exec,
            i,
            hardStop,
          );
          if (outcome === 'interrupted') return;
        }
      } finally {
        host.release(vu);
      }
    }),
  );
}

/** Iteration start offsets (ms from the scenario start) for a piecewise-linear rate. */
export function arrivalTimes(
  startRate: number,
  stages: readonly { durationMs: number; target: number }[],
  timeUnitMs: number,
): number[] {
  const times: number[] = [];
  let t0 = 0;
  let done = 0; // iterations whose start time is already known
  let before = 0; // cumulative iterations at the start of the stage (fractional)
  let rate = startRate;
  for (const stage of stages) {
    const r0 = rate / timeUnitMs;
    const r1 = stage.target / timeUnitMs;
    const d = stage.durationMs;
    const total = d === 0 ? 0 : ((r0 + r1) / 2) * d;
    // Iteration k starts when the cumulative count reaches k (k = 0, 1, ...).
    while (done < before + total - 1e-9) {
      const need = done - before;
      let t: number;
      if (Math.abs(r1 - r0) < 1e-15) t = r0 === 0 ? d : need / r0;
      else {
        const a = (r1 - r0) / (2 * d);
        t = (-r0 + Math.sqrt(r0 * r0 + 4 * a * need)) / (2 * a);
      }
      times.push(t0 + t);
      done++;
    }
    before += total;
    t0 += d;
    rate = stage.target;
  }
  return times;
}

async function arrivalRate(sc: ScenarioConfig, host: ExecutorHost): Promise<void> {
  const timeUnitMs = dur(sc.raw, 'timeUnit', sc.name, '1s');
  const preAllocated = scale(int(sc.raw, 'preAllocatedVUs', sc.name), host.segment);
  const maxVus = Math.max(
    preAllocated,
    scale(int(sc.raw, 'maxVUs', sc.name, int(sc.raw, 'preAllocatedVUs', sc.name)), host.segment),
  );
  const share = host.segment.end - host.segment.start;
  let times: number[];
  let totalMs: number;
  if (sc.executor === 'constant-arrival-rate') {
    const rate = int(sc.raw, 'rate', sc.name) * share;
    totalMs = dur(sc.raw, 'duration', sc.name, '0s');
    times = arrivalTimes(rate, [{ durationMs: totalMs, target: rate }], timeUnitMs);
  } else {
    const stages = (
      (sc.raw['stages'] as { duration: unknown; target: number }[] | undefined) ?? []
    ).map((s) => ({
      durationMs: parseDuration(s.duration, `scenario ${sc.name}: stage duration`),
      target: Number(s.target) * share,
    }));
    totalMs = stages.reduce((a, s) => a + s.durationMs, 0);
    times = arrivalTimes(Number(sc.raw['startRate'] ?? 0) * share, stages, timeUnitMs);
  }
  const startTime = Date.now();
  const hardStop = startTime + totalMs + sc.gracefulStopMs;
  const idle: LentVu[] = [];
  for (let i = 0; i < preAllocated; i++) {
    const vu = await host.acquire(true);
    if (vu !== null) idle.push(vu);
  }
  let initialised = idle.length;
  let initialising = false;
  let warned = false;
  let counter = 0;
  const perVu = new Map<number, number>();
  const running = new Set<Promise<void>>();
  const clock: Clock = { startTime, iterationCounter: { next: () => counter++ } };
  for (const at of times) {
    await sleepUntil(startTime + at, host);
    if (host.stopping()) break;
    const vu = idle.pop();
    if (vu === undefined) {
      // Only the `scenario` tag, as k6's BaseExecutor.getMetricTags gives it (not the scenario's tags).
      host.emit('dropped_iterations', 1, { scenario: sc.name });
      if (initialised >= maxVus) {
        if (!warned)
          host.log(
            'warn',
            `Insufficient VUs, reached ${maxVus} active VUs and cannot initialize more`,
          );
        warned = true;
      } else if (!initialising) {
        initialising = true;
        initialised++;
        void host.acquire(true).then((extra) => {
          initialising = false;
          if (extra !== null) idle.push(extra);
        });
      }
      continue;
    }
    const n = clock.iterationCounter.next();
    const inScenario = perVu.get(vu.id) ?? 0;
    perVu.set(vu.id, inScenario + 1);
    const p = host
      .iterate(
        vu,
        info(sc, clock, Math.min(1, at / Math.max(1, totalMs)), n, n),
        sc.exec,
        inScenario,
        hardStop,
      )
      .then((outcome) => {
        if (outcome === 'done') idle.push(vu);
      })
      .finally(() => running.delete(p));
    running.add(p);
  }
  await Promise.all([...running]);
  for (const vu of idle) host.release(vu);
}

async function rampingVus(sc: ScenarioConfig, host: ExecutorHost): Promise<void> {
  const startVus = scale(int(sc.raw, 'startVUs', sc.name, 1), host.segment);
  const stages = (
    (sc.raw['stages'] as { duration: unknown; target: number }[] | undefined) ?? []
  ).map((s) => ({
    durationMs: parseDuration(s.duration, `scenario ${sc.name}: stage duration`),
    target: scale(Number(s.target), host.segment),
  }));
  const rampDownMs = dur(sc.raw, 'gracefulRampDown', sc.name, '30s');
  const totalMs = stages.reduce((a, s) => a + s.durationMs, 0);
  const startTime = Date.now();
  const end = startTime + totalMs;
  const hardStop = end + sc.gracefulStopMs;
  const wanted = (t: number): number => {
    let from = startVus;
    let t0 = 0;
    for (const s of stages) {
      if (t < t0 + s.durationMs)
        return Math.round(from + ((s.target - from) * (t - t0)) / Math.max(1, s.durationMs));
      t0 += s.durationMs;
      from = s.target;
    }
    return from;
  };
  let counter = 0;
  const clock: Clock = { startTime, iterationCounter: { next: () => counter++ } };
  const loops = new Map<number, Promise<void>>();
  const runSlot = async (slot: number): Promise<void> => {
    const vu = await host.acquire(true);
    if (vu === null) return;
    let i = 0;
    try {
      while (Date.now() < end && !host.stopping() && slot < wanted(Date.now() - startTime)) {
        const n = clock.iterationCounter.next();
        const stopAt = Math.min(hardStop, Date.now() + rampDownMs + totalMs);
        const outcome = await host.iterate(
          vu,
          info(sc, clock, (Date.now() - startTime) / Math.max(1, totalMs), n, n),
          sc.exec,
          i++,
          stopAt,
        );
        if (outcome === 'interrupted') return;
      }
    } finally {
      host.release(vu);
    }
  };
  while (Date.now() < end && !host.stopping()) {
    const want = wanted(Date.now() - startTime);
    for (let slot = 0; slot < want; slot++) {
      if (!loops.has(slot))
        loops.set(
          slot,
          runSlot(slot).finally(() => loops.delete(slot)),
        );
    }
    await sleepUntil(Math.min(end, Date.now() + 100), host);
  }
  await Promise.all([...loops.values()]);
}

/** Runs one scenario from its startTime (relative to `testStart`) to its end. */
export async function runScenario(
  sc: ScenarioConfig,
  host: ExecutorHost,
  testStart: number,
): Promise<void> {
  await sleepUntil(testStart + sc.startTimeMs, host);
  if (host.stopping()) return;
  switch (sc.executor) {
    case 'per-vu-iterations':
      return perVuIterations(sc, host);
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      return arrivalRate(sc, host);
    case 'ramping-vus':
      return rampingVus(sc, host);
  }
}

/** VUs k6 would initialise before setup for the whole plan (max over overlapping scenarios). */
export function plannedVus(scenarios: readonly ScenarioConfig[], seg: Segment): number {
  const windows = scenarios.map((sc) => {
    const vus =
      sc.executor === 'per-vu-iterations'
        ? Number(sc.raw['vus'] ?? 1)
        : sc.executor === 'ramping-vus'
          ? Math.max(
              Number(sc.raw['startVUs'] ?? 1),
              ...((sc.raw['stages'] as { target: number }[] | undefined) ?? []).map(
                (s) => s.target,
              ),
            )
          : Number(sc.raw['preAllocatedVUs'] ?? 0);
    const length =
      sc.executor === 'per-vu-iterations'
        ? parseDuration(sc.raw['maxDuration'] ?? '10m', 'maxDuration')
        : sc.executor === 'constant-arrival-rate'
          ? parseDuration(sc.raw['duration'] ?? '0s', 'duration')
          : ((sc.raw['stages'] as { duration: unknown }[] | undefined) ?? []).reduce(
              (a, s) => a + parseDuration(s.duration, 'stage'),
              0,
            );
    return {
      from: sc.startTimeMs,
      to: sc.startTimeMs + length + sc.gracefulStopMs,
      vus: scale(vus, seg),
    };
  });
  let max = 0;
  for (const w of windows) {
    const concurrent = windows
      .filter((o) => o.from <= w.from && o.to > w.from)
      .reduce((a, o) => a + o.vus, 0);
    max = Math.max(max, concurrent);
  }
  return max;
}
