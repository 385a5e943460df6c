/**
 * Every command the README lists behaves the same, through `npm run` as a user types it: `--help`
 * prints usage on stdout and exits 0; an unknown or malformed option prints one line naming it on
 * stderr and exits 2, never a stack trace. (`npm run X -- --help` once printed npm's own help for
 * some of them: the npm script must pass its arguments on.)
 */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function npmRun(script: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', script, '--', ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs `tasks` at most `limit` at a time (each spawn is a Node process on a 2-core box). */
async function pooled<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}

const COMMANDS = [
  'start',
  'legacy',
  'serverless',
  'traffic',
  'chaos',
  'compare',
  'cost',
  'k6',
  'migrate',
  'reconcile',
  'bench',
  'setup',
] as const;

/** Options with a malformed value, and what the one line must name. */
const MALFORMED: readonly { script: string; args: string[]; names: string }[] = [
  { script: 'traffic', args: ['--rate', 'fast'], names: '--rate' },
  { script: 'compare', args: ['--only', 'fan-out,nope'], names: 'nope' },
  { script: 'cost', args: ['--clients', '-3', '--events-per-day', '10'], names: '--clients' },
  { script: 'cost', args: ['--clients', '10'], names: '--events-per-day' },
  { script: 'reconcile', args: ['--target', 'mainframe'], names: '--target' },
  { script: 'bench', args: ['--clients', '10,x'], names: '--clients' },
  { script: 'k6', args: ['run', 'x.ts', '--k6-version', '1.5'], names: '1.5' },
];

const oneLine = (text: string): string[] => text.trim().split('\n');

describe('every command line', () => {
  it('answers --help with usage and exit 0, and an unknown option with one line and exit 2', async () => {
    const runs = await pooled(
      COMMANDS.flatMap((script) => [
        async () => ({ script, kind: 'help', run: await npmRun(script, ['--help']) }),
        async () => ({ script, kind: 'unknown', run: await npmRun(script, ['--no-such-flag']) }),
      ]),
      3,
    );
    for (const { script, kind, run } of runs) {
      const seen = `${script} ${kind}: ${JSON.stringify(run)}`;
      if (kind === 'help') {
        expect([seen, run.code]).toEqual([seen, 0]);
        expect([seen, run.stdout.includes('Usage: ')]).toEqual([seen, true]);
      } else {
        expect([seen, run.code]).toEqual([seen, 2]);
        expect([seen, oneLine(run.stderr)]).toEqual([
          seen,
          [expect.stringContaining("unknown option '--no-such-flag'")],
        ]);
      }
    }
  }, 180_000);

  it('refuses a malformed value with one line naming the option and exit 2', async () => {
    const runs = await pooled(
      MALFORMED.map((m) => async () => ({ ...m, run: await npmRun(m.script, m.args) })),
      3,
    );
    for (const { script, args, names, run } of runs) {
      const seen = `${script} ${args.join(' ')}: ${JSON.stringify(run)}`;
      expect([seen, run.code]).toEqual([seen, 2]);
      expect([seen, oneLine(run.stderr)]).toEqual([seen, [expect.stringContaining(names)]]);
      expect([seen, run.stderr]).not.toEqual([seen, expect.stringMatching(/\n\s+at /)]);
    }
  }, 120_000);
});
