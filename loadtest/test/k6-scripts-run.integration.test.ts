/**
 * Every k6 script's quick scenario, run under the k6 harness against both real local
 * deployments (droplet on FerretDB, serverless-offline on dynalite) for each modelled k6 version,
 * checked for what a load tester relies on (k6-expectations.ts); then faults and planted bugs of
 * each kind issue 13 found, to see the scripts fail where they must and the checks catch the bugs.
 *
 * Quick forms: tiny client counts and seconds-long holds through the scripts' own environment
 * overrides (idle-keepalive's 10-minute idle and 2-hour limits compressed to seconds). The two
 * k6 versions of a script run side by side against the same deployment, with their own run ids.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  leftoverProbes,
  loadTesterViolations,
  nonProbeCounts,
  plantBugs,
  runScript,
} from './support/k6-expectations.js';
import type { Expectations, Mutation, ScriptRun } from './support/k6-expectations.js';
import { startHttpFaultProxy, startWsFaultProxy } from './support/k6-faults.js';
import { startK6Target } from './support/k6-targets.js';
import type { K6Target, K6TargetName } from './support/k6-targets.js';

const VERSIONS = ['2.2', '2.3'] as const;
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The quick form of each script, and what it must show. */
const SCRIPTS: Record<
  string,
  { env: Record<string, string>; expect: Omit<Expectations, 'target'> }
> = {
  'fan-out.ts': {
    env: {
      QUICK: '1',
      CLIENTS: '20',
      CONNECT_TIMEOUT_MS: '2000',
      DELIVERY_TIMEOUT_SECONDS: '2',
      EVENTS: '3',
    },
    expect: { scenario: 'fan-out', sockets: true, probes: true },
  },
  'connection-scaling.ts': {
    env: { QUICK: '1', STEPS: '10', CONNECT_TIMEOUT_MS: '2000' },
    expect: { scenario: 'connection-scaling', sockets: true, probes: true },
  },
  'churn.ts': {
    env: {
      QUICK: '1',
      CONCURRENT_CLIENTS: '10',
      CONNECTION_LIFETIME_SECONDS: '1,2',
      DURATION_SECONDS: '3',
      SETTLE_SECONDS: '1',
      CONNECT_TIMEOUT_MS: '2000',
    },
    expect: { scenario: 'churn', sockets: true, probes: true },
  },
  'ingest.ts': {
    env: { QUICK: '1', RATES: '5,10', STEP_SECONDS: '2' },
    expect: { scenario: 'ingest', sockets: false, probes: false },
  },
  'idle-keepalive.ts': {
    // 10-minute idle timeout and 2-hour limit compressed: a ping a second over 6 s.
    env: {
      CLIENTS: '5',
      DURATION_SECONDS: '6',
      PING_INTERVAL_SECONDS: '1',
      PROBE_INTERVAL_SECONDS: '2',
      DELIVERY_WINDOW_MS: '2000',
      CONNECT_TIMEOUT_MS: '2000',
    },
    expect: { scenario: 'idle-keepalive', sockets: true, probes: true, pingsPerSocket: 3 },
  },
};

function spec(script: string): (typeof SCRIPTS)[string] {
  const found = SCRIPTS[script];
  if (found === undefined) throw new Error(`no quick form for ${script}`);
  return found;
}

let runIds = 0;
const runId = (): string => `t${Date.now().toString(36).slice(-6)}${(runIds++).toString(36)}`;

/**
 * Runs a script under each modelled version, side by side or (on the slower serverless stack,
 * which shares this machine's two cores with the harness) one after the other.
 */
async function runVersions(
  target: K6Target,
  script: string,
  together: boolean,
): Promise<{ version: string; run: ScriptRun; id: string }[]> {
  const quick = spec(script);
  const one = async (version: string) => {
    const id = runId();
    const run = await runScript(script, version, { ...target.env, ...quick.env, RUN_ID: id });
    return { version, run, id };
  };
  if (together) return Promise.all(VERSIONS.map(one));
  const runs = [];
  for (const version of VERSIONS) runs.push(await one(version));
  return runs;
}

