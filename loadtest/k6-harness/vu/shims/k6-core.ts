/**
 * `k6`: sleep, check, group, fail, randomSeed, after internal/js/modules/k6/k6.go (v2.2.0).
 * sleep() blocks the VU's thread (k6's blocks the VU goroutine: no callback of that VU runs
 * meanwhile, other VUs go on); check() records one `checks` sample per condition; group() refuses
 * async callbacks as k6 does.
 */
import type { VuHost } from '../vu-host.js';

export function k6Module(host: VuHost): Record<string, unknown> {
  const inVu = (what: string): void => {
    if (host.state() === null)
      throw host.error(`using ${what} in the init context is not supported`);
  };
  const sleep = (secs: unknown): void => {
    const s = Number(secs);
    if (!(s > 0)) return;
    host.block(s * 1000);
  };
  const check = (value: unknown, checks: unknown, tags?: Record<string, string>): boolean => {
    inVu('check');
    if (checks === null || typeof checks !== 'object')
      throw host.error('no checks provided to `check`');
    let ok = true;
    for (const [name, cond] of Object.entries(checks as Record<string, unknown>)) {
      const passed =
        typeof cond === 'function'
          ? Boolean((cond as (v: unknown) => unknown)(value))
          : Boolean(cond);
      host.emit('checks', passed ? 1 : 0, { ...(tags ?? {}), check: name });
      if (!passed) ok = false;
    }
    return ok;
  };
  const group = (name: string, fn: unknown): unknown => {
    inVu('group');
    if (typeof fn !== 'function')
      throw host.error('group() requires a callback as a second argument');
    if (fn.constructor?.name === 'AsyncFunction') {
      throw host.error('group() does not support async functions as arguments');
    }
    const started = performance.now();
    try {
      return (fn as () => unknown)();
    } finally {
      host.emit('group_duration', performance.now() - started, { group: `::${name}` });
    }
  };
  const fail = (message: unknown): never => {
    throw host.error(String(message));
  };
  const randomSeed = (): void => {
    // Sobek reseeds Math.random; scripts here do not depend on the sequence.
  };
  const api = { sleep, check, group, fail, randomSeed };
  return { __esModule: true, default: api, ...api };
}
