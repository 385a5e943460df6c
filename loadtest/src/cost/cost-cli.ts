/**
 * `npm run cost -- --clients 1000 --events-per-day 20000 [options]`: the monthly cost of each
 * deployment for that traffic, and where the two cross (docs/cost-model.md explains the model).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ASSUMPTION_SOURCES,
  DEFAULT_ASSUMPTIONS,
  breakEven,
  dropletCost,
  freeTierFromFile,
  pricesFromFile,
  serverlessCost,
  type Assumptions,
  type FreeTierMode,
  type PricesFile,
  type Traffic,
} from './cost-model.js';

export const PRICES_PATH = fileURLToPath(new URL('../../cost/prices.json', import.meta.url));

const USAGE = `usage: npm run cost -- --clients N --events-per-day N [options]

  --clients N                   dashboards in use (required)
  --events-per-day N            Slack reaction events per day (required)
  --hours-connected-per-day H   hours each dashboard is connected (default 8)
  --lambda-memory-mb MB         HTTP/WebSocket functions (default 512, serverless.yml)
  --fanout-memory-mb MB         fan-out function (default 1024, serverless.yml)
  --fanout-ms-per-100 MS        fan-out time per 100 connections (default 60, assumed)
  --slack-event-ms MS           Slack event invocation (default 40, assumed)
  --ws-route-ms MS              WebSocket route invocation (default 15, assumed)
  --kb-per-connection KB        droplet memory per WebSocket (default 50, assumed)
  --droplet-base-mb MB          droplet OS + Node at rest (default 350, assumed)
  --fd-limit N                  droplet open-file limit (default 20000)
  --droplet SLUG                price this size instead of the smallest that fits
  --managed-mongodb-monthly USD MongoDB as a managed database (price not in prices.json)
  --free-tier none|always|new-account   subtract AWS free allowances (default none)
  --no-logs                     leave CloudWatch Logs ingestion out
  --prices FILE                 default loadtest/cost/prices.json
  --json                        machine-readable output
  --explain                     list every assumption with its source`;

function num(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: must be a non-negative number`);
  return n;
}

const usd = (n: number) => (Number.isFinite(n) ? `$${n.toFixed(2)}` : 'n/a');
const qty = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(2);

function crossing(at: number | null, what: string): string {
  if (at === null) return 'none in range (serverless stays cheaper, or no droplet fits)';
  if (at === 0) return `serverless already costs more at 0 ${what}`;
  return `${at} (serverless costs more from here on)`;
}

export function runCostCli(argv: readonly string[]): { code: number; out: string } {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        clients: { type: 'string' },
        'events-per-day': { type: 'string' },
        'hours-connected-per-day': { type: 'string' },
        'lambda-memory-mb': { type: 'string' },
        'fanout-memory-mb': { type: 'string' },
        'fanout-ms-per-100': { type: 'string' },
        'slack-event-ms': { type: 'string' },
        'ws-route-ms': { type: 'string' },
        'kb-per-connection': { type: 'string' },
        'droplet-base-mb': { type: 'string' },
        'fd-limit': { type: 'string' },
        droplet: { type: 'string' },
        'managed-mongodb-monthly': { type: 'string' },
        'free-tier': { type: 'string', default: 'none' },
        'no-logs': { type: 'boolean', default: false },
        prices: { type: 'string' },
        json: { type: 'boolean', default: false },
        explain: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    return { code: 2, out: `${(err as Error).message}\n\n${USAGE}` };
  }
  if (values.help) return { code: 0, out: USAGE };
  if (values.explain) {
    const rows = (Object.keys(DEFAULT_ASSUMPTIONS) as (keyof Assumptions)[]).map(
      (k) => `  ${k} = ${String(DEFAULT_ASSUMPTIONS[k])}: ${ASSUMPTION_SOURCES[k]}`,
    );
    return { code: 0, out: ['assumptions (default: source)', ...rows].join('\n') };
  }
  let traffic: Traffic;
  let a: Assumptions;
  let mode: FreeTierMode;
  try {
    if (values.clients === undefined || values['events-per-day'] === undefined) {
      throw new Error('--clients and --events-per-day are required');
    }
    traffic = {
      clients: Math.round(num('clients', values.clients, 0)),
      eventsPerDay: num('events-per-day', values['events-per-day'], 0),
      hoursConnectedPerDay: num('hours-connected-per-day', values['hours-connected-per-day'], 8),
    };
    if (traffic.hoursConnectedPerDay > 24) throw new Error('--hours-connected-per-day: at most 24');
    const d = DEFAULT_ASSUMPTIONS;
    const managed = values['managed-mongodb-monthly'];
    a = {
      ...d,
      lambdaMemoryMb: num('lambda-memory-mb', values['lambda-memory-mb'], d.lambdaMemoryMb),
      fanoutMemoryMb: num('fanout-memory-mb', values['fanout-memory-mb'], d.fanoutMemoryMb),
      fanoutMsPer100: num('fanout-ms-per-100', values['fanout-ms-per-100'], d.fanoutMsPer100),
      slackEventMs: num('slack-event-ms', values['slack-event-ms'], d.slackEventMs),
      wsRouteMs: num('ws-route-ms', values['ws-route-ms'], d.wsRouteMs),
      dropletKbPerConnection: num(
        'kb-per-connection',
        values['kb-per-connection'],
        d.dropletKbPerConnection,
      ),
      dropletBaseMemoryMb: num('droplet-base-mb', values['droplet-base-mb'], d.dropletBaseMemoryMb),
      dropletFdLimit: num('fd-limit', values['fd-limit'], d.dropletFdLimit),
      managedMongoMonthly:
        managed === undefined ? null : num('managed-mongodb-monthly', managed, 0),
      includeLogs: !values['no-logs'],
    };
    const ft = values['free-tier'];
    if (ft !== 'none' && ft !== 'always' && ft !== 'new-account') {
      throw new Error('--free-tier: one of none, always, new-account');
    }
    mode = ft;
  } catch (err) {
    return { code: 2, out: `${(err as Error).message}\n\n${USAGE}` };
  }

  const file = JSON.parse(readFileSync(values.prices ?? PRICES_PATH, 'utf8')) as PricesFile;
  const prices = pricesFromFile(file);
  const free = freeTierFromFile(file, mode);
  const serverless = serverlessCost(traffic, prices, a, free);
  let droplet;
  try {
    droplet = dropletCost(traffic, prices, a, values.droplet);
  } catch (err) {
    return { code: 2, out: (err as Error).message };
  }
  const even = breakEven(traffic, prices, a, free, droplet.monthly);

  if (values.json) {
    return {
      code: 0,
      out: JSON.stringify(
        { traffic, freeTier: mode, serverless, droplet, breakEven: even },
        null,
        2,
      ),
    };
  }
  const w = Math.max(...serverless.lines.map((l) => l.item.length));
  const lines = [
    `traffic: ${traffic.clients} clients, ${traffic.eventsPerDay} events/day, ${traffic.hoursConnectedPerDay} h connected/day; free tier: ${mode}; prices: us-east-1 / DigitalOcean (loadtest/cost/prices.json)`,
    '',
    'serverless (API Gateway + Lambda arm64 + DynamoDB on-demand + SNS), per month:',
    ...serverless.lines.map(
      (l) =>
        `  ${l.item.padEnd(w)}  ${qty(l.quantity).padStart(10)} ${l.unit.padEnd(9)} ${usd(l.monthly).padStart(9)}`,
    ),
    `  ${'total'.padEnd(w)}  ${''.padStart(20)} ${usd(serverless.monthly).padStart(9)}`,
    '',
    `droplet: ${droplet.size?.slug ?? 'none'} (${droplet.reason}); needs ${droplet.needs.memoryMb.toFixed(0)} MB, ${droplet.needs.peakVcpus.toFixed(3)} vCPU at peak, ${droplet.needs.connections} of ${droplet.needs.connectionCeiling} connections`,
    `  ${'total'.padEnd(w)}  ${''.padStart(20)} ${usd(droplet.monthly).padStart(9)}${a.managedMongoMonthly === null ? ' (MongoDB on the droplet)' : ` (incl. managed MongoDB ${usd(a.managedMongoMonthly)})`}`,
    '',
    `break-even (droplet fixed at ${usd(droplet.monthly)}/month):`,
    `  clients at ${traffic.eventsPerDay} events/day: ${crossing(even.clients, 'clients')}`,
    `  events/day at ${traffic.clients} clients: ${crossing(even.eventsPerDay, 'events/day')}`,
  ];
  return { code: 0, out: lines.join('\n') };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { code, out } = runCostCli(process.argv.slice(2));
  (code === 0 ? process.stdout : process.stderr).write(`${out}\n`);
  process.exitCode = code;
}
