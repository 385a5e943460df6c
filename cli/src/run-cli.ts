/**
 * How every reactometer command behaves, whichever workspace it lives in: `--help` prints usage on
 * stdout and exits 0; an unknown option, a missing or malformed value prints ONE line on stderr
 * naming it and exits 2; a failure prints one line (never a stack trace) and exits 1, or the code
 * the command chose. Built on commander, configured once here so that the commands cannot drift.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '@reactometer/shared';

export { Command, InvalidArgumentError, Option };

/** Exit codes shared by every command. */
export const EXIT = {
  ok: 0,
  /** The command ran and failed (or found what it was asked to look for, e.g. drift). */
  failure: 1,
  /** The command line or the configuration is wrong; nothing was done. */
  usage: 2,
} as const;

/**
 * Thrown by a command to end with a one-line message and an exit code. Use it for problems the
 * user can fix (a port in use, a missing file); anything else is reported by its message too.
 */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT.failure) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Commander's messages may span lines ("(Did you mean --rate?)"); ours are one line each. */
function oneLine(text: string): string {
  return `${text.replace(/\s*\n\s*/g, ' ').trim()}\n`;
}

/**
 * A commander program configured the house way: errors are thrown to `runCli` instead of exiting
 * inside commander, printed as one line, with a suggestion for a mistyped option, and excess
 * positional arguments are refused.
 */
export function createCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .helpOption('-h, --help', 'show this help and exit')
    .exitOverride()
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
      outputError: (text, write) => write(oneLine(`${name}: ${text.replace(/^error: /, '')}`)),
    });
}

export interface RunCliOptions {
  /** Defaults to `process.argv.slice(2)`. */
  readonly argv?: readonly string[];
  /** Defaults to `process.exit`; tests pass their own. */
  readonly exit?: (code: number) => void;
}

/** What a command does once its command line is valid; resolves with its exit code (0 if none). */
export type CliMain<Options> = (
  options: Options,
  args: readonly string[],
) => Promise<number | void> | number | void;

/**
 * Parses the command line, runs `main` with the parsed options and exits with the code it
 * returned. `main` runs to completion first: a long-running command (a server, a load run) simply
 * resolves later. Heavy modules belong in `main` (a dynamic import), so that `--help` and a usage
 * error answer at once.
 */
export async function runCli<Options>(
  program: Command,
  main: CliMain<Options>,
  options: RunCliOptions = {},
): Promise<void> {
  let returnedCode: number | undefined;
  program.action(async () => {
    const returned = await main(program.opts() as Options, program.args);
    if (typeof returned === 'number') returnedCode = returned;
  });
  const exit = options.exit ?? processExit;
  // The code `main` returned, else what parsing and running came to (0, or a failure's code).
  await runCommand(program, { ...options, exit: (code) => exit(returnedCode ?? code) });
}

const processExit = (code: number): void => process.exit(code);

/**
 * `runCli` for a program whose actions are already attached, such as one with subcommands
 * (`createCommand(...).command('run')` inherits the house settings). An action reports its exit
 * code through `process.exitCode`; usage errors and failures are mapped as in `runCli`.
 */
export async function runCommand(program: Command, options: RunCliOptions = {}): Promise<void> {
  const argv = options.argv ?? process.argv.slice(2);
  const exit = options.exit ?? processExit;
  let code: number;
  try {
    await program.parseAsync([...argv], { from: 'user' });
    code = typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    code = exitCodeOf(program.name(), err);
  }
  exit(code);
}

function exitCodeOf(name: string, err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version were printed by commander; every other commander error is a usage error
    // whose one line commander has printed through `outputError`.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
    if (err.code === 'commander.help') return EXIT.ok;
    return EXIT.usage;
  }
  if (err instanceof CliError) {
    // Written for the user as it stands (a configuration listing names one variable a line).
    process.stderr.write(`${name}: ${err.message.trimEnd()}\n`);
    return err.exitCode;
  }
  // Anything else says what failed in one line; its stack stays out of the user's way.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(oneLine(`${name}: ${message}`));
  return EXIT.failure;
}

/**
 * Runs a config loader; a `ConfigError` becomes a usage error listing every bad variable (exit 2),
 * so each command reports its environment the same way.
 */
export function readConfig<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.listing(), EXIT.usage);
    throw err;
  }
}
