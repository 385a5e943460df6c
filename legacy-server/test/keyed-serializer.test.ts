import { describe, expect, it } from '@jest/globals';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { KeyedSerializer } from '../src/keyed-serializer.js';

/** A promise settled from outside, to hold a task open while the test looks at the queue. */
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

describe('KeyedSerializer', () => {
  it('runs tasks of one key one at a time, in call order', async () => {
    const serializer = new KeyedSerializer();
    const log: string[] = [];
    const gates = [gate(), gate(), gate()];
    const results = gates.map((g, i) =>
      serializer.run('k', async () => {
        log.push(`start ${i}`);
        await g.promise;
        log.push(`end ${i}`);
        return i * 10;
      }),
    );

    await turns(5);
    expect(log).toEqual(['start 0']);
    // Opening a later gate first must not let its task overtake the one still running.
    gates[2]!.open();
    gates[1]!.open();
    await turns(5);
    expect(log).toEqual(['start 0']);
    gates[0]!.open();
    expect(await Promise.all(results)).toEqual([0, 10, 20]);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('runs tasks of different keys concurrently', async () => {
    const serializer = new KeyedSerializer();
    const started: string[] = [];
    const g = gate();
    const a = serializer.run('a', async () => {
      started.push('a');
      await g.promise;
    });
    const b = serializer.run('b', async () => {
      started.push('b');
      await g.promise;
    });
    await turns(3);
    expect(started).toEqual(['a', 'b']);
    expect(serializer.activeKeys).toBe(2);
    g.open();
    await Promise.all([a, b]);
  });

  it('passes a rejection to its caller and still runs the tasks queued behind it', async () => {
    const serializer = new KeyedSerializer();
    const failing = serializer.run('k', async () => {
      await nextTurn();
      throw new Error('boom');
    });
    const next = serializer.run('k', async () => 'after');
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('after');
  });

  it('turns a synchronous throw into a rejection, on an idle and on a busy key', async () => {
    const serializer = new KeyedSerializer();
    const syncThrow = (): Promise<never> => {
      throw new Error('sync');
    };
    const idle = serializer.run('idle', syncThrow);
    expect(idle).toBeInstanceOf(Promise);
    await expect(idle).rejects.toThrow('sync');

    const g = gate();
    const first = serializer.run('busy', () => g.promise);
    const queued = serializer.run('busy', syncThrow);
    g.open();
    await first;
    await expect(queued).rejects.toThrow('sync');
  });

  it('forgets a key once its last task has settled, whether it resolved or rejected', async () => {
    const serializer = new KeyedSerializer();
    const g = gate();
    const tasks = [
      serializer.run('a', () => g.promise),
      serializer.run('a', async () => {
        throw new Error('x');
      }),
      serializer.run('b', () => g.promise),
    ];
    expect(serializer.activeKeys).toBe(2);
    g.open();
    await Promise.allSettled(tasks);
    await turns(2);
    expect(serializer.activeKeys).toBe(0);

    // A key that is reused after it was forgotten starts a fresh queue and is forgotten again.
    await serializer.run('a', async () => undefined);
    await turns(2);
    expect(serializer.activeKeys).toBe(0);
  });

  it('treats keys as data, including names that are special on plain objects', async () => {
    const serializer = new KeyedSerializer();
    const log: string[] = [];
    const g = gate();
    const runs = ['__proto__', 'constructor', 'toString'].map((key) =>
      serializer.run(key, async () => {
        log.push(key);
        await g.promise;
      }),
    );
    await turns(3);
    expect(log).toEqual(['__proto__', 'constructor', 'toString']);
    expect(serializer.activeKeys).toBe(3);
    g.open();
    await Promise.all(runs);
  });

  it('makes a non-atomic read-modify-write exact under concurrency (the FerretDB case)', async () => {
    // A "document" updated the way FerretDB v1 applies `$inc`: read, yield, write back.
    const incrementLikeFerretDb = async (doc: { n: number }): Promise<void> => {
      const read = doc.n;
      await turns(1 + Math.floor(Math.random() * 3));
      doc.n = read + 1;
    };

    const unguarded = { n: 0 };
    await Promise.all(Array.from({ length: 100 }, () => incrementLikeFerretDb(unguarded)));
    // Shows that the race is real here, so the serialised result below is not luck.
    expect(unguarded.n).toBeLessThan(100);

    const serializer = new KeyedSerializer();
    const guarded = { n: 0 };
    await Promise.all(
      Array.from({ length: 100 }, () =>
        serializer.run('doc', () => incrementLikeFerretDb(guarded)),
      ),
    );
    expect(guarded.n).toBe(100);
  });
});
