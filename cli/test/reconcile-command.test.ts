import { describe, expect, it } from '@jest/globals';
import type { ReconcileReport } from '@reactometer/shared';
import {
  createReconcileCommand,
  RECONCILE_EXIT,
  reconcileExitCode,
  runCli,
  summariseReconcile,
  unsettledEmoji,
} from '../src/index.js';

const clean: ReconcileReport = {
  statesScanned: 5,
  emojiChecked: 2,
  drift: [],
  skipped: [],
  pendingCleared: 0,
  badRecords: [],
  failed: [],
};

const drifted: ReconcileReport = {
  statesScanned: 9,
  emojiChecked: 4,
  drift: [
    { emoji: 'tada', stored: 7, expected: 2, repaired: false },
    { emoji: 'heart', stored: 1, expected: 3, repaired: true },
  ],
  skipped: ['tada', 'fire'],
  pendingCleared: 1,
  badRecords: [],
  failed: [],
};

describe('reconcile report', () => {
  it('lists the unsettled emoji once each, sorted, and exits accordingly', () => {
    expect(unsettledEmoji(drifted)).toEqual(['fire', 'tada']);
    expect(unsettledEmoji(clean)).toEqual([]);
    expect(reconcileExitCode(drifted)).toBe(RECONCILE_EXIT.drift);
    expect(reconcileExitCode(clean)).toBe(RECONCILE_EXIT.ok);
    expect(RECONCILE_EXIT).toEqual({ ok: 0, drift: 1, error: 2 });
  });

  it('reports bad records and refused repairs, and exits 1 for them', () => {
    const bad: ReconcileReport = {
      ...clean,
      badRecords: [
        { key: 'T|m|U|::skin-tone-2', reason: 'a reaction of no emoji (only a skin tone)' },
      ],
      failed: [{ emoji: 'boom', error: 'ValidationException' }],
    };
    expect(unsettledEmoji(bad)).toEqual(['boom']);
    expect(reconcileExitCode(bad)).toBe(RECONCILE_EXIT.drift);
    expect(reconcileExitCode({ ...clean, badRecords: bad.badRecords })).toBe(RECONCILE_EXIT.drift);
    const text = summariseReconcile(bad, { dryRun: false, target: 'x' });
    expect(text).toContain('  boom: repair refused by the store: ValidationException');
    expect(text).toContain('bad record "T|m|U|::skin-tone-2": a reaction of no emoji');
  });

  it('summarises a clean run', () => {
    expect(summariseReconcile(clean, { dryRun: true, target: 'database "db"' })).toBe(
      'reconcile (dry run) of database "db": 5 reaction states, 2 emoji checked, 0 count(s) wrong, ' +
        '0 stale pending marker(s) cleared\nevery count matches the reaction states',
    );
  });

  it('says what happened to each wrong count and what to do next', () => {
    expect(
      summariseReconcile(drifted, { dryRun: false, target: 'tables s / c' }).split('\n'),
    ).toEqual([
      'reconcile of tables s / c: 9 reaction states, 4 emoji checked, 2 count(s) wrong, ' +
        '1 stale pending marker(s) cleared',
      '  tada: stored 7, expected 2: skipped (changed during the run)',
      '  heart: stored 1, expected 3: repaired',
      '  left alone while an update is in flight: fire',
      '2 count(s) still differ; run reconcile again',
    ]);
    const dry = summariseReconcile(drifted, { dryRun: true, target: 'x', showInFlight: false });
    expect(dry).toContain('  tada: stored 7, expected 2: not repaired (dry run)');
    expect(dry).not.toContain('in flight');
    expect(dry).toMatch(/2 count\(s\) would be repaired; run without --dry-run to fix them$/);
  });

  it('parses --dry-run, answers --help with the reads paragraph, refuses a bad flag with 2', async () => {
    const run = async (argv: string[]) => {
      let dryRun: boolean | undefined;
      let code: number | undefined;
      const out: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      const writeErr = process.stderr.write.bind(process.stderr);
      process.stdout.write = ((chunk: string) =>
        out.push(String(chunk)) > 0) as typeof process.stdout.write;
      process.stderr.write = ((chunk: string) =>
        out.push(String(chunk)) > 0) as typeof process.stderr.write;
      try {
        await runCli<{ dryRun?: boolean }>(
          createReconcileCommand('npm run reconcile', 'Reads NOTHING.'),
          (options) => {
            dryRun = options.dryRun ?? false;
          },
          { argv, exit: (c) => (code = c) },
        );
      } finally {
        process.stdout.write = write;
        process.stderr.write = writeErr;
      }
      return { code, dryRun, text: out.join('') };
    };
    expect(await run([])).toMatchObject({ code: 0, dryRun: false });
    expect(await run(['--dry-run'])).toMatchObject({ code: 0, dryRun: true });
    const help = await run(['-h']);
    expect(help).toMatchObject({ code: 0, dryRun: undefined });
    expect(help.text).toContain('Reads NOTHING.');
    expect(help.text).toContain('--dry-run');
    const bad = await run(['--repair-everything']);
    expect(bad).toMatchObject({ code: RECONCILE_EXIT.error, dryRun: undefined });
    expect(bad.text.trim().split('\n')).toHaveLength(1);
    expect(bad.text).toContain('--repair-everything');
    expect(await run(['extra'])).toMatchObject({ code: RECONCILE_EXIT.error });
  });
});
