/**
 * `npm run cost -- --clients 1000 --events-per-day 20000 [options]`: the monthly cost of each
 * deployment for that traffic, and where the two cross (docs/cost-model.md explains the model).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CliError,
  createCommand,
  EXIT,
  numberOption,
  Option,
  runCli,
  type Command,
} from '@reactometer/cli';
import {
  ASSUMPTION_SOURCES,
  DEFAULT_ASSUMPTIONS,
  breakEven,
  clusterCost,
  dropletCost,
  freeTierFromFile,
  pricesFromFile,
  serverlessCost,
  type Assumptions,
  type Balancer,
  type CostLine,
  type FreeTierMode,
  type PricesFile,
  type Traffic,
} from './cost-model.js';

export const PRICES_PATH = fileURLToPath(new URL('../../cost/prices.json', import.meta.url));

const usd = (n: number) => (Number.isFinite(n) ? `$${n.toFixed(2)}` : 'n/a');
const qty = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(2);

function crossing(at: number | null, what: string): string {
  if (at === null) return 'none in range (serverless stays cheaper, or no droplet fits)';
  if (at === 0) return `serverless already costs more at 0 ${what}`;
  return `${at} (serverless costs more from here on)`;
}

export interface CostOptions {
  readonly clients: number;
  readonly eventsPerDay: number;
  readonly hoursConnectedPerDay: number;
  readonly lambdaMemoryMb?: number;
  readonly fanoutMemoryMb?: number;
  readonly fanoutMsPer100?: number;
  readonly slackEventMs?: number;
  readonly wsRouteMs?: number;
  readonly kbPerConnection?: number;
  readonly dropletBaseMb?: number;
  readonly fdLimit?: number;
  readonly droplet?: string;
  readonly managedMongodbMonthly?: number;
  /** Droplet x K: K (default: the cheapest K that holds the dashboards). */
  readonly clusterDroplets?: number;
  readonly balancer?: Balancer;
  readonly managedRedisMonthly?: number;
  /** The fan-out's coalescing window (0: off). */
  readonly windowMs?: number;
  readonly hiddenTabTimeoutMinutes?: number;
  readonly freeTier: FreeTierMode;
  /** commander's `--no-logs`. */
  readonly logs: boolean;
  readonly prices?: string;
  readonly json?: boolean;
}

/** Every assumption with its default and source (`--explain`). */
export function explainAssumptions(): string {
  const rows = (Object.keys(DEFAULT_ASSUMPTIONS) as (keyof Assumptions)[]).map(
    (k) => `  ${k} = ${String(DEFAULT_ASSUMPTIONS[k])}: ${ASSUMPTION_SOURCES[k]}`,
  );
  return ['assumptions (default: source)', ...rows].join('\n');
}

