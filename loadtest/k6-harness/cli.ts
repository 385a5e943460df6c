/**
 * `k6 run` for people without k6: runs a script under the harness with the k6 flags the project's
 * scripts need.
 *
 *   npm run k6 -- run loadtest/k6/fan-out.ts --k6-version 2.2 -e TARGET=droplet -e QUICK=1
 *
 * Exit codes are k6's (0 ok, 99 thresholds failed, 104 bad options, 107 script error, 108
 * aborted); a bad command line prints one line naming the problem and exits 2.
 */
import {
  createCommand,
  InvalidArgumentError,
  Option,
  runCommand,
  type Command,
} from '@reactometer/cli';
import { runK6Script } from './engine.js';
import { K6_PROFILES, K6_SOURCES, profileFor, UnmodelledVersionError } from './k6-versions.js';

function envPair(value: string, previous: Record<string, string>): Record<string, string> {
  const i = value.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError(`"${value}" is not KEY=VALUE`);
  return { ...previous, [value.slice(0, i)]: value.slice(i + 1) };
}

function version(value: string): string {
  try {
    profileFor(value);
  } catch (e) {
    if (e instanceof UnmodelledVersionError) throw new InvalidArgumentError(e.message);
    throw e;
  }
  return value;
}

function program(): Command {
  const root = createCommand(
    'npm run k6',
    "Runs the project's k6 scripts under Node with shims written from k6's source, for the modelled k6 versions: " +
      K6_PROFILES.map((p) => `${p.id} (from ${p.sourceTag})`).join(', ') +
      '. Not k6: run one short smoke test with your real k6 before a long run (loadtest/k6/README.md).',
  ).addHelpText(
    'after',
    `\nk6 sources modelled:\n${Object.entries(K6_SOURCES)
      .map(([k, v]) => `  ${k}: ${v}`)
      .join('\n')}\n`,
  );
  root
    .command('run')
    .description('run a k6 script (like `k6 run`)')
    .argument('<script>', 'the k6 script (.ts or .js)')
    .addOption(
      new Option('--k6-version <version>', 'k6 version to model, e.g. 2.2 or 2.3.0')
        .default('2.2')
        .argParser(version),
    )
    .option('-e, --env <KEY=VALUE>', 'script environment variable (repeatable)', envPair, {})
    .option('--summary-export <file>', 'write the end-of-test summary JSON to this file')
    .option(
      '--new-machine-readable-summary',
      "hand handleSummary k6's machine-readable summary shape",
    )
    .option('--execution-segment <segment>', "run one k6-operator runner's share, e.g. 0:1/2")
    .option(
      '--abort-on-finding',
      'stop at the first harness finding (a VU k6 would keep blocked or running)',
    )
    .option(
      '--include-system-env-vars <bool>',
      'pass the process environment to __ENV (k6 run: true)',
      'true',
    )
    .action(
      async (
        script: string,
        o: {
          k6Version: string;
          env: Record<string, string>;
          summaryExport?: string;
          newMachineReadableSummary?: boolean;
          executionSegment?: string;
          includeSystemEnvVars: string;
          abortOnFinding?: boolean;
        },
      ) => {
        const system =
          o.includeSystemEnvVars !== 'false' ? (process.env as Record<string, string>) : {};
        const result = await runK6Script({
          scriptPath: script,
          k6Version: o.k6Version,
          env: { ...system, ...o.env },
          ...(o.summaryExport !== undefined ? { summaryExport: o.summaryExport } : {}),
          ...(o.newMachineReadableSummary === true ? { newMachineReadableSummary: true } : {}),
          ...(o.executionSegment !== undefined ? { executionSegment: o.executionSegment } : {}),
          ...(o.abortOnFinding === true ? { abortOnFinding: true } : {}),
        });
        for (const t of result.thresholds) {
          process.stderr.write(`${t.ok ? '✓' : '✗'} ${t.key}: ${t.source}\n`);
        }
        process.stderr.write(
          `k6-harness (${result.profile}): exit ${result.exitCode}, ${result.iterations.completed} iterations, ` +
            `${result.iterations.interrupted} interrupted, ${(result.durationMs / 1000).toFixed(1)} s\n`,
        );
        process.exitCode = result.exitCode;
      },
    );
  return root;
}

// Subcommands inherit the house settings (one-line errors, exit 2 for a bad command line); the
// action reports k6's own exit code through process.exitCode.
await runCommand(program());
