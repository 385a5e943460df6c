import { describe, expect, it } from '@jest/globals';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ConcurrencyLimiter } from '../src/concurrency-limiter.js';

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await nextTurn();
}

describe('ConcurrencyLimiter', () => {
  it('runs at most `limit` tasks at once and starts the others in call order', async () => {
    const limiter = new ConcurrencyLimiter(2);
    const started: number[] = [];
    const gates = [gate(), gate(), gate(), gate()];
    const runs = gates.map((g, i) =>
      limiter.run(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    await turns(3);
    expect(started).toEqual([0, 1]);
    expect([limiter.active, limiter.queued]).toEqual([2, 2]);

    gates[1]!.open();
    await turns(3);
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.open();
    await turns(3);
    expect(started).toEqual([0, 1, 2, 3]);
    gates[2]!.open();
    gates[3]!.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect([limiter.active, limiter.queued]).toEqual([0, 0]);
  });

  it('frees the slot of a task that rejects or throws synchronously', async () => {
    const limiter = new ConcurrencyLimiter(1);
    await expect(
      limiter.run(async () => {
        throw new Error('async');
      }),
    ).rejects.toThrow('async');
    await expect(
      limiter.run((): Promise<never> => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    await expect(limiter.run(async () => 'still works')).resolves.toBe('still works');
    expect(limiter.active).toBe(0);
  });

  it('never exceeds the limit under many concurrent callers', async () => {
    const limiter = new ConcurrencyLimiter(3);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 50 }, () =>
        limiter.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await turns(1 + Math.floor(Math.random() * 3));
          running--;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(limiter.active).toBe(0);
  });

  it('refuses a limit below one', () => {
    expect(() => new ConcurrencyLimiter(0)).toThrow(RangeError);
    expect(() => new ConcurrencyLimiter(1.5)).toThrow(RangeError);
  });
});
