import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Journal } from '../src/inbox/journal.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reactometer-journal-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const segments = async (): Promise<string[]> =>
  (await readdir(dir)).filter((f) => f.startsWith('seg-')).sort();

describe('the inbox journal', () => {
  it('gives back every acknowledged record in order after a restart', async () => {
    const { journal } = await Journal.open({ dir });
    const written = await Promise.all(
      Array.from({ length: 100 }, (_, i) => journal.append(`Ev${i}`, `body ${i}`)),
    );
    expect(written.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    await journal.close();
    const { journal: again, recovered } = await Journal.open({ dir });
    expect(recovered.unapplied.map((r) => [r.id, r.body])).toEqual(
      written.map((r) => [r.id, r.body]),
    );
    expect(recovered.applied).toEqual([]);
    await again.close();
  });

  it('keeps only what is after the checkpoint, and sequence numbers keep growing', async () => {
    const { journal } = await Journal.open({ dir, segmentBytes: 256 });
    for (let i = 0; i < 30; i++) await journal.append(`Ev${i}`, 'x'.repeat(40));
    expect((await segments()).length).toBeGreaterThan(5);
    journal.markApplied(25);
    await journal.close();
    // Segments wholly at or below the checkpoint are gone.
    const { journal: again, recovered } = await Journal.open({ dir, segmentBytes: 256 });
    expect(recovered.unapplied.map((r) => r.seq)).toEqual([26, 27, 28, 29, 30]);
    expect((await segments()).length).toBeLessThan(5);
    expect((await again.append('Ev30', 'y')).seq).toBe(31);
    again.markApplied(31);
    await again.close();
    const { journal: third, recovered: none } = await Journal.open({ dir, segmentBytes: 256 });
    expect(none.unapplied).toEqual([]);
    expect((await third.append('Ev31', 'z')).seq).toBe(32);
    await third.close();
  });

  it('cuts off a torn record at the end (a crash mid-write) and keeps appending after it', async () => {
    const { journal } = await Journal.open({ dir });
    await journal.append('Ev1', 'one');
    await journal.append('Ev2', 'two');
    await journal.close();
    const [last] = (await segments()).slice(-1);
    // A header promising 200 bytes, followed by 3: what a crash during a write leaves.
    await appendFile(path.join(dir, last!), Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7]));
    const { journal: again, recovered } = await Journal.open({ dir });
    expect(recovered.unapplied.map((r) => r.id)).toEqual(['Ev1', 'Ev2']);
    await again.append('Ev3', 'three');
    await again.close();
    const { journal: third, recovered: after } = await Journal.open({ dir });
    expect(after.unapplied.map((r) => r.id)).toEqual(['Ev1', 'Ev2', 'Ev3']);
    await third.close();
  });

  it('refuses a record whose checksum does not match', async () => {
    const { journal } = await Journal.open({ dir });
    await journal.append('Ev1', 'one');
    await journal.close();
    const [file] = await segments();
    const { readFile, writeFile } = await import('node:fs/promises');
    const bytes = await readFile(path.join(dir, file!));
    const at = bytes.length - 3;
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
    await writeFile(path.join(dir, file!), bytes);
    const { journal: again, recovered } = await Journal.open({ dir });
    expect(recovered.unapplied).toEqual([]);
    await again.close();
  });

  it('is held by one process at a time', async () => {
    const { journal } = await Journal.open({ dir });
    // The lock names this (live) process; a second opener in another process would be refused.
    // Within one process the same pid may take it over, so check the lock file instead.
    expect((await readdir(dir)).includes('inbox.lock')).toBe(true);
    await journal.close();
    expect((await readdir(dir)).includes('inbox.lock')).toBe(false);
  });
});
