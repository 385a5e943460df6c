/**
 * `k6/timers` and the global timers, after internal/js/modules/k6/timers/timers.go (v2.2.0):
 * every pending timeout or interval is a registered callback of the VU's event loop, so the
 * iteration does not end while one is pending; a callback that throws ends the iteration.
 */
import type { VuHost } from '../vu-host.js';

export interface Timers {
  setTimeout(fn: unknown, delay?: unknown, ...args: unknown[]): number;
  clearTimeout(id: unknown): void;
  setInterval(fn: unknown, delay?: unknown, ...args: unknown[]): number;
  clearInterval(id: unknown): void;
  /** Drops every pending timer (the iteration's context is done). */
  stopAll(): void;
}

export function createTimers(host: VuHost): Timers {
  let nextId = 1;
  const pending = new Map<
    number,
    { handle: NodeJS.Timeout; release: () => void; interval: boolean }
  >();
  const toMs = (delay: unknown): number => {
    const d = Number(delay);
    return Number.isFinite(d) && d > 0 ? d : 0;
  };
  const start = (fn: unknown, delay: unknown, args: unknown[], interval: boolean): number => {
    if (typeof fn !== 'function') throw host.error('setTimeout/setInterval needs a function');
    const id = nextId++;
    const release = host.loop.register();
    const call = (): void => host.loop.run(() => (fn as (...a: unknown[]) => void)(...args));
    const handle = interval
      ? setInterval(call, toMs(delay))
      : setTimeout(() => {
          pending.delete(id);
          call();
          release();
        }, toMs(delay));
    pending.set(id, { handle, release, interval });
    return id;
  };
  const clear = (id: unknown): void => {
    const t = pending.get(Number(id));
    if (t === undefined) return;
    pending.delete(Number(id));
    if (t.interval) clearInterval(t.handle);
    else clearTimeout(t.handle);
    t.release();
  };
  return {
    setTimeout: (fn, delay, ...args) => start(fn, delay, args, false),
    clearTimeout: clear,
    setInterval: (fn, delay, ...args) => start(fn, delay, args, true),
    clearInterval: clear,
    stopAll: () => {
      for (const id of [...pending.keys()]) clear(id);
    },
  };
}

export function timersModule(timers: Timers): Record<string, unknown> {
  const api = {
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
    setInterval: timers.setInterval,
    clearInterval: timers.clearInterval,
  };
  return { __esModule: true, default: api, ...api };
}
