import { useEffect, useState } from 'react';
import { usePlatform } from '../platform.js';

/** The platform clock, re-read every `intervalMs` while `active` (for countdowns and "5 s ago"). */
export function useNow(intervalMs: number, active = true): number {
  const { now, timers } = usePlatform();
  const [value, setValue] = useState(now);
  useEffect(() => {
    if (!active) return;
    let handle: unknown;
    const tick = () => {
      setValue(now());
      handle = timers.setTimeout(tick, intervalMs);
    };
    // At once first: the value may be from long before `active` turned on.
    handle = timers.setTimeout(tick, 0);
    return () => timers.clearTimeout(handle);
  }, [now, timers, intervalMs, active]);
  return value;
}
