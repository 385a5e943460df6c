/**
 * Runs the migrate command as an operator does, in a process of its own: what is checked is the
 * real exit code and the real output, usage errors and failures included.
 */
import { execFile, type ExecFileException } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../src/migrate-cli.ts', import.meta.url));

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `node --import tsx migration/src/migrate-cli.ts ...args` with only PATH and `env` in its
 * environment, so that a MONGODB_URI or STATES_TABLE of the shell running the tests cannot leak in.
 */
export async function runMigrateCli(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      // The timeout only keeps a hung child from outliving the test run; nothing is timed.
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 120_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as ExecFileException & { stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw err;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}
