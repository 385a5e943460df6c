/**
 * The k6 harness itself: that its shims behave as the modelled k6 versions do (checked with small
 * scripts against a real local WebSocket/HTTP server), that it refuses what those versions lack,
 * and that its CLI answers like a command-line tool. The project's own scripts are run against the
 * real deployments in k6-scripts-run.integration.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { runK6Script } from '../k6-harness/engine.js';
import { arrivalTimes, parseSegment, scale } from '../k6-harness/executors.js';
import type { RunResult } from '../k6-harness/engine.js';
import { K6_PROFILES, profileFor, UnmodelledVersionError } from '../k6-harness/k6-versions.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = mkdtempSync(path.join(os.tmpdir(), 'k6-harness-fixtures-'));

function fixture(name: string, source: string): string {
  const file = path.join(fixtures, name);
  writeFileSync(file, source);
  return file;
}

async function run(
  script: string,
  version: string,
  env: Record<string, string> = {},
  extra: { abortOnFinding?: boolean; newMachineReadableSummary?: boolean } = {},
): Promise<RunResult & { lines: string[]; stdout: string[] }> {
  const lines: string[] = [];
  const stdout: string[] = [];
  const result = await runK6Script({
    scriptPath: script,
    k6Version: version,
    env,
    onLog: (l) => lines.push(l.text),
    onStdout: (t) => stdout.push(t),
    maxRunMs: 60_000,
    ...extra,
  });
  return { ...result, lines, stdout };
}

/** A WebSocket + HTTP server on 127.0.0.1 whose handshakes can be slowed or refused. */
let server: http.Server;
let base = '';
let handshake: 'ok' | 'slow' | 'refuse' = 'ok';
let held: http.ServerResponse | null = null;

