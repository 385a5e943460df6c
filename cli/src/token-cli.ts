/**
 * `npm run token -- --sub NAME --ttl DURATION`: prints a viewer token for a dashboard (a wall
 * display, a script, k6) on stdout, and nothing else there, so that `TOKEN=$(npm run --silent
 * token -- ...)` works. Signed with DASHBOARD_TOKEN_SECRET, the secret both deployments verify
 * with; open the dashboard at `https://dash.example.com/#token=TOKEN`.
 */
import { InvalidArgumentError } from 'commander';
import { readEnvKeys } from '@reactometer/shared';
import {
  MAX_TOKEN_TTL_SECONDS,
  VIEWER_ACCESS_KEYS,
  issueDashboardToken,
  parseDurationSeconds,
} from '@reactometer/shared/auth';
import { CliError, EXIT, createCommand, readConfig, runCli } from './run-cli.js';

interface Options {
  readonly sub?: string;
  readonly ttl: number;
}

/** `--ttl`: 90s, 15m, 8h, 30d (at most 31 days). */
export function ttlOption(raw: string): number {
  const seconds = parseDurationSeconds(raw);
  if (seconds === undefined || seconds < 1 || seconds > MAX_TOKEN_TTL_SECONDS) {
    throw new InvalidArgumentError('must be a duration such as 90s, 15m, 8h or 30d (at most 31d)');
  }
  return seconds;
}

function subOption(raw: string): string {
  if (!/^[\w.@:-]{1,128}$/.test(raw)) {
    throw new InvalidArgumentError('must be 1-128 letters, digits or . _ @ : -');
  }
  return raw;
}

const program = createCommand(
  'token',
  'Print a viewer token for a dashboard (DASHBOARD_AUTH=token), signed with DASHBOARD_TOKEN_SECRET.',
)
  // Checked in the action rather than by commander, which would report a missing --sub before an
  // unknown option.
  .option('--sub <name>', 'who the token is for (required; shown in the logs as viewer)', subOption)
  .option('--ttl <duration>', 'lifetime: 90s, 15m, 8h, 30d (at most 31d)', ttlOption, 8 * 3600)
  .addHelpText(
    'after',
    '\nEnvironment:\n  DASHBOARD_TOKEN_SECRET  the secret the deployments verify with (required)\n\nOpen the dashboard at <dashboard URL>#token=<token>; the URL fragment never reaches a server.',
  );

void runCli<Options>(program, async ({ sub, ttl }) => {
  if (sub === undefined) throw new CliError("option '--sub <name>' is required", EXIT.usage);
  const { DASHBOARD_TOKEN_SECRET: secret } = readConfig(() =>
    readEnvKeys(VIEWER_ACCESS_KEYS, process.env, ['DASHBOARD_TOKEN_SECRET']),
  );
  if (secret === undefined) {
    throw new CliError(
      'DASHBOARD_TOKEN_SECRET: is required (the secret the deployments verify viewer tokens with)',
      EXIT.usage,
    );
  }
  process.stdout.write(
    `${await issueDashboardToken({ secret, sub, ttlSeconds: ttl, nowMs: Date.now() })}\n`,
  );
});
