// The command line of `npm run migrate`, run as a child process: help, usage errors and their exit
// codes. None of these reaches a store, so no server is started.
import { describe, expect, it } from '@jest/globals';
import { runMigrateCli, type CliRun } from './support/run-migrate-cli.js';

const TARGETS = ['--states-table', 's', '--counts-table', 'c'];

/** A usage error: exit 2 and exactly one line on stderr, with no stack frame. */
function expectUsageError(run: CliRun): string {
  expect(run.code).toBe(2);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^migrate: /);
  return lines[0]!;
}

describe('npm run migrate (command line)', () => {
  it('--help prints usage on stdout and exits 0', async () => {
    const run = await runMigrateCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: migrate [options]');
    for (const option of ['--mongodb-uri', '--states-table', '--dry-run', '--repair-counts']) {
      expect(run.stdout).toContain(option);
    }
    expect(run.stdout).toContain('Exit codes: 0 verified');
    expect(run.stderr).toBe('');
  });

  it('an unknown option is one line naming it, exit 2', async () => {
    expect(expectUsageError(await runMigrateCli(['--bogus']))).toContain("'--bogus'");
  });

  it('a malformed value is one line naming the option, exit 2', async () => {
    const uri = ['--mongodb-uri', 'mongodb://localhost:1/'];
    expect(
      expectUsageError(await runMigrateCli([...uri, ...TARGETS, '--batch-size', '0'])),
    ).toMatch(/--batch-size.*must be an integer >= 1/);
    expect(
      expectUsageError(await runMigrateCli(['--mongodb-uri', 'http://x', ...TARGETS])),
    ).toMatch(/--mongodb-uri.*mongodb:\/\//);
    expect(
      expectUsageError(await runMigrateCli([...uri, ...TARGETS, '--dry-run', '--verify-only'])),
    ).toMatch(/--dry-run.*--verify-only/);
  });

  it('rejects missing arguments with exit code 2 and names them', async () => {
    const line = expectUsageError(await runMigrateCli([]));
    expect(line).toMatch(/--mongodb-uri: required[\s\S]*--states-table: required/);
    expect(line).toContain('--counts-table: required');
  });

  it('takes the required settings from the environment', async () => {
    const missing = expectUsageError(
      await runMigrateCli([], { MONGODB_URI: 'mongodb://localhost:1/', STATES_TABLE: 's' }),
    );
    expect(missing).not.toContain('--mongodb-uri');
    expect(missing).not.toContain('--states-table');
    expect(missing).toContain('--counts-table: required');
  });
});
