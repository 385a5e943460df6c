/**
 * What `npm run model` prints (model-cli.ts is its command line): the AWS model's rows for each
 * N, the sustained figures, the largest N under the throttle, the round-trip sensitivity and the
 * assumption list, as text or JSON.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pricesFromFile, type PricesFile } from '../cost/cost-model.js';
import { PRICES_PATH } from '../cost/cost-cli.js';
import {
  DEFAULT_DESIGN,
  largestUnderThrottle,
  modelAws,
  withRoundTrip,
  type Design,
  type ModelContext,
  type ModelResult,
} from './aws-model.js';
import { describeParameters, loadAwsModelFile, parametersFromFile } from './aws-model-file.js';

export interface ModelOptions {
  readonly clients?: number[];
  readonly eventsPerSecond?: number;
  readonly windowMs?: number;
  readonly workers?: number;
  readonly hoursConnectedPerDay?: number;
  readonly eventsPerDay?: number;
  readonly json?: boolean;
}

export const DEFAULT_CLIENTS = [1_000, 10_000, 100_000, 1_000_000];

/** The model's context for these options: parameters, prices and the design (with overrides). */
export function modelContext(
  options: Pick<ModelOptions, 'windowMs' | 'workers'> = {},
): ModelContext {
  const design: Design = {
    ...DEFAULT_DESIGN,
    ...(options.windowMs === undefined ? {} : { windowMs: options.windowMs }),
    shards: {
      ...DEFAULT_DESIGN.shards,
      ...(options.workers === undefined ? {} : { fixedWorkers: options.workers }),
    },
  };
  return {
    parameters: parametersFromFile(loadAwsModelFile()),
    design,
    prices: pricesFromFile(JSON.parse(readFileSync(PRICES_PATH, 'utf8')) as PricesFile),
  };
}

const ms = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`);
const k = (n: number) =>
  n >= 1_000_000
    ? `${(n / 1e6).toFixed(1)}M`
    : n >= 10_000
      ? `${Math.round(n / 1000)}k`
      : String(Math.round(n));
const usd = (n: number) => `$${n >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2)}`;

/** The JSON `--json` prints: one object per N. */
export function modelRows(
  options: ModelOptions,
  ctx: ModelContext = modelContext(options),
): ModelResult[] {
  const rate = options.eventsPerSecond ?? ctx.parameters.slackEventCap;
  return (options.clients ?? DEFAULT_CLIENTS).map((clients) =>
    modelAws(
      {
        clients,
        eventsPerSecond: rate,
        ...(options.hoursConnectedPerDay === undefined
          ? {}
          : { hoursConnectedPerDay: options.hoursConnectedPerDay }),
        ...(options.eventsPerDay === undefined ? {} : { eventsPerDay: options.eventsPerDay }),
      },
      ctx,
    ),
  );
}

/** The report `npm run model` prints. */
export function modelReport(options: ModelOptions): string {
  const ctx = modelContext(options);
  const rate = options.eventsPerSecond ?? ctx.parameters.slackEventCap;
  const rows = modelRows(options, ctx);
  if (options.json) return JSON.stringify(rows, null, 2);
  const p = ctx.parameters;
  const d = ctx.design;
  const lines: string[] = [
    'MODELLED for AWS (nothing here ran on AWS): the deployed serverless design, parameters from loadtest/cost/aws-model.json and serverless/src/config.ts.',
    `design: coalescing window ${d.windowMs} ms; ${d.concurrency} posts in flight per worker; workers pace to ${d.share * 100}% of the throttle; ${
      d.shards.fixedWorkers === undefined
        ? `a worker per ${d.shards.connectionsPerWorker} connections from ${d.shards.threshold}, at most ${d.shards.maxWorkers}`
        : `${d.shards.fixedWorkers} workers`
    }; fan-out Lambda ${d.fanoutMemoryMb} MB`,
    `traffic: ${rate} count changes/s (Slack's cap per workspace: ${p.slackEventCap}/s); throttle ${p.throttle.ratePerSecond}/s, burst ${p.throttle.burst}`,
    '',
    'one update (nothing else pending), from the count change to the dashboards:',
  ];
  const table = (head: string[], body: string[][]) => {
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
    const row = (r: string[]) => `  ${r.map((c, i) => c.padStart(widths[i]!)).join('  ')}`;
    return [row(head), ...body.map(row)];
  };
  lines.push(
    ...table(
      ['clients', 'workers', 'p50', 'p99', 'finish', 'finish p99'],
      rows.map((r) => [
        k(r.clients),
        String(r.workers),
        ms(r.p50Ms),
        ms(r.p99Ms),
        ms(r.finishMs),
        ms(r.finishP99Ms),
      ]),
    ),
    '',
    `at ${rate} changes/s, sustained:`,
    ...table(
      [
        'clients',
        'updates/s each',
        'fan-out req/s',
        'other req/s',
        'req/s',
        'busiest s',
        'under throttle',
        'Lambda conc.',
        'messages/month',
        'cost/month',
        'without coalescing',
      ],
      rows.map((r) => [
        k(r.clients),
        r.updatesPerDashboardPerSecond.toFixed(2),
        k(r.fanOutRequestsPerSecond),
        k(r.otherRequestsPerSecond),
        k(r.peakRequestsPerSecond),
        k(r.busiestSecondRequests),
        r.underThrottle ? 'yes' : 'NO',
        String(r.lambdaConcurrency),
        `${(r.messagesPerMonth / 1e6).toFixed(0)} M`,
        usd(r.monthlyCostUsd),
        usd(r.monthlyCostUncoalescedUsd),
      ]),
    ),
    `  (req/s: every API Gateway request averaged over a coalescing cycle; busiest s: the most in one second, which the bucket's ${p.throttle.burst} absorb; cost: ${options.eventsPerDay ?? `${rate}/s over ${options.hoursConnectedPerDay ?? 8} h`} a day, us-east-1 prices)`,
  );
  const largest = largestUnderThrottle(rate, ctx);
  lines.push(
    '',
    `largest N under the throttle at ${rate} changes/s: ${largest === null ? 'beyond 2,000,000' : k(largest)} (beyond it, updates plus the dashboards' own pings and reconnects exceed ${p.throttle.ratePerSecond}/s)`,
  );
  lines.push('', 'sensitivity to the PostToConnection round trip (an ASSUMPTION, p99 = 3 x p50):');
  const sens: string[][] = [];
  for (const rtt of [10, 20, 40]) {
    const shifted = { ...ctx, parameters: withRoundTrip(p, rtt) };
    for (const r of modelRows(options, shifted))
      sens.push([`${rtt} ms`, k(r.clients), ms(r.p50Ms), ms(r.p99Ms), ms(r.finishMs)]);
  }
  lines.push(...table(['round trip', 'clients', 'p50', 'p99', 'finish'], sens));
  const file = loadAwsModelFile();
  lines.push(
    '',
    `assumptions and sources (${fileURLToPath(new URL('../../cost/aws-model.json', import.meta.url))
      .split('/')
      .slice(-3)
      .join('/')}):`,
  );
  for (const a of describeParameters(file))
    lines.push(`  ${a.name}: ${a.value} [${a.status.toUpperCase()}] ${a.unit}`);
  return lines.join('\n');
}
