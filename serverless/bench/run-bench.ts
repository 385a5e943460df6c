/**
 * Serverless fan-out benchmarks (`npm run bench -w serverless`): prints figures, asserts nothing.
 * Everything runs against the AWS-like @connections STAND-IN (devkit/src/aws-standins) with the
 * real code: the senders, `createShardedFlush`/`runSegment`, the registry on dynalite. The
 * stand-in and dynalite run in processes of their own, so the CPU figures are the sender's.
 *
 *   1. Senders, A/B in the same run (lean, SDK, lean, SDK, ...): posts/s and CPU µs per post at
 *      concurrency 64 against a stand-in that answers at once and never throttles.
 *   2. One update to 1k, 10k and 50k connections with 1..S workers, the stand-in at AWS's
 *      default throttle (10,000/s, burst 5,000) and a 20 ms round trip: time to finish,
 *      delivery p50/p99, 429s answered and retried, and coverage (every id once, none twice).
 *   3. The model against the stand-in (the same check as loadtest's integration test): measured
 *      vs modelled time to finish for 1k, 10k and 50k, within ±25%?
 *
 * The workers of a flush run in this process (Lambda would give each its own CPU), so rows with
 * several workers share one core here: read them for throttling and coverage, and the model
 * section for what it predicts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCommand, listOption, numberOption, runCli } from '@reactometer/cli';
import type { LatencyDistribution } from '@reactometer/devkit';
import type { ModelCheck, SenderRound } from '@reactometer/devkit/aws-standins';

interface Flags {
  readonly rounds?: number;
  readonly posts?: number;
  readonly clients?: number[];
  readonly workers?: number[];
  readonly latencyMs?: number;
  readonly quick?: boolean;
}

const program = createCommand(
  'npm run bench -w serverless',
  'Serverless fan-out benchmarks against the AWS-like @connections stand-in: sender CPU per post (lean vs SDK v3), delivery of one update to N connections with 1..S workers, and the model checked against the stand-in. Prints figures, asserts nothing.',
)
  .option(
    '--rounds <n>',
    'A/B rounds per sender (default 5; quick 2)',
    numberOption({ integer: true, min: 1, max: 50 }),
  )
  .option(
    '--posts <n>',
    'posts per sender round (default 20000; quick 5000)',
    numberOption({ integer: true, min: 100 }),
  )
  .option(
    '--clients <list>',
    'connection counts (default 1000,10000,50000; quick 1000,5000)',
    listOption(numberOption({ integer: true, min: 1, max: 200_000 })),
  )
  .option(
    '--workers <list>',
    'workers per flush (default 1,2,4,8; quick 1,4)',
    listOption(numberOption({ integer: true, min: 1, max: 64 })),
  )
  .option(
    '--latency-ms <ms>',
    'median PostToConnection round trip of the stand-in (p99 = 3x; default 20)',
    numberOption({ above: 0, max: 10_000 }),
  )
  .option('--quick', 'a short run (2 rounds, 1k and 5k connections, 1 and 4 workers)');

const AWS_THROTTLE = { ratePerSecond: 10_000, burst: 5_000 };
const SHARE = 0.95;
const CONCURRENCY = 64;

const r1 = (n: number) => Math.round(n * 10) / 10;

async function main(flags: Flags): Promise<void> {
  // Loaded here, not at the top: `--help` and a usage error answer at once.
  const { describeLatency, percentile, REPO_ROOT } = await import('@reactometer/devkit');
  const { checkModelAgainstStandin, MODEL_CHECK_DEFAULTS, startFanOutRig } =
    await import('@reactometer/devkit/aws-standins');
  const median = (xs: readonly number[]) => percentile(Float64Array.from(xs), 50);
  const quick = flags.quick === true;
  const rounds = flags.rounds ?? (quick ? 2 : 5);
  const posts = flags.posts ?? (quick ? 5_000 : 20_000);
  const clients = flags.clients ?? (quick ? [1_000, 5_000] : [1_000, 10_000, 50_000]);
  const workers = flags.workers ?? (quick ? [1, 4] : [1, 2, 4, 8]);
  const p50 = flags.latencyMs ?? 20;
  const latency: LatencyDistribution = { kind: 'lognormal', p50Ms: p50, p99Ms: p50 * 3 };
  const load = os.loadavg()[0]!.toFixed(2);
  console.log(
    `serverless fan-out bench: ${os.cpus().length} cores (load ${load}), node ${process.version}; against the @connections STAND-IN (not AWS)`,
  );

  const rig = await startFanOutRig({ latency: { kind: 'fixed', ms: 0 }, rateLimit: null });
  try {
    // 1. Senders, alternated A/B so that the machine's noise hits both alike.
    console.log(
      `\n[1/3] senders: ${posts} posts per round, concurrency ${CONCURRENCY}, stand-in answering at once, no throttle; ${rounds} rounds each, alternated`,
    );
    await rig.populate(Math.max(...clients, CONCURRENCY));
    const byKind: Record<'lean' | 'sdk', SenderRound[]> = { lean: [], sdk: [] };
    // A warm-up round each (JIT, sockets), not counted.
    await rig.senderRound('lean', Math.min(posts, 5_000), CONCURRENCY);
    await rig.senderRound('sdk', Math.min(posts, 2_000), CONCURRENCY);
    for (let r = 0; r < rounds; r++) {
      for (const kind of r % 2 === 0 ? (['lean', 'sdk'] as const) : (['sdk', 'lean'] as const))
        byKind[kind].push(await rig.senderRound(kind, posts, CONCURRENCY));
    }
    const senders = (['lean', 'sdk'] as const).map((kind) => ({
      sender: kind === 'lean' ? 'lean (aws4 + undici)' : 'SDK v3 client',
      'posts/s (median)': Math.round(median(byKind[kind].map((x) => x.postsPerSecond))),
      'CPU µs/post (median)': r1(median(byKind[kind].map((x) => x.cpuUsPerPost))),
      'CPU µs/post (best)': r1(Math.min(...byKind[kind].map((x) => x.cpuUsPerPost))),
      'CPU µs/post (rounds)': byKind[kind].map((x) => r1(x.cpuUsPerPost)).join(' '),
    }));
    console.table(senders);
    const ratio =
      median(byKind.sdk.map((x) => x.cpuUsPerPost)) /
      median(byKind.lean.map((x) => x.cpuUsPerPost));
    console.log(`SDK / lean CPU per post: ${r1(ratio)}x`);

    // 2. One update to N connections with 1..S workers at AWS's default throttle.
    console.log(
      `\n[2/3] one update to N connections, stand-in at AWS's default throttle (${AWS_THROTTLE.ratePerSecond}/s, burst ${AWS_THROTTLE.burst}), round trip ${describeLatency(latency)}; workers pace to ${SHARE * 100}% of it (and one row per N without the limiter)`,
    );
    await rig.standin.setLatency(latency);
    await rig.setRateLimit(AWS_THROTTLE);
    const deliveries: Record<string, unknown>[] = [];
    for (const n of clients) {
      await rig.populate(n);
      const rows: { w: number; share: number | null }[] = [
        ...workers.map((w) => ({ w, share: SHARE })),
        { w: Math.max(...workers), share: null },
      ];
      for (const { w, share } of rows) {
        const run = await rig.flush({ workers: w, share, concurrency: CONCURRENCY });
        deliveries.push({
          connections: n,
          workers: w,
          limiter: share === null ? 'off' : `${share * 100}%`,
          'finish ms': Math.round(run.finishMs),
          'p50 ms': Math.round(percentile(run.deliveryMs, 50)),
          'p99 ms': Math.round(percentile(run.deliveryMs, 99)),
          '429 answered': run.standin.throttled,
          '429 retried': run.summary.throttled,
          failed: run.summary.failed,
          'delivered twice': run.standin.deliveredTwice,
          'never delivered': run.standin.neverDelivered,
          'CPU µs/post': r1((run.cpuMs * 1000) / n),
        });
        console.log(JSON.stringify(deliveries.at(-1)));
      }
    }
    console.table(deliveries);

    // 3. The model against the stand-in.
    const d = MODEL_CHECK_DEFAULTS;
    console.log(
      `\n[3/3] the model vs the stand-in: ${d.workers} workers, stand-in throttle ${d.throttle.ratePerSecond}/s burst ${d.throttle.burst}, round trip ${describeLatency(d.latency)}; model within ±${d.tolerance * 100}% of the measured time to finish?`,
    );
    const checks: ModelCheck[] = [];
    for (const n of clients) {
      await rig.populate(n);
      checks.push(await checkModelAgainstStandin(rig, { connections: n }));
    }
    console.table(
      checks.map((c) => ({
        connections: c.connections,
        workers: c.workers,
        'measured finish ms': Math.round(c.measured.finishMs),
        'model finish ms': Math.round(c.modelled.finishMs),
        error: `${c.finishError >= 0 ? '+' : ''}${r1(c.finishError * 100)}%`,
        'within ±25%': c.withinTolerance,
        'measured p50/p99 ms': `${Math.round(c.measured.p50Ms)}/${Math.round(c.measured.p99Ms)}`,
        'model p50/p99 ms': `${Math.round(c.modelled.p50Ms)}/${Math.round(c.modelled.p99Ms)}`,
        '429s': c.throttled429,
        'CPU µs/post': r1(c.parameters.cpuUsPerPost),
        'core share': Math.round(c.parameters.cpuShare * 100) / 100,
        'scan ms/page': r1(c.parameters.scanMsPerPage),
      })),
    );

    const out = path.join(REPO_ROOT, 'test-artifacts', 'bench');
    mkdirSync(out, { recursive: true });
    const file = path.join(out, 'serverless.json');
    writeFileSync(
      file,
      `${JSON.stringify(
        {
          measuredAt: new Date().toISOString(),
          machine: { cores: os.cpus().length, loadAverage: os.loadavg() },
          standin: 'AWS-like @connections stand-in (devkit/src/aws-standins), not AWS',
          senders: byKind,
          senderRatio: ratio,
          deliveries,
          modelChecks: checks,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`\nraw figures: ${path.relative(REPO_ROOT, file)}`);
  } finally {
    await rig.stop();
  }
}

await runCli<Flags>(program, (flags) => main(flags));
