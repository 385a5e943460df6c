/**
 * Every command the README lists behaves the same: `--help` prints usage on stdout and exits 0; an
 * unknown or malformed option prints one line naming it on stderr and exits 2, never a stack
 * trace. Each is run as its npm script runs it: the script is resolved from package.json (a
 * `tsx <file>`, possibly behind `npm run X -w <workspace> --`) and that file is started directly,
 * which spares a second of npm start-up per run; one real `npm run` checks the forwarding itself.
 * (`npm run X -- --help` once printed npm's own help: a delegating script must end in `--`.)
 */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Entry {
  readonly cwd: string;
  readonly file: string;
}

function scriptsOf(dir: string): Record<string, string> {
  return (
    JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;
}

/** The file an npm script runs, following `npm run X -w <workspace> --` delegations. */
function entryOf(script: string, dir = ROOT): Entry {
  const line = scriptsOf(dir)[script];
  if (line === undefined) throw new Error(`no script ${script} in ${dir}package.json`);
  const direct = /^tsx (\S+)$/.exec(line);
  if (direct) return { cwd: dir, file: direct[1]! };
  const delegated = /^npm run (\S+) -w (\S+) --$/.exec(line);
  if (delegated) return entryOf(delegated[1]!, path.join(ROOT, delegated[2]!, '/'));
  throw new Error(
    `script ${script} (${line}) must be "tsx <file>" or "npm run <x> -w <workspace> --", so that arguments reach the command`,
  );
}

function exec(command: string, args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      cwd,
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

/** `script` may name a workspace's script: `bench -w serverless`. */
function runScript(script: string, args: readonly string[]): Promise<Run> {
  const [name, flag, workspace] = script.split(' ');
  const { cwd, file } =
    flag === '-w' ? entryOf(name!, path.join(ROOT, workspace!, '/')) : entryOf(name!);
  return exec(process.execPath, ['--import', 'tsx', file, ...args], cwd);
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
  'model',
  'migrate',
  'reconcile',
  'token',
  'bench',
  'bench -w serverless',
  'setup',
] as const;

/** Options with a malformed value, and what the one line must name. */
const MALFORMED: readonly { script: string; args: string[]; names: string }[] = [
  { script: 'traffic', args: ['--rate', 'fast'], names: '--rate' },
  { script: 'chaos', args: ['--target', 'mainframe'], names: '--target' },
  { script: 'compare', args: ['--only', 'fan-out,nope'], names: 'nope' },
  { script: 'cost', args: ['--clients', '-3', '--events-per-day', '10'], names: '--clients' },
  { script: 'cost', args: ['--clients', '10'], names: '--events-per-day' },
  { script: 'reconcile', args: ['--target', 'mainframe'], names: '--target' },
  { script: 'token', args: ['--sub', 'wall', '--ttl', 'forever'], names: '--ttl' },
  { script: 'token', args: ['--ttl', '1h'], names: '--sub' },
  { script: 'bench', args: ['--clients', '10,x'], names: '--clients' },
  { script: 'k6', args: ['run', 'x.ts', '--k6-version', '1.5'], names: '1.5' },
  { script: 'model', args: ['--events-per-second', 'lots'], names: '--events-per-second' },
  { script: 'bench -w serverless', args: ['--workers', '0'], names: '--workers' },
];

const oneLine = (text: string): string[] => text.trim().split('\n');

describe('every command line', () => {
  it('answers --help with usage and exit 0, and an unknown option with one line and exit 2', async () => {
    const runs = await pooled(
      COMMANDS.flatMap((script) => [
        async () => ({ script, kind: 'help', run: await runScript(script, ['--help']) }),
        async () => ({ script, kind: 'unknown', run: await runScript(script, ['--no-such-flag']) }),
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
      MALFORMED.map((m) => async () => ({ ...m, run: await runScript(m.script, m.args) })),
      3,
    );
    for (const { script, args, names, run } of runs) {
      const seen = `${script} ${args.join(' ')}: ${JSON.stringify(run)}`;
      expect([seen, run.code]).toEqual([seen, 2]);
      expect([seen, oneLine(run.stderr)]).toEqual([seen, [expect.stringContaining(names)]]);
      expect([seen, run.stderr]).not.toEqual([seen, expect.stringMatching(/\n\s+at /)]);
    }
  }, 120_000);

  it('is reached through npm with its arguments (a delegating script forwards them)', async () => {
    const run = await exec('npm', ['run', '--silent', 'bench', '--', '--help'], ROOT);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: ');
    expect(run.stdout).not.toContain('npm run-script');
  }, 60_000);
});
