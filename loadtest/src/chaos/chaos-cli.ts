/**
 * `npm run chaos -- --target droplet|serverless [--events N] [--rate R] [--outage-seconds S] [--json]`
 * A repeatable fault run (see chaos-run.ts): everything it starts listens on 127.0.0.1 only, it
 * sends a fixed number of events, and every wait has a deadline.
 */
import { CliError, EXIT, Option, createCommand, numberOption, runCli } from '@reactometer/cli';
import { runChaos, type ChaosResult } from './chaos-run.js';
import type { ChaosTarget } from './chaos-target.js';
import { startDropletTarget } from './droplet-target.js';

// The local stack's SQS client runs in this process, on Node 20: the SDK's upgrade notice is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

interface Options {
  readonly target?: string;
  readonly events: number;
  readonly rate: number;
  readonly outageSeconds?: number;
  readonly compress: number;
  readonly dashboards: number;
  readonly seed?: number;
  readonly json?: boolean;
}

const TARGETS = ['droplet', 'serverless'] as const;

const program = createCommand(
  'npm run chaos',
  "Sends signed Slack traffic with Slack's retry schedule (compressed) to a local deployment while its database is SIGKILLed twice (once held down past the retry window), its application process once, and dashboards drop throughout; then checks the counts. Local only (127.0.0.1).",
)
  .addOption(
    new Option('--target <deployment>', 'deployment to run against (required)').choices([
      ...TARGETS,
    ]),
  )
  .option(
    '--events <n>',
    'distinct events to send',
    numberOption({ integer: true, min: 10, max: 100_000 }),
    3000,
  )
  .option(
    '--rate <n>',
    'events per second (Slack sends at most ~8.3/s per workspace)',
    numberOption({ above: 0, max: 500 }),
    10,
  )
  .option(
    '--compress <n>',
    "divides Slack's retry schedule (immediately, 1 min, 5 min); 10 makes the last retry come after 30 s",
    numberOption({ min: 1, max: 1000 }),
    10,
  )
  .option(
    '--outage-seconds <n>',
    'length of the second database outage (default: the compressed retry window + 15 s)',
    numberOption({ above: 0, max: 3600 }),
  )
  .option(
    '--dashboards <n>',
    'dashboards connected throughout',
    numberOption({ integer: true, min: 1, max: 2000 }),
    20,
  )
  .option(
    '--seed <n>',
    'traffic seed (default: from the clock)',
    numberOption({ integer: true, min: 0 }),
  )
  .option('--json', 'print only the result as JSON');

async function startTarget(name: string, log: (line: string) => void): Promise<ChaosTarget> {
  if (name === 'droplet') return startDropletTarget(log);
  const { startServerlessTarget } = await import('./serverless-target.js');
  return startServerlessTarget(log);
}

function summary(r: ChaosResult): string {
  return [
    `chaos run against ${r.target}: ${r.sent} events at Slack's schedule / ${r.compress}, outage ${r.outageSeconds} s`,
    `  sent ${r.sent}, acknowledged ${r.acknowledged}, Slack gave up on ${r.gaveUp}`,
    `  lost ${r.lost}, doubled ${r.doubled}`,
    `  dashboards ${r.dashboardsConverged}/${r.dashboards} converged; converged ${r.converged} (${r.convergeMs ?? '-'} ms after the inbox drained)`,
    `  inbox: max backlog ${r.maxBacklog}, caught up ${r.inboxDrainAfterOutageMs ?? '-'} ms after the long outage`,
    `  failed attempts ${r.failedAttempts} over ${r.retriedEvents} retried events; ack p99 ${r.ackP99Ms} ms; ${r.dashboardConnects} dashboard connects; ${Math.round(r.runMs / 1000)} s`,
  ].join('\n');
}

await runCli<Options>(program, async (o) => {
  if (o.target === undefined) {
    throw new CliError(`--target is required: ${TARGETS.join(' or ')}`, EXIT.usage);
  }
  const log = o.json === true ? () => undefined : (line: string) => console.log(line);
  const retryWindowS = 300 / o.compress;
  const outageSeconds = o.outageSeconds ?? Math.ceil(retryWindowS + 15);
  if (outageSeconds <= retryWindowS) {
    log(
      `note: a ${outageSeconds} s outage is within Slack's compressed retry window (${retryWindowS} s)`,
    );
  }
  const target = await startTarget(o.target, log);
  try {
    const result = await runChaos(
      target,
      {
        events: o.events,
        rate: o.rate,
        outageSeconds,
        compress: o.compress,
        dashboards: o.dashboards,
        seed: o.seed ?? Date.now() % 2 ** 31,
        dropEveryMs: 2_000,
        settleTimeoutMs: 180_000,
      },
      log,
    );
    if (o.json === true) {
      console.log(JSON.stringify(result));
    } else {
      console.log(summary(result));
    }
    if (!result.converged || result.gaveUp > 0 || result.lost > 0 || result.doubled > 0) {
      process.exitCode = 1;
    }
  } finally {
    await target.teardown();
  }
});