/** The report `npm run cost` prints, as text or JSON. */
export function costReport(values: CostOptions): string {
  const d = DEFAULT_ASSUMPTIONS;
  const traffic: Traffic = {
    clients: Math.round(values.clients),
    eventsPerDay: values.eventsPerDay,
    hoursConnectedPerDay: values.hoursConnectedPerDay,
  };
  const a: Assumptions = {
    ...d,
    lambdaMemoryMb: values.lambdaMemoryMb ?? d.lambdaMemoryMb,
    fanoutMemoryMb: values.fanoutMemoryMb ?? d.fanoutMemoryMb,
    fanoutMsPer100: values.fanoutMsPer100 ?? d.fanoutMsPer100,
    slackEventMs: values.slackEventMs ?? d.slackEventMs,
    wsRouteMs: values.wsRouteMs ?? d.wsRouteMs,
    dropletKbPerConnection: values.kbPerConnection ?? d.dropletKbPerConnection,
    dropletBaseMemoryMb: values.dropletBaseMb ?? d.dropletBaseMemoryMb,
    dropletFdLimit: values.fdLimit ?? d.dropletFdLimit,
    managedMongoMonthly: values.managedMongodbMonthly ?? null,
    managedRedisMonthly: values.managedRedisMonthly ?? null,
    coalesceWindowMs: values.windowMs ?? d.coalesceWindowMs,
    hiddenTabTimeoutMinutes: values.hiddenTabTimeoutMinutes ?? d.hiddenTabTimeoutMinutes,
    includeLogs: values.logs,
  };
  const mode = values.freeTier;
  const file = JSON.parse(readFileSync(values.prices ?? PRICES_PATH, 'utf8')) as PricesFile;
  const prices = pricesFromFile(file);
  const free = freeTierFromFile(file, mode);
  const serverless = serverlessCost(traffic, prices, a, free);
  let droplet;
  try {
    droplet = dropletCost(traffic, prices, a, values.droplet);
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.usage);
  }
  const even = breakEven(traffic, prices, a, free, droplet.monthly);
  let cluster;
  try {
    cluster = clusterCost(traffic, prices, a, {
      balancer: values.balancer ?? 'do-lb',
      ...(values.clusterDroplets === undefined ? {} : { droplets: values.clusterDroplets }),
    });
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.usage);
  }

  if (values.json) {
    return JSON.stringify(
      { traffic, freeTier: mode, serverless, droplet, cluster, breakEven: even },
      null,
      2,
    );
  }
  const w = Math.max(...[...serverless.lines, ...cluster.lines].map((l) => l.item.length));
  const line = (l: CostLine): string =>
    `  ${l.item.padEnd(w)}  ${qty(l.quantity).padStart(10)} ${l.unit.padEnd(9)} ${usd(l.monthly).padStart(9)}`;
  const lines = [
    `traffic: ${traffic.clients} clients, ${traffic.eventsPerDay} events/day, ${traffic.hoursConnectedPerDay} h connected/day; free tier: ${mode}; prices: us-east-1 / DigitalOcean (loadtest/cost/prices.json)`,
    a.coalesceWindowMs > 0
      ? `fan-out: coalesced (${a.coalesceWindowMs} ms window): ${qty(serverless.usage.flushes)} fan-outs for ${qty(serverless.usage.countChanges)} count changes a month (--window-ms 0: one per change)`
      : 'fan-out: not coalesced (--window-ms 0): one fan-out per count change',
    a.hiddenTabTimeoutMinutes === null
      ? 'hidden dashboard tabs stay connected (--hidden-tab-timeout-minutes N closes them)'
      : `hidden tabs close after ${a.hiddenTabTimeoutMinutes} min (${a.hiddenShare * 100}% of open time hidden, ${a.hiddenStretchMinutes} min at a time)`,
    '',
    'serverless (API Gateway + Lambda arm64 + DynamoDB on-demand + SNS), per month:',
    ...serverless.lines.map(line),
    `  ${'total'.padEnd(w)}  ${''.padStart(20)} ${usd(serverless.monthly).padStart(9)}`,
    '',
    `droplet: ${droplet.size?.slug ?? 'none'} (${droplet.reason}); needs ${droplet.needs.memoryMb.toFixed(0)} MB, ${droplet.needs.peakVcpus.toFixed(3)} vCPU at peak, ${droplet.needs.connections} of ${droplet.needs.connectionCeiling} connections`,
    `  ${'total'.padEnd(w)}  ${''.padStart(20)} ${usd(droplet.monthly).padStart(9)}${a.managedMongoMonthly === null ? ' (MongoDB on the droplet)' : ` (incl. managed MongoDB ${usd(a.managedMongoMonthly)})`}`,
    '',
    `droplet x ${cluster.droplets} (${cluster.reason}; ${cluster.connectionsPerDroplet} of ${cluster.connectionCeiling} connections per droplet process; Redis pub/sub between them, one MongoDB), per month:`,
    ...cluster.lines.map(line),
    `  ${'total'.padEnd(w)}  ${''.padStart(20)} ${usd(cluster.monthly).padStart(9)}`,
    '',
    `break-even (droplet fixed at ${usd(droplet.monthly)}/month):`,
    `  clients at ${traffic.eventsPerDay} events/day: ${crossing(even.clients, 'clients')}`,
    `  events/day at ${traffic.clients} clients: ${crossing(even.eventsPerDay, 'events/day')}`,
  ];
  return lines.join('\n');
}

