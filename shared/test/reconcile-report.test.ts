import { describe, expect, it } from '@jest/globals';
import {
  parseReconcileArgs,
  RECONCILE_EXIT,
  reconcileExitCode,
  reconcileUsage,
  summariseReconcile,
  unsettledEmoji,
  type ReconcileReport,
} from '../src/index.js';

const clean: ReconcileReport = {
  statesScanned: 5,
  emojiChecked: 2,
  drift: [],
  skipped: [],
  pendingCleared: 0,
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
};

describe('reconcile report', () => {
  it('lists the unsettled emoji once each, sorted, and exits accordingly', () => {
    expect(unsettledEmoji(drifted)).toEqual(['fire', 'tada']);
    expect(unsettledEmoji(clean)).toEqual([]);
    expect(reconcileExitCode(drifted)).toBe(RECONCILE_EXIT.drift);
    expect(reconcileExitCode(clean)).toBe(RECONCILE_EXIT.ok);
    expect(RECONCILE_EXIT).toEqual({ ok: 0, drift: 1, error: 2 });
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

  it('parses the command line, answering --help and bad flags with the usage text', () => {
    const usage = reconcileUsage('npm run reconcile -w x', 'Reads NOTHING.');
    expect(usage).toMatch(/^usage: npm run reconcile -w x \[-- --dry-run\]\n/);
    expect(usage).toContain('\n\nReads NOTHING.\n\nExit codes: 0 ');
    expect(parseReconcileArgs([], usage)).toEqual({ kind: 'run', dryRun: false });
    expect(parseReconcileArgs(['--dry-run'], usage)).toEqual({ kind: 'run', dryRun: true });
    expect(parseReconcileArgs(['-h'], usage)).toEqual({ kind: 'exit', code: 0, text: usage });
    expect(parseReconcileArgs(['--dry-run', '--help'], usage)).toMatchObject({ code: 0 });
    const bad = parseReconcileArgs(['--repair-everything'], usage);
    expect(bad).toMatchObject({ kind: 'exit', code: RECONCILE_EXIT.error });
    expect(bad.kind === 'exit' && bad.text).toMatch(/--repair-everything[^]*\n\nusage: /);
    expect(parseReconcileArgs(['extra'], usage)).toMatchObject({ code: RECONCILE_EXIT.error });
  });
});
