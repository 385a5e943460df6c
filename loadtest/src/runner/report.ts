/**
 * Renders `docs/comparison.md` (or `comparison-quick.md`) from the summaries of one compare run:
 * when and where it was measured, headline figures, per-scenario tables, and the charts with
 * their numbers beside them.
 */
import type { ChartSpec } from './charts.js';
import type { Trend } from '@reactometer/devkit';
import type { ModelledAws } from '../model/report-model.js';
import type { StepResult, Summary } from './summary.js';

export interface RunMeta {
  readonly date: string;
  readonly quick: boolean;
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly os: string;
  readonly commit: string;
  readonly command: string;
  readonly wallSeconds: number;
  /** Results folder, relative to docs/. */
  readonly resultsDir: string;
  readonly targets: Readonly<Record<string, Readonly<Record<string, string | number>>>>;
  readonly errors: readonly string[];
}

type Table = { head: string[]; rows: (string | number | null | undefined)[][] };

function table({ head, rows }: Table): string {
  const cell = (v: string | number | null | undefined): string =>
    v === null || v === undefined || v === '' ? '–' : String(v).replace(/\|/g, '\\|');
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

const trend = (
  s: StepResult,
  name: 'ws_connect_ms' | 'delivery_ms' | 'ack_ms',
): Trend | undefined => s.metrics[name] as Trend | undefined;
const count = (s: StepResult, name: string): number | undefined =>
  (s.metrics[name as keyof StepResult['metrics']] as { count?: number } | undefined)?.count;
const fmt = (n: number | undefined | null, digits = 1): string | undefined =>
  n === undefined || n === null || !Number.isFinite(n)
    ? undefined
    : String(Math.round(n * 10 ** digits) / 10 ** digits);
const kib = (b: unknown): string | undefined =>
  typeof b === 'number' ? fmt(b / 1024, 1) : undefined;

/** Droplet x K's name in reports (`droplet-x3`), or null for the other deployments. */
const clusterK = (target: string): number | null => {
  const m = /^droplet-x(\d+)$/.exec(target);
  return m === null ? null : Number(m[1]);
};

/** A deployment's column heading: how its figures were obtained. */
function targetHeading(t: string): string {
  const k = clusterK(t);
  if (k !== null) return `droplet x ${k} (measured)`;
  if (t === 'serverless-local') return 'serverless-local (emulation)';
  if (t === 'droplet') return 'droplet (measured)';
  return t;
}

export function bySize(summaries: readonly Summary[], scenario: string): Map<string, Summary> {
  return new Map(
    summaries
      .filter((s) => s.reactometer.scenario === scenario)
      .map((s) => [s.reactometer.target, s]),
  );
}

export interface Headline {
  readonly target: string;
  readonly maxHeld: number | undefined;
  readonly stoppedAt: string | null | undefined;
  readonly bytesPerIdleConnection: number | undefined;
  readonly bytesMeasuredAt: number | undefined;
  readonly deliveryP99: Readonly<Record<number, number | undefined>>;
}

/** The figures the issue asks for, per target. */
export function headlines(summaries: readonly Summary[], targets: readonly string[]): Headline[] {
  const scaling = bySize(summaries, 'connection-scaling');
  const fan = bySize(summaries, 'fan-out');
  return targets.map((t) => {
    const cs = scaling.get(t);
    const steps = cs?.reactometer.steps ?? [];
    const held = steps.map((s) => Number(s.figures.open ?? 0));
    // Memory per idle connection from the largest step held (the baseline's noise matters least).
    const best = [...steps].sort(
      (a, b) => Number(b.figures.open ?? 0) - Number(a.figures.open ?? 0),
    )[0];
    const deliveryP99: Record<number, number | undefined> = {};
    for (const s of fan.get(t)?.reactometer.steps ?? [])
      deliveryP99[s.size] = trend(s, 'delivery_ms')?.['p(99)'];
    return {
      target: t,
      maxHeld: held.length > 0 ? Math.max(...held) : undefined,
      stoppedAt: cs?.reactometer.stopped,
      bytesPerIdleConnection:
        typeof best?.figures.bytesPerConnection === 'number'
          ? best.figures.bytesPerConnection
          : undefined,
      bytesMeasuredAt: best ? Number(best.figures.open) : undefined,
      deliveryP99,
    };
  });
}

function scenarioTables(summaries: readonly Summary[], targets: readonly string[]): string {
  const out: string[] = [];
  const sc = bySize(summaries, 'connection-scaling');
  if (sc.size > 0) {
    out.push('### connection-scaling', '');
    out.push(
      "Ramp to each step at the target's connection-rate quota, hold, then post one event and check that every held connection received it.",
      '',
    );
    const rows: Table['rows'] = [];
    for (const t of targets)
      for (const s of sc.get(t)?.reactometer.steps ?? []) {
        const c = trend(s, 'ws_connect_ms');
        rows.push([
          t,
          s.size,
          s.figures.open as number,
          s.figures.failed as number,
          s.figures.failures as string,
          fmt(c?.med, 2),
          fmt(c?.['p(99)'], 2),
          s.figures.achievedConnectRate as number,
          `${s.figures.probeDelivered}/${s.figures.probeExpected}`,
          fmt(trend(s, 'delivery_ms')?.['p(99)'], 1),
          s.figures.rssMiB as number,
          kib(s.figures.bytesPerConnection),
        ]);
      }
    out.push(
      table({
        head: [
          'deployment',
          'step',
          'held',
          'failed',
          'failures',
          'connect p50 ms',
          'connect p99 ms',
          'connects/s',
          'probe delivered',
          'probe p99 ms',
          'server RSS MiB',
          'KiB per connection',
        ],
        rows,
      }),
      '',
    );
    out.push(
      'KiB per connection = (server RSS after the hold - RSS before the first step) / connections held; below about 1,000 connections garbage collection moves RSS by more than the connections cost, so small steps can even show negative values.',
      '',
    );
    for (const t of targets) {
      const st = sc.get(t)?.reactometer.stopped;
      out.push(`- **${t}**: ${st ? `stopped ${st}.` : 'held every step.'}`);
    }
    out.push('');
  }
  const fo = bySize(summaries, 'fan-out');
  if (fo.size > 0) {
    out.push('### fan-out', '');
    out.push(
      "Per-client delivery latency from the event POST being sent to the update's receipt (shared wall clock of this machine).",
      '',
    );
    const rows: Table['rows'] = [];
    for (const t of targets)
      for (const s of fo.get(t)?.reactometer.steps ?? []) {
        const d = trend(s, 'delivery_ms');
        rows.push([
          t,
          s.size,
          s.figures.open as number,
          s.figures.eventsSent as number,
          `${s.figures.delivered}/${s.figures.expected}`,
          s.figures.missed as number,
          s.figures.duplicates as number,
          fmt(d?.med),
          fmt(d?.['p(95)']),
          fmt(d?.['p(99)']),
          fmt(d?.max),
          fmt(trend(s, 'ack_ms')?.['p(99)']),
          s.figures.serverCpuMicrosPerDelivery as number,
          s.figures.otherDeploymentCpuMs as number,
        ]);
      }
    out.push(
      table({
        head: [
          'deployment',
          'clients',
          'held',
          'events',
          'delivered',
          'missed',
          'duplicates',
          'p50 ms',
          'p95 ms',
          'p99 ms',
          'max ms',
          'POST ack p99 ms',
          'server CPU µs per delivery',
          'other deployment CPU ms',
        ],
        rows,
      }),
      '',
    );
    for (const t of targets) {
      const st = fo.get(t)?.reactometer.stopped;
      if (st) out.push(`- **${t}**: stopped ${st}.`);
    }
    out.push('');
  }
  const ch = bySize(summaries, 'churn');
  if (ch.size > 0) {
    out.push('### churn', '');
    out.push(
      'Clients connect and disconnect continuously while updates flow; afterwards the server is checked for leaks: established sockets left on its WebSocket port (/proc/net/tcp), descriptors and memory against the baseline before the scenario, `/healthz`, and for serverless the item count of the Connections table (scanned in dynalite).',
      '',
    );
    const rows: Table['rows'] = [];
    for (const t of targets)
      for (const s of ch.get(t)?.reactometer.steps ?? []) {
        const f = s.figures;
        rows.push([
          t,
          s.size,
          f.connectsOpened as number,
          f.connectsFailed as number,
          fmt(trend(s, 'ws_connect_ms')?.['p(99)'], 2),
          f.delivered as number,
          fmt(trend(s, 'delivery_ms')?.['p(99)']),
          f.wsSocketsAfter as number,
          `${f.fdsBaseline} → ${f.fdsAfter}`,
          `${f.rssBaselineMiB} → ${f.rssAfterMiB}`,
          f.connectionRecordsAfter === null ? 'n/a' : (f.connectionRecordsAfter as number),
          f.healthz as string,
          f.leak as string,
        ]);
      }
    out.push(
      table({
        head: [
          'deployment',
          'concurrent',
          'connects',
          'failed',
          'connect p99 ms',
          'deliveries',
          'delivery p99 ms',
          'sockets left on WS port',
          'server fds',
          'server RSS MiB',
          'connection records after',
          '/healthz',
          'leak',
        ],
        rows,
      }),
      '',
    );
  }
  const ing = bySize(summaries, 'ingest');
  if (ing.size > 0) {
    out.push('### ingest', '');
    out.push(
      "Realistic signed Slack events (Zipf emoji, removals, Slack retries) at rising rates, open loop: latency counts from each request's scheduled send time.",
      '',
    );
    const rows: Table['rows'] = [];
    for (const t of targets)
      for (const s of ing.get(t)?.reactometer.steps ?? []) {
        const a = trend(s, 'ack_ms');
        rows.push([
          t,
          s.size,
          s.figures.achievedRate as number,
          s.figures.sent as number,
          count(s, 'ack_failed'),
          s.figures.failures as string,
          fmt(a?.med),
          fmt(a?.['p(95)']),
          fmt(a?.['p(99)']),
          fmt(a?.max),
          s.figures.serverCpuMsPerEvent as number,
          s.figures.otherDeploymentCpuMs as number,
        ]);
      }
    out.push(
      table({
        head: [
          'deployment',
          'rate /s',
          'achieved /s',
          'sent',
          'failed',
          'failures',
          'ack p50 ms',
          'ack p95 ms',
          'ack p99 ms',
          'ack max ms',
          'server CPU ms per event',
          'other deployment CPU ms',
        ],
        rows,
      }),
      '',
    );
    for (const t of targets) {
      const st = ing.get(t)?.reactometer.stopped;
      if (st) out.push(`- **${t}**: stopped ${st}.`);
    }
    out.push('');
  }
  return out.join('\n');
}

function chartSection(charts: readonly ChartSpec[]): string {
  const out: string[] = ['## Charts', ''];
  for (const c of charts) {
    out.push(`### ${c.title}`, '');
    if (c.rows.length === 0) {
      out.push('_No data in this run._', '');
      continue;
    }
    out.push(`![${c.title}](${c.file})`, '');
    const rows = c.rows.map((r) => [r.target, r.series, r.x, fmt(r.y, 2)]);
    out.push(table({ head: ['deployment', 'series', c.xTitle, c.yTitle], rows }), '');
  }
  return out.join('\n');
}

/** The modelled-for-AWS section: the model's table, its check against the stand-in, its assumptions. */
function awsSection(aws: ModelledAws): string {
  const out: string[] = ['## Serverless on AWS (modelled)', ''];
  out.push(
    `**Modelled-for-AWS, not measured**: \`npm run model\` (\`loadtest/src/model/\`) runs the fan-out simulation that the stand-in check below validates, with AWS's quotas and published latencies (\`loadtest/cost/aws-model.json\`, each with its source or marked ASSUMPTION) and the deployed design's defaults. One update is the leading edge (nothing else pending); the sustained figures are at Slack's cap of ${aws.eventsPerSecond} count changes/s.`,
    '',
  );
  out.push(
    table({
      head: [
        'dashboards',
        'workers',
        'p50 ms',
        'p99 ms',
        'finish ms',
        'requests/s (sustained)',
        'busiest second',
        'under throttle',
        'Lambda concurrency',
        'cost/month at that rate',
      ],
      rows: aws.rows.map((r) => [
        r.clients,
        r.workers,
        fmt(r.p50Ms, 0),
        fmt(r.p99Ms, 0),
        fmt(r.finishMs, 0),
        Math.round(r.peakRequestsPerSecond),
        Math.round(r.busiestSecondRequests),
        r.underThrottle ? 'yes' : 'NO',
        r.lambdaConcurrency,
        `$${Math.round(r.monthlyCostUsd).toLocaleString('en-US')}`,
      ]),
    }),
    '',
  );
  out.push('### The model checked against the @connections stand-in', '');
  if (aws.standinCheck === null) {
    out.push(
      `_Not run${aws.standinCheckError ? `: ${aws.standinCheckError}` : ''}._ \`npm run bench -w serverless\` prints it.`,
      '',
    );
  } else {
    out.push(
      "Stand-in: the real sharded fan-out on dynalite against the AWS-like @connections stand-in (injected 20 ms round trip, 2,000/s throttle, 2 workers), and the model given this machine's parameters measured in the same run.",
      '',
      table({
        head: ['connections', 'measured finish ms (stand-in)', 'modelled finish ms', 'error'],
        rows: aws.standinCheck.map((c) => [
          c.connections,
          fmt(c.measuredMs, 0),
          fmt(c.modelledMs, 0),
          `${c.error >= 0 ? '+' : ''}${fmt(c.error * 100, 1)}%`,
        ]),
      }),
      '',
    );
  }
  out.push('### Assumptions of the model', '');
  out.push(
    table({
      head: ['parameter', 'value', 'status', 'unit'],
      rows: aws.assumptions.map((a) => [a.name, a.value, a.status, a.unit]),
    }),
    '',
  );
  return out.join('\n');
}

export function renderReport(
  meta: RunMeta,
  summaries: readonly Summary[],
  charts: readonly ChartSpec[],
  aws?: ModelledAws,
): string {
  const targets = Object.keys(meta.targets);
  const heads = headlines(summaries, targets);
  const fanSizes = [
    ...new Set(
      summaries
        .filter((s) => s.reactometer.scenario === 'fan-out')
        .flatMap((s) => s.reactometer.steps.map((x) => x.size)),
    ),
  ].sort((a, b) => a - b);
  const lines: string[] = [];
  lines.push(`# Droplet vs serverless: measured comparison${meta.quick ? ' (quick run)' : ''}`, '');
  lines.push(
    `Generated by \`${meta.command}\` (\`loadtest/src/compare-cli.ts\`). The local deployments (${targets.join(', ')}) ran in one process group on one machine, and the scenarios ran against them in one run, interleaved step by step (droplet step, serverless step, ...) so that machine noise hits them alike.`,
    '',
  );
  if (meta.quick)
    lines.push(
      '> **Quick run** (CI size: a few hundred clients, seconds per step). It proves the pipeline works; the figures are not the measurement. See [comparison.md](comparison.md) for the full run.',
      '',
    );
  lines.push('## When and where', '');
  lines.push(
    table({
      head: ['', ''],
      rows: [
        ['measured', meta.date],
        [
          'machine',
          `${meta.cores} cores (${meta.cpuModel}), ${meta.memoryGiB} GiB memory, ${meta.os}`,
        ],
        ['Node.js', meta.node],
        ['git commit', meta.commit],
        ['command', `\`${meta.command}\``],
        ['wall time', `${Math.round(meta.wallSeconds)} s`],
        [
          'raw results',
          `[${meta.resultsDir}/](${meta.resultsDir}/) (k6 \`--summary-export\` shape plus a \`reactometer\` block)`,
        ],
      ],
    }),
    '',
  );
  lines.push(
    "Load generator: the Node runner (`loadtest/src/runner/`), client sockets spread over worker processes (at most 5,000 sockets each; 9,000 for droplet x K, whose steps reach tens of thousands, still under the 20,000 open files a process may have here) and 127.0.0.x source addresses (at most 2,500 each), on the same 2 cores as the servers: at thousands of clients part of every latency is the clients' own time to read frames.",
    '',
  );
  lines.push('## What is measured, emulated and modelled', '');
  lines.push(
    [
      '- **Droplet: measured.** The real server process (Express + ws) with FerretDB v1.24.2 on PostgreSQL 15 as its MongoDB, as it would run on a droplet, on this machine. Its connection ceiling here is the WebSocket cap it derives from the open-file limit (a process may open 20,000 files on this machine); on a droplet it would be whatever `ulimit -n`, memory and CPU allow.',
      '- **Droplet x K: measured.** K processes of the same droplet build behind nginx (the load balancer), sharing one FerretDB (on PostgreSQL) and one Redis, which relays each counted change to every process; each process broadcasts to its own dashboards. All of it shares these 2 cores with the load generator, so it measures the design (the cross-process broadcast, nginx in the path, a cap per process) rather than K machines; each process keeps its own connection cap, nginx spends two descriptors per dashboard, and the per-address WebSocket cap is raised for the load run (see "Deployments as run"). Churn and ingest are not played against it: they would measure the same single database and per-process code as the droplet.',
      '- **Serverless: local emulation, measured.** serverless-offline runs API Gateway (HTTP + WebSocket), every Lambda function *in one Node process*, serverless-offline-sns for SNS, and dynalite for DynamoDB. Its latency, throughput, connection ceiling and memory say how the emulator behaves on 2 cores, **not** how API Gateway + Lambda + DynamoDB behave in AWS: there, connections are held by API Gateway (no process of ours pays for them), functions scale out to many execution environments, and the hard limits are quotas (500 new connections/s per account and region, 10-minute idle timeout, 2-hour connection lifetime, account Lambda concurrency).',
      '- **Serverless on AWS: modelled, not measured here.** The "serverless on AWS (modelled)" column and section come from `npm run model` (the fan-out simulation, checked against the AWS-like @connections stand-in, with AWS quotas and published latencies); see [limits.md](limits.md) for the quotas and [cost-model.md](cost-model.md) for the bill. The k6 scripts in `loadtest/k6/` run these same scenarios against a deployed stack.',
      '- "Other deployment CPU ms" is what the deployment *not* under test burned during the step (each step first waits up to 30 s for it to go idle): the serverless emulator keeps working on a backlog (fan-outs, $disconnects) long after its own step, on the same 2 cores. Where it is large, that step measured both.',
      "- Server CPU and memory are read from `/proc` every second for the server's processes: the droplet process plus FerretDB and PostgreSQL; the serverless host process (dynalite) plus serverless-offline and every process it starts.",
      "- **The droplet's database here is a stand-in for MongoDB.** FerretDB v1.24.2 on PostgreSQL (measured here on 2026-12-02 with `npm run bench -w legacy-server -- --phases ack,ceiling`: droplet about 5-6 ms, FerretDB 3-4 ms, PostgreSQL about 2 ms of CPU per Slack event, against 29-32 ms for FerretDB on SQLite, which earlier reports used) shares the 2 cores with everything else, so the droplet's ingest rows are this machine's, not a real MongoDB's (not installable here). Neither dynalite nor FerretDB says anything about DynamoDB or MongoDB in production.",
    ].join('\n'),
    '',
  );
  lines.push('## Headline figures', '');
  lines.push(
    'Every figure says how it was obtained: **measured-here** (this run, on this machine), **emulated** (measured here against the local serverless emulator), **stand-in** (measured here against the AWS-like @connections stand-in), **modelled-for-AWS** (`npm run model`, parameters in `loadtest/cost/aws-model.json`).',
    '',
  );
  const hrows: Table['rows'] = [];
  const heads_ = heads;
  const modelAt = (n: number) => aws?.rows.find((r) => r.clients === n);
  const awsCell = (v: string | undefined) => (aws === undefined ? 'not computed' : v);
  hrows.push([
    'max concurrent connections held (connection-scaling)',
    ...heads_.map((h) =>
      h.maxHeld === undefined
        ? undefined
        : `${h.maxHeld}${h.stoppedAt ? ` (stopped ${h.stoppedAt})` : ''}`,
    ),
    awsCell('held by API Gateway, not by a process of ours (quota: 500 new connections/s)'),
  ]);
  hrows.push([
    'server memory per idle connection',
    ...heads_.map((h) =>
      h.bytesPerIdleConnection === undefined
        ? undefined
        : `${kib(h.bytesPerIdleConnection)} KiB (at ${h.bytesMeasuredAt} connections)`,
    ),
    awsCell('none of ours'),
  ]);
  for (const n of fanSizes) {
    const m = modelAt(n);
    hrows.push([
      `delivery p99 at ${n} clients (fan-out)`,
      ...heads_.map((h) =>
        h.deliveryP99[n] === undefined ? 'not reached' : `${fmt(h.deliveryP99[n])} ms`,
      ),
      awsCell(m === undefined ? undefined : `${fmt(m.p99Ms)} ms (one update)`),
    ]);
  }
  if (aws !== undefined) {
    for (const m of aws.rows.filter((r) => !fanSizes.includes(r.clients)))
      hrows.push([
        `delivery p50 / p99 of one update to ${m.clients.toLocaleString('en-US')} dashboards`,
        ...heads_.map(() => 'not measured'),
        `${fmt(m.p50Ms, 0)} / ${fmt(m.p99Ms, 0)} ms`,
      ]);
    hrows.push([
      `largest N under the API Gateway throttle at Slack's event cap (${aws.eventsPerSecond} events/s)`,
      ...heads_.map((h) =>
        h.target === 'droplet'
          ? 'no API throttle; one process, capped by its open-file limit'
          : clusterK(h.target) !== null
            ? `no API throttle; ${clusterK(h.target)} processes, each capped by its open-file limit, behind nginx (two descriptors per dashboard)`
            : 'the emulator has no throttle',
      ),
      aws.largestUnderThrottle === null
        ? 'beyond 2,000,000'
        : `${aws.largestUnderThrottle.toLocaleString('en-US')} dashboards`,
    ]);
    const c = aws.cost;
    hrows.push([
      `monthly cost, ${c.clients.toLocaleString('en-US')} dashboards, ${c.eventsPerDay.toLocaleString('en-US')} events/day, ${c.hoursConnectedPerDay} h/day (cost model)`,
      ...heads_.map((h) =>
        h.target === 'droplet'
          ? `$${c.droplet.toFixed(2)} (${c.dropletSize ?? 'no size fits'}, priced)`
          : clusterK(h.target) !== null && c.cluster !== null
            ? `$${c.cluster.monthly.toFixed(2)} (${c.cluster.parts}, priced)`
            : 'no bill (emulator)',
      ),
      `$${c.awsCoalesced.toFixed(2)} coalesced ($${c.awsUncoalesced.toFixed(2)} without)`,
    ]);
  }
  lines.push(
    table({
      head: ['figure', ...targets.map(targetHeading), 'serverless on AWS (modelled)'],
      rows: hrows,
    }),
    '',
  );
  if (aws !== undefined) lines.push(awsSection(aws), '');
  lines.push('## Deployments as run', '');
  lines.push(
    table({
      head: ['deployment', 'notes'],
      rows: targets.map((t) => [
        t,
        Object.entries(meta.targets[t] ?? {})
          .map(([k, v]) => `${k}: ${v}`)
          .join('; '),
      ]),
    }),
    '',
  );
  if (meta.errors.length > 0)
    lines.push('## Errors during the run', '', ...meta.errors.map((e) => `- ${e}`), '');
  lines.push('## Scenarios', '', scenarioTables(summaries, targets));
  lines.push(chartSection(charts));
  lines.push('## Reproduce', '');
  lines.push(
    '```sh\nnpm ci && npm run setup\nnpm run compare -- --quick          # CI size, writes docs/comparison-quick.md and docs/results/quick/\nnpm run compare                     # full run, writes docs/comparison.md and docs/results/<timestamp>/\nnpm run compare -- --only fan-out   # a subset of scenarios\nnpm run compare -- --only connection-scaling,fan-out --deployments droplet-x3 --clients 50000\n                                    # 50,000 dashboards on droplet x 3: docs/comparison-droplet-x3-50000.md\n```',
    '',
    'Scenario parameters come from `loadtest/scenarios/scenarios.json` (shared with the k6 scripts).',
    '',
  );
  return lines.join('\n');
}