beforeAll(async () => {
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${String(m)}`)));
  server = http.createServer((req, res) => {
    if (req.url === '/wait') {
      held = res; // answered when /release arrives
      return;
    }
    if (req.url === '/release') {
      held?.end('released');
      held = null;
    }
    res.end('ok');
  });
  server.on('upgrade', (req, socket, head) => {
    if (handshake === 'refuse') {
      socket.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const accept = (): void =>
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    if (handshake === 'slow') setTimeout(accept, 400);
    else accept();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('k6 versions', () => {
  it('maps versions to the two modelled profiles and refuses the rest', () => {
    expect(profileFor('2.2').id).toBe('1.6-2.2');
    expect(profileFor('1.6.0').id).toBe('1.6-2.2');
    expect(profileFor('v2.3.0').id).toBe('2.3+');
    expect(profileFor('2.3+').id).toBe('2.3+');
    expect(() => profileFor('1.5')).toThrow(UnmodelledVersionError);
    expect(() => profileFor('1.5')).toThrow(/k6\/websockets needs k6 >= 1.6.0/);
    expect(() => profileFor('latest')).toThrow(UnmodelledVersionError);
    expect(K6_PROFILES.map((p) => p.wsReadyStateConstants)).toEqual([false, true]);
  });

  it.each(['2.2', '2.3'])(
    'fails the bundle on a module k6 %s lacks or the harness does not model',
    async (v) => {
      for (const [module, reason] of [
        ['k6/experimental/redis', /removed/],
        ['k6/net/grpc', /does not model/],
        ['k6/no-such-module', /has no module/],
        ['lodash', /not a k6 module/],
      ] as const) {
        const script = fixture(
          `import-${module.replace(/\W/g, '_')}.js`,
          `import * as m from '${module}';\nexport default function () { console.log(typeof m); }\n`,
        );
        const r = await run(script, v);
        expect({ module, exit: r.exitCode }).toEqual({ module, exit: 107 });
        expect(r.errors.join('\n')).toMatch(reason);
      }
    },
  );
});

describe('k6/websockets', () => {
  const constants = fixture(
    'ws-constants.js',
    `import { WebSocket } from 'k6/websockets';
export const options = { scenarios: { s: { executor: 'per-vu-iterations', vus: 1, iterations: 1, maxDuration: '20s' } } };
export default function () {
  const ws = new WebSocket(\`ws://\${__ENV.HOST}/\`);
  console.log('static OPEN=' + String(WebSocket.OPEN) + ' instance OPEN=' + String(ws.OPEN) + ' readyState=' + typeof ws.readyState + ':' + ws.readyState);
  try { ws.send('too early'); } catch (e) { console.log('send while connecting: ' + e.message); }
  ws.onopen = () => { console.log('open readyState=' + ws.readyState); ws.send('hi'); };
  ws.onmessage = (e) => { console.log('message ' + e.data + ' at ' + typeof e.timestamp); ws.close(); };
  ws.onclose = () => console.log('closed readyState=' + ws.readyState);
}
`,
  );

  it('has no ready-state constants before 2.3, numeric readyState, send throws unless open', async () => {
    handshake = 'ok';
    const old = await run(constants, '2.2', { HOST: base });
    expect(old.exitCode).toBe(0);
    expect(old.lines).toEqual(
      expect.arrayContaining([
        'static OPEN=undefined instance OPEN=undefined readyState=number:0',
        'send while connecting: InvalidStateError',
        'open readyState=1',
        'message echo:hi at number',
        'closed readyState=3',
      ]),
    );
    const current = await run(constants, '2.3', { HOST: base });
    expect(current.exitCode).toBe(0);
    expect(current.lines).toContain('static OPEN=1 instance OPEN=1 readyState=number:0');
  });

  const closeWhileConnecting = fixture(
    'ws-close-connecting.js',
    `import { WebSocket } from 'k6/websockets';
export const options = { scenarios: { s: { executor: 'per-vu-iterations', vus: 1, iterations: 1, maxDuration: '20s' } } };
export default function () {
  const ws = new WebSocket(\`ws://\${__ENV.HOST}/\`);
  ws.onopen = () => console.log('open fired');
  ws.close();
  console.log('close returned, readyState=' + ws.readyState);
  ws.onclose = () => console.log('closed');
}
`,
  );

  it('blocks close() on a CONNECTING socket until the handshake ends, and fires no open', async () => {
    handshake = 'slow';
    const r = await run(closeWhileConnecting, '2.2', { HOST: base });
    expect(r.exitCode).toBe(0);
    expect(r.lines).toContain('close returned, readyState=2');
    expect(r.lines).toContain('closed');
    expect(r.lines).not.toContain('open fired');
  });

  it('reports the VU blocked forever when the handshake of a socket closed while connecting fails', async () => {
    handshake = 'refuse';
    const r = await run(closeWhileConnecting, '2.3', { HOST: base }, { abortOnFinding: true });
    expect(r.exitCode).not.toBe(0);
    expect(r.findings.join('\n')).toMatch(/blocks this VU forever/);
    expect(r.lines).not.toContain('close returned, readyState=2');
  });
});

describe('k6 runtime rules', () => {
  it('enforces the init context, isolates VUs and blocks sync HTTP per VU only', async () => {
    handshake = 'ok';
    const script = fixture(
      'runtime.js',
      `import http from 'k6/http';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
import { sleep } from 'k6';
const data = open('./runtime-data.txt');
let perVu = 0;
const c = new Counter('my_counter');
export const options = {
  scenarios: {
    waiter: { executor: 'per-vu-iterations', vus: 1, iterations: 1, exec: 'waiter', maxDuration: '20s' },
    releaser: { executor: 'per-vu-iterations', vus: 1, iterations: 1, exec: 'releaser', startTime: '1s', maxDuration: '20s' },
  },
  thresholds: { my_counter: ['count==2'] },
};
export function setup() {
  try { exec.scenario.name; } catch (e) { console.log('setup scenario: ' + e.message); }
  return { file: data.trim() };
}
export function waiter(d) {
  try { open('./runtime-data.txt'); } catch (e) { console.log('open in VU: ' + e.message.slice(0, 60)); }
  try { new Counter('late'); } catch (e) { console.log('metric in VU: ' + e.message); }
  perVu++;
  const res = http.get(\`http://\${__ENV.HOST}/wait\`, { timeout: '10s' });
  console.log('waiter got ' + res.status + ' ' + res.body + ' file=' + d.file + ' perVu=' + perVu + ' typeof process=' + typeof process);
  c.add(1);
}
export function releaser() {
  perVu += 10;
  sleep(0.1);
  console.log('releaser perVu=' + perVu);
  http.get(\`http://\${__ENV.HOST}/release\`);
  c.add(1);
}
`,
    );
    writeFileSync(path.join(fixtures, 'runtime-data.txt'), 'from-init\n');
    const r = await run(script, '2.2', { HOST: base });
    expect(r.exitCode).toBe(0);
    expect(r.lines).toEqual(
      expect.arrayContaining([
        'setup scenario: getting scenario information outside of the VU context is not supported',
        'open in VU: the "open" function is only available in the init stage (i.e',
        'metric in VU: metrics must be declared in the init context',
        // The waiter's sync request is answered only after the releaser's: a sync request
        // blocks its own VU, not the others. Module state is per VU.
        'waiter got 200 released file=from-init perVu=1 typeof process=undefined',
        'releaser perVu=10',
      ]),
    );
    expect(r.thresholds).toEqual([{ key: 'my_counter', source: 'count==2', ok: true }]);
  });

  it('ends a setup() that outlives setupTimeout with exit 100, and a throwing teardown() with 107', async () => {
    const script = fixture(
      'lifecycle.js',
      `import { sleep } from 'k6';
export const options = { setupTimeout: '1s' };
export function setup() { if (__ENV.SLOW_SETUP === '1') sleep(30); }
export default function () {}
export function teardown() { throw new Error('teardown broke'); }
`,
    );
    const slow = await run(script, '2.3', { SLOW_SETUP: '1' });
    expect(slow.exitCode).toBe(100);
    expect(slow.iterations.completed).toBe(0);
    const broken = await run(script, '2.3');
    expect(broken.exitCode).toBe(107);
    expect(broken.errors.join('\n')).toMatch(/teardown broke/);
  });

  it('refuses thresholds on unknown metrics or with a malformed expression (exit 104)', async () => {
    for (const thresholds of [
      "{ nope: ['count==0'] }",
      "{ iterations: ['p(99)<5'] }",
      "{ iterations: ['count=0'] }",
    ]) {
      const script = fixture(
        'bad-threshold.js',
        `export const options = { thresholds: ${thresholds} };\nexport default function () {}\n`,
      );
      const r = await run(script, '2.3');
      expect({ thresholds, exit: r.exitCode }).toEqual({ thresholds, exit: 104 });
    }
  });

  it('fails thresholds over the run and aborts on abortOnFail; hands handleSummary both summary shapes', async () => {
    const script = fixture(
      'thresholds.js',
      `import { Counter } from 'k6/metrics';
const bad = new Counter('bad_things');
export const options = {
  scenarios: { s: { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '3s', preAllocatedVUs: 2, maxVUs: 2 } },
  thresholds: { bad_things: ['count==0'], 'bad_things{kind:worse}': [{ threshold: 'count<1', abortOnFail: true }] },
  summaryTrendStats: ['avg', 'p(99)', 'count'],
};
export default function () { bad.add(1, { kind: __ENV.KIND }); }
export function handleSummary(data) { return { stdout: JSON.stringify(data) }; }
`,
    );
    const legacy = await run(script, '2.2', { KIND: 'mild' });
    expect(legacy.exitCode).toBe(99);
    expect(legacy.aborted).toBeNull();
    const data = JSON.parse(legacy.stdout.join('')) as {
      metrics: Record<
        string,
        { thresholds?: Record<string, { ok: boolean }>; values: Record<string, number> }
      >;
    };
    expect(data.metrics['bad_things']?.thresholds).toEqual({ 'count==0': { ok: false } });
    expect(data.metrics['bad_things{kind:worse}']?.thresholds).toEqual({ 'count<1': { ok: true } });
    expect(Object.keys(data.metrics['iteration_duration']?.values ?? {})).toEqual([
      'avg',
      'p(99)',
      'count',
    ]);

    const aborted = await run(script, '2.2', { KIND: 'worse' });
    expect(aborted.exitCode).toBe(99);
    expect(aborted.aborted).toMatch(/abortOnFail/);

    const mr = await run(script, '2.3', { KIND: 'mild' }, { newMachineReadableSummary: true });
    const shape = JSON.parse(mr.stdout.join('')) as Record<string, unknown>;
    expect(Object.keys(shape).sort()).toEqual(['config', 'metadata', 'results', 'version']);
    expect(shape['metrics']).toBeUndefined();
  });
});

describe('executors', () => {
  it('places arrival-rate iterations by integrating the rate over the stages', () => {
    expect(arrivalTimes(2, [{ durationMs: 2000, target: 2 }], 1000)).toEqual([0, 500, 1000, 1500]);
    // 0 -> 10/s over 2 s: 10 iterations, the k-th when the area under the ramp reaches k.
    const ramp = arrivalTimes(0, [{ durationMs: 2000, target: 10 }], 1000);
    expect(ramp).toHaveLength(10);
    expect(ramp[4]).toBeCloseTo(1000 * Math.sqrt(4 / 2.5), 6);
    expect(scale(1, parseSegment('0:1/2')) + scale(1, parseSegment('1/2:1'))).toBe(1);
    expect(scale(5, parseSegment('0:1/2')) + scale(5, parseSegment('1/2:1'))).toBe(5);
  });

  it('runs ramping executors and interrupts an iteration at maxDuration + gracefulStop', async () => {
    const script = fixture(
      'executors.js',
      `import exec from 'k6/execution';
import { sleep } from 'k6';
export const options = {
  scenarios: {
    arrivals: { executor: 'ramping-arrival-rate', startRate: 0, timeUnit: '1s', preAllocatedVUs: 2, maxVUs: 2, stages: [{ duration: '2s', target: 10 }], exec: 'quick' },
    looping: { executor: 'ramping-vus', startVUs: 1, stages: [{ duration: '1s', target: 2 }, { duration: '1s', target: 0 }], gracefulRampDown: '1s', exec: 'slow' },
    stuck: { executor: 'per-vu-iterations', vus: 1, iterations: 1, maxDuration: '1s', gracefulStop: '1s', exec: 'stuck' },
  },
};
export function quick() { console.log('arrival ' + exec.scenario.iterationInTest); }
export function slow() { sleep(0.2); }
export function stuck() { sleep(30); console.log('never'); }
`,
    );
    const r = await run(script, '2.3');
    expect(r.lines.filter((l) => l.startsWith('arrival '))).toHaveLength(10);
    expect(r.lines).not.toContain('never');
    expect(r.iterations.interrupted).toBe(1);
    expect(r.exitCode).toBe(0);
  });
});

describe('k6-harness CLI', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'loadtest/k6-harness/cli.ts', ...args], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('prints usage for --help and exits 0', () => {
    const r = cli(['run', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: npm run k6 run \[options\] <script>/);
    expect(r.stdout).toMatch(/--k6-version/);
  }, 60_000);

  it.each([
    [['run', 'x.ts', '--no-such-flag'], /unknown option '--no-such-flag'/],
    [['run', 'x.ts', '--k6-version', '1.5'], /k6 1.5 is not modelled/],
    [['run', 'x.ts', '-e', 'NOEQUALS'], /"NOEQUALS" is not KEY=VALUE/],
    [['launch'], /unknown command 'launch'/],
  ])(
    'rejects %j with one line and exit 2',
    (args, message) => {
      const r = cli(args);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    },
    60_000,
  );
});
