/**
 * Waiting inside VUs that hold sockets: k6's sleep() would block the VU's event loop (no socket
 * callbacks, no timers), so these VUs wait on k6/timers promises instead.
 */
import { setTimeout } from 'k6/timers';

/** Resolves after `ms` (immediately when not positive), without blocking the event loop. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0) resolve();
    else setTimeout(resolve, ms);
  });
}

/** Resolves at the wall-clock time `atMs`. */
export function until(atMs: number): Promise<void> {
  return delay(atMs - Date.now());
}

/** A k6 duration string for whole seconds. */
export function seconds(s: number): string {
  return `${Math.max(0, Math.ceil(s))}s`;
}