function describeMatrix(name: K6TargetName): void {
  describe(`k6 scripts against ${name}`, () => {
    let target: K6Target;
    beforeAll(async () => {
      target = await startK6Target(name);
    }, 240_000);
    afterAll(async () => {
      await target?.stop();
    }, 60_000);

    it.each(Object.keys(SCRIPTS))(
      `%s quick scenario runs clean under k6 ${VERSIONS.join(' and ')}`,
      async (script) => {
        const quick = spec(script);
        const before = await nonProbeCounts(target.httpUrl);
        const runs = await runVersions(target, script, name === 'droplet');
        for (const { version, run } of runs) {
          expect({
            version,
            violations: loadTesterViolations(run, { ...quick.expect, target: name }),
          }).toEqual({ version, violations: [] });
        }
        for (const { id } of runs) {
          expect({ id, left: await leftoverProbes(target.httpUrl, id) }).toEqual({ id, left: [] });
        }
        if (quick.expect.probes) {
          // Teardown removed the probes: every other count is where it was (ingest's load is
          // real traffic, not removed).
          expect(await nonProbeCounts(target.httpUrl)).toEqual(before);
        }
      },
      240_000,
    );
  });
}

describeMatrix('droplet');
describeMatrix('serverless-local');

describe('k6 scripts under faults and planted bugs (droplet)', () => {
  let target: K6Target;
  beforeAll(async () => {
    target = await startK6Target('droplet');
  }, 240_000);
  afterAll(async () => {
    await target?.stop();
  }, 60_000);

  const fanOut = spec('fan-out.ts');
  const fanOutExpect: Expectations = { ...fanOut.expect, target: 'droplet' };

  it('WebSocket.OPEN in a script: no socket is sent to or closed under k6 1.6-2.2 (fine on 2.3+)', async () => {
    const planted = plantBugs([
      { file: 'lib/ws-client.ts', from: 'READY_STATE.OPEN', to: 'WebSocket.OPEN' },
      { file: 'lib/ws-client.ts', from: 'READY_STATE.CONNECTING', to: 'WebSocket.CONNECTING' },
    ]);
    const plantedRun = (script: string, version: string, stopAtFinding: boolean) =>
      runScript(
        script,
        version,
        { ...target.env, ...spec(script).env, RUN_ID: runId() },
        { scriptsDir: planted, abortOnFinding: stopAtFinding },
      );
    const violations = (run: ScriptRun, script: string): string =>
      loadTesterViolations(run, {
        ...spec(script).expect,
        target: 'droplet',
      }).join('\n');
    const [fanOutOld, fanOutCurrent, churnOld, idleOld] = await Promise.all([
      plantedRun('fan-out.ts', '2.2', true),
      plantedRun('fan-out.ts', '2.3', false),
      plantedRun('churn.ts', '2.2', true),
      plantedRun('idle-keepalive.ts', '2.2', true),
    ]);
    // fan-out: no getReactions, and the receivers' sockets outlive their iteration.
    expect(violations(fanOutOld, 'fan-out.ts')).toMatch(
      /still registered \(20 WebSocket\(s\) not closed\)/,
    );
    expect(violations(fanOutOld, 'fan-out.ts')).toMatch(/0 WebSocket message\(s\) sent/);
    // churn "churns" without closing anything.
    expect(violations(churnOld, 'churn.ts')).toMatch(/WebSocket\(s\) not closed/);
    // idle-keepalive sends no ping: on AWS the idle timeout would close every client.
    expect(violations(idleOld, 'idle-keepalive.ts')).toMatch(/0 WebSocket message\(s\) sent/);
    expect(violations(fanOutCurrent, 'fan-out.ts')).toEqual('');
  }, 180_000);

  it('a missed delivery fails the run', async () => {
    // The 5th connection hears nothing after its handshake: open, but never gets the probes.
    const proxy = await startWsFaultProxy(target.wsUrl, { silence: 4 });
    try {
      const r = await runScript('fan-out.ts', '2.2', {
        ...target.env,
        ...fanOut.env,
        WS_URL: proxy.url,
        RUN_ID: runId(),
      });
      expect(proxy.applied()).toBeGreaterThan(0);
      expect(r.result.exitCode).toBe(99);
      expect(r.result.thresholds).toEqual(
        expect.arrayContaining([{ key: 'deliveries_missed', source: 'count==0', ok: false }]),
      );
      expect(r.summary?.metrics['deliveries_missed']?.['count']).toBe(3);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  const failedRead: Mutation = {
    file: 'lib/ws-client.ts',
    from: "deliveriesMissed.add(unverified, { ...this.opts.tags, reason: 'probes_unreadable' });\n      return unverified;",
    to: 'return 0;',
  };

  it('a failed probe read fails the run (planted: recording it as nothing passes silently)', async () => {
    const outcome = async (scriptsDir?: string): Promise<ScriptRun> => {
      // The receiver's three read attempts fail; teardown's read (later) succeeds.
      const proxy = await startHttpFaultProxy(target.httpUrl, { failReactionReads: 3 });
      try {
        return await runScript(
          'fan-out.ts',
          '2.2',
          { ...target.env, ...fanOut.env, HTTP_URL: proxy.url, RUN_ID: runId() },
          scriptsDir === undefined ? {} : { scriptsDir },
        );
      } finally {
        await proxy.close();
      }
    };
    const fixed = await outcome();
    expect(fixed.result.exitCode).toBe(99);
    expect(fixed.summary?.metrics['deliveries_missed']?.['count']).toBe(20);
    const planted = await outcome(plantBugs([failedRead]));
    expect(planted.result.exitCode).toBe(0); // the bug: nothing tells the tester
    expect(planted.summary?.metrics['deliveries_missed']?.['count']).toBe(0);
  }, 180_000);

  it('a client dropped before a probe is not counted missed (planted: the old since-open rule is)', async () => {
    const scaling = spec('connection-scaling.ts');
    const outcome = async (scriptsDir?: string): Promise<ScriptRun> => {
      const proxy = await startWsFaultProxy(target.wsUrl, {
        drop: { connection: 2, afterMs: 500 },
      });
      try {
        const r = await runScript(
          'connection-scaling.ts',
          '2.3',
          { ...target.env, ...scaling.env, WS_URL: proxy.url, RUN_ID: runId() },
          scriptsDir === undefined ? {} : { scriptsDir },
        );
        expect(proxy.applied()).toBe(1);
        return r;
      } finally {
        await proxy.close();
      }
    };
    const fixed = await outcome();
    expect(fixed.result.exitCode).toBe(0);
    expect(fixed.summary?.metrics['deliveries_missed']?.['count']).toBe(0);
    const planted = await outcome(
      plantBugs([
        {
          file: 'lib/ws-client.ts',
          from: 'if (r.closedMs > 0 && r.closedMs <= p.sentMs) continue;',
          to: '',
        },
      ]),
    );
    expect(planted.result.exitCode).toBe(99);
    expect(planted.summary?.metrics['deliveries_missed']?.['count']).toBe(1);
  }, 180_000);

  it('an offered rate below its label fails ingest (planted: without the dropped_iterations threshold it passes)', async () => {
    const outcome = async (scriptsDir?: string): Promise<ScriptRun> => {
      // A deployment answering in 1.5 s: 10 VUs at most cannot start 20 iterations a second.
      const proxy = await startHttpFaultProxy(target.httpUrl, { delayEventsMs: 1500 });
      try {
        return await runScript(
          'ingest.ts',
          '2.3',
          {
            ...target.env,
            HTTP_URL: proxy.url,
            RATES: '20',
            STEP_SECONDS: '2',
            MAX_VUS_PER_RATE: '0.1',
            ACK_P99_MS: '10000',
          },
          scriptsDir === undefined ? {} : { scriptsDir },
        );
      } finally {
        await proxy.close();
      }
    };
    const fixed = await outcome();
    expect(fixed.summary?.metrics['dropped_iterations']?.['count']).toBeGreaterThan(0);
    expect(fixed.result.exitCode).toBe(99);
    expect(fixed.result.thresholds.filter((t) => !t.ok).map((t) => t.key)).toEqual([
      'dropped_iterations',
      'dropped_iterations{scenario:ingest_0_20}',
    ]);
    const planted = await outcome(
      plantBugs([
        { file: 'ingest.ts', from: "t['dropped_iterations'] = ['count==0'];", to: '' },
        {
          file: 'ingest.ts',
          from: "t[`dropped_iterations{scenario:${scenarioName(index, rate)}}`] = ['count==0'];",
          to: '',
        },
      ]),
    );
    expect(planted.summary?.metrics['dropped_iterations']?.['count']).toBeGreaterThan(0);
    expect(planted.result.exitCode).toBe(0);
  }, 180_000);

  it('handleSummary writes the summary under --new-machine-readable-summary (planted: it throws)', async () => {
    const env = {
      ...target.env,
      ...spec('ingest.ts').env,
      RATES: '5',
    };
    const fixed = await runScript('ingest.ts', '2.3', env, { newMachineReadableSummary: true });
    expect(fixed.result.handleSummaryError).toBeNull();
    expect(fixed.summary?.reactometer.thresholdsKnown).toBe(false);
    expect(fixed.summary?.metrics['ack_ms']?.['count']).toBeUndefined(); // not in that shape
    expect(fixed.summary?.metrics['ack_ms']?.['p(95)']).toEqual(expect.any(Number));
    const planted = await runScript('ingest.ts', '2.3', env, {
      newMachineReadableSummary: true,
      scriptsDir: plantBugs([
        {
          file: 'lib/summary.ts',
          from: 'machineReadable ? fromMachineReadable(raw) : raw',
          to: '(raw as SummaryData)',
        },
      ]),
    });
    expect(planted.result.handleSummaryError).toMatch(/TypeError/);
    expect(planted.summary).toBeNull();
  }, 120_000);

  it('TARGET=aws waits 2 s after a connect before expecting a probe (eventually consistent scans)', async () => {
    const r = await runScript('fan-out.ts', '2.3', {
      ...target.env,
      ...fanOut.env,
      TARGET: 'aws',
      CLIENTS: '5',
      RUN_ID: runId(),
    });
    expect(r.summary?.reactometer.params['connectGraceMs']).toBe(2000);
    expect(loadTesterViolations(r, { ...fanOutExpect, target: 'aws' })).toEqual([]);
  }, 120_000);

  it('two k6-operator runners each tear down only their own probes; counts end where they started', async () => {
    const before = await nonProbeCounts(target.httpUrl);
    const runners = async (
      id: string,
      scriptsDir?: string,
      driverEnv: Record<string, string> = {},
    ): Promise<ScriptRun[]> =>
      Promise.all(
        ['0:1/2', '1/2:1'].map((segment) =>
          runScript(
            'fan-out.ts',
            '2.3',
            {
              ...target.env,
              ...fanOut.env,
              PARALLELISM: '2',
              RUN_ID: id,
              ...(segment === '1/2:1' ? driverEnv : {}),
            },
            { executionSegment: segment, ...(scriptsDir === undefined ? {} : { scriptsDir }) },
          ),
        ),
      );
    const removed = (runs: ScriptRun[]): string[] =>
      runs.map(
        (r) =>
          r.result.logs
            .find((l) => l.text.startsWith('removed '))
            ?.text.replace(/ of run \S+/, '') ?? 'no teardown log',
      );
    const id = runId();
    const fixed = await runners(id);
    // Each runner got half the receivers; the driver VU (vus: 1) landed on the second runner.
    fixed.forEach((r, i) =>
      expect(loadTesterViolations(r, { ...fanOutExpect, acks: i === 1 })).toEqual([]),
    );
    expect(removed(fixed)).toEqual([
      'removed 0/0 probe reactions runner r0',
      'removed 3/3 probe reactions runner r5000',
    ]);
    expect(await leftoverProbes(target.httpUrl, id)).toEqual([]);
    expect(await nonProbeCounts(target.httpUrl)).toEqual(before);
    // Planted: teardown removing every probe of the run, whoever sent it. The driver's runner
    // keeps its probes here so the other runner's teardown surely sees them.
    const planted = await runners(
      runId(),
      plantBugs([
        {
          file: 'lib/probes.ts',
          from: 'runProbes(res.body, run.runId, undefined, run.origin)',
          to: 'runProbes(res.body, run.runId, undefined)',
        },
      ]),
      { KEEP_PROBES: '1' },
    );
    expect(removed(planted)[0]).toBe('removed 3/3 probe reactions runner r0');
  }, 180_000);

  it('the operator recipe cuts a parsable JSON summary out of mixed runner logs', async () => {
    const readme = readFileSync(path.join(repoRoot, 'loadtest/k6-operator/README.md'), 'utf8');
    const cut = /kubectl logs [^|\n]+\| (sed -n '[^']+')/.exec(readme)?.[1];
    expect(cut).toBeDefined();
    // A runner's log: the harness CLI with SUMMARY_FILE=stdout, stdout and stderr in one stream.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'k6-operator-log-'));
    const log = path.join(dir, 'runner.log');
    const env = Object.entries({
      ...target.env,
      ...spec('ingest.ts').env,
      RATES: '5',
      SUMMARY_FILE: 'stdout',
    })
      .map(([k, v]) => `-e ${k}=${v}`)
      .join(' ');
    const shell = spawnSync(
      'bash',
      [
        '-c',
        `node --import tsx loadtest/k6-harness/cli.ts run loadtest/k6/ingest.ts --k6-version 2.2 --include-system-env-vars false ${env} > ${log} 2>&1; cat ${log} | ${cut as string}`,
      ],
      { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 },
    );
    expect(readFileSync(log, 'utf8')).toMatch(/INFO\[/); // the log really is mixed
    const summary = JSON.parse(shell.stdout) as { reactometer: { scenario: string } };
    expect(summary.reactometer.scenario).toBe('ingest');
    writeFileSync(path.join(dir, 'summary.json'), shell.stdout);
  }, 180_000);
});