const nonNegative = numberOption({ min: 0 });

/** The command line of `npm run cost`. */
export function costProgram(): Command {
  return createCommand(
    'npm run cost',
    'The monthly cost of each deployment for a given traffic, and where the two cross (docs/cost-model.md explains the model).',
  )
    .option('--clients <n>', 'dashboards in use (required)', nonNegative)
    .option('--events-per-day <n>', 'Slack reaction events per day (required)', nonNegative)
    .option(
      '--hours-connected-per-day <h>',
      'hours each dashboard is connected',
      numberOption({ min: 0, max: 24 }),
      8,
    )
    .option(
      '--lambda-memory-mb <mb>',
      'HTTP/WebSocket functions (default 512, serverless.yml)',
      nonNegative,
    )
    .option(
      '--fanout-memory-mb <mb>',
      'fan-out function (default 1024, serverless.yml)',
      nonNegative,
    )
    .option(
      '--fanout-ms-per-100 <ms>',
      'fan-out time per 100 connections (default 60, assumed)',
      nonNegative,
    )
    .option('--slack-event-ms <ms>', 'Slack event invocation (default 40, assumed)', nonNegative)
    .option('--ws-route-ms <ms>', 'WebSocket route invocation (default 15, assumed)', nonNegative)
    .option(
      '--kb-per-connection <kb>',
      'droplet memory per WebSocket (default 50, assumed)',
      nonNegative,
    )
    .option(
      '--droplet-base-mb <mb>',
      'droplet OS + Node at rest (default 350, assumed)',
      nonNegative,
    )
    .option('--fd-limit <n>', 'droplet open-file limit (default 20000)', nonNegative)
    .option('--droplet <slug>', 'price this size instead of the smallest that fits')
    .option(
      '--window-ms <ms>',
      'fan-out coalescing window (default 1000, serverless/src/config.ts; 0: off)',
      numberOption({ integer: true, min: 0, max: 60_000 }),
    )
    .option(
      '--hidden-tab-timeout-minutes <min>',
      'hidden dashboard tabs close their socket after this long (default: never)',
      numberOption({ min: 0 }),
    )
    .option(
      '--managed-mongodb-monthly <usd>',
      'MongoDB as a managed database (price not in prices.json)',
      nonNegative,
    )
    .option(
      '--cluster-droplets <k>',
      'droplet x K: price K app droplets (default: the cheapest K that holds the dashboards)',
      numberOption({ integer: true, min: 1, max: 1000 }),
    )
    .addOption(
      new Option('--balancer <kind>', 'droplet x K: the load balancer in front')
        .choices(['do-lb', 'nginx-droplet'])
        .default('do-lb'),
    )
    .option(
      '--managed-redis-monthly <usd>',
      'droplet x K: Redis as a managed database (price not in prices.json; default: its own droplet)',
      nonNegative,
    )
    .addOption(
      new Option('--free-tier <mode>', 'subtract AWS free allowances')
        .choices(['none', 'always', 'new-account'])
        .default('none'),
    )
    .option('--no-logs', 'leave CloudWatch Logs ingestion out')
    .option('--prices <file>', 'default loadtest/cost/prices.json')
    .option('--json', 'machine-readable output')
    .option('--explain', 'list every assumption with its source');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runCli<Partial<CostOptions> & { explain?: boolean }>(costProgram(), (options) => {
    if (options.explain) {
      process.stdout.write(`${explainAssumptions()}\n`);
      return;
    }
    if (options.clients === undefined || options.eventsPerDay === undefined) {
      throw new CliError('--clients and --events-per-day are required', EXIT.usage);
    }
    process.stdout.write(`${costReport(options as CostOptions)}\n`);
  });
}
