import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  CliError,
  createCommand,
  EXIT,
  numberOption,
  choiceListOption,
  runCli,
} from '../src/index.js';

let out: string;
let err: string;
beforeEach(() => {
  out = '';
  err = '';
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
});
afterEach(() => {
  jest.restoreAllMocks();
});

function program() {
  return createCommand('demo', 'A demo command.')
    .option('--rate <n>', 'events per second', numberOption({ above: 0 }), 5)
    .option('--only <list>', 'scenarios', choiceListOption(['a', 'b']))
    .option('--dry-run', 'change nothing');
}

async function run(argv: string[], main: (o: Record<string, unknown>) => unknown = () => 0) {
  let code: number | undefined;
  await runCli(program(), async (o) => main(o as Record<string, unknown>) as number, {
    argv,
    exit: (c) => {
      code = c;
    },
  });
  return code;
}

describe('runCli', () => {
  it('--help prints usage on stdout and exits 0 without running', async () => {
    let ran = false;
    expect(await run(['--help'], () => (ran = true))).toBe(EXIT.ok);
    expect(out).toContain('Usage: demo');
    expect(out).toContain('--rate <n>');
    expect(ran).toBe(false);
  });

  it('an unknown option is one line naming it, exit 2', async () => {
    expect(await run(['--rat', '3'])).toBe(EXIT.usage);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toContain("'--rat'");
    expect(err).toContain('--rate');
  });

  it('a malformed value is one line naming the option, exit 2', async () => {
    expect(await run(['--rate', 'fast'])).toBe(EXIT.usage);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/--rate.*must be a number > 0/);
    expect(await run(['--only', 'a,c'])).toBe(EXIT.usage);
    expect(err).toMatch(/'c' is not one of a, b/);
  });

  it('a stray positional argument is refused', async () => {
    expect(await run(['extra'])).toBe(EXIT.usage);
  });

  it('passes parsed options and returns the exit code of main', async () => {
    let seen: Record<string, unknown> = {};
    expect(
      await run(['--rate', '2.5', '--only', 'b,a', '--dry-run'], (o) => {
        seen = o;
        return 1;
      }),
    ).toBe(1);
    expect(seen).toEqual({ rate: 2.5, only: ['b', 'a'], dryRun: true });
  });

  it('a failure is one line without a stack trace', async () => {
    expect(
      await run([], () => {
        throw new CliError('port 3000 is in use', 3);
      }),
    ).toBe(3);
    expect(err).toBe('demo: port 3000 is in use\n');
    expect(
      await run([], () => {
        throw new Error('boom\n    at somewhere');
      }),
    ).toBe(EXIT.failure);
    expect(err).not.toContain('\n    at');
  });
});
