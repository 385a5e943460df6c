/**
 * One k6 VU: a worker thread that evaluates the bundled script in its own node:vm context (only
 * the globals k6 gives a script: console, __ENV, __VU, __ITER, open, timers; no Node APIs), then
 * runs the iterations and lifecycle functions the engine asks for, one at a time, as a k6 VU does.
 *
 * k6 facts modelled here (internal/js/bundle.go, initcontext.go, runner.go):
 * - open() works only in the init context; a relative path is taken from the script's directory
 *   and a `file://` URL is read as a path;
 * - `import.meta.resolve()` gives the file:// URL of a specifier relative to the calling module;
 * - setup() data reaches every iteration as a fresh JSON copy;
 * - samples carry the VU's tags: `scenario` and the scenario's `tags`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { profileFor } from '../k6-versions.js';
import type {
  HttpReply,
  MetricDefinition,
  NetEvent,
  NetRequest,
  SampleMessage,
  Tags,
  VuCommand,
  VuReport,
  WsEvent,
} from '../protocol.js';
import { EventLoop } from './event-loop.js';
import { cryptoModule } from './shims/k6-crypto.js';
import { k6Module } from './shims/k6-core.js';
import { executionModule } from './shims/k6-execution.js';
import { httpModule } from './shims/k6-http.js';
import { metricsModule } from './shims/k6-metrics.js';
import { createTimers, timersModule } from './shims/k6-timers.js';
import { websocketsModule } from './shims/k6-websockets.js';
import type { VuHost, VuState } from './vu-host.js';

export interface VuWorkerData {
  readonly vuId: number;
  readonly profileId: string;
  readonly code: string;
  readonly scriptPath: string;
  readonly env: Record<string, string>;
  /** Consolidated options (JSON) once known; the first init VU has none yet. */
  readonly options: string | null;
  readonly signal: SharedArrayBuffer;
  readonly netEvents: MessagePort;
  readonly netSync: MessagePort;
}

const data = workerData as VuWorkerData;
const port = parentPort as NonNullable<typeof parentPort>;
const profile = profileFor(data.profileId);
const loop = new EventLoop();
const signal = new Int32Array(data.signal);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const options: Record<string, unknown> =
  data.options === null ? {} : (JSON.parse(data.options) as Record<string, unknown>);
let state: VuState | null = null;
let initDone = false;
let iterations = 0;
let nextId = 1;
const pendingSamples: SampleMessage[] = [];
const newMetrics: MetricDefinition[] = [];
const httpHandlers = new Map<number, (reply: HttpReply) => void>();
const wsHandlers = new Map<number, (event: WsEvent) => void>();

function report(msg: VuReport): void {
  port.postMessage(msg);
}

function flush(): void {
  if (pendingSamples.length === 0 && newMetrics.length === 0) return;
  report({ op: 'samples', samples: pendingSamples.splice(0), metrics: newMetrics.splice(0) });
}
setInterval(flush, 200).unref();

const context = vm.createContext({});
const ScriptError = vm.runInContext('Error', context) as ErrorConstructor;
const scriptJson = vm.runInContext('JSON', context) as JSON;

function format(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && 'message' in value && 'stack' in value) {
    return String((value as Error).stack ?? (value as Error).message);
  }
  try {
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  } catch {
    return String(value);
  }
}

const host: VuHost = {
  profile,
  vuId: data.vuId,
  loop,
  options: () => options,
  state: () => state,
  error: (message) => new ScriptError(message),
  send: (req: NetRequest) => data.netEvents.postMessage(req),
  sendSync<T>(req: NetRequest, timeoutMs: number): T {
    flush();
    Atomics.store(signal, 0, 0);
    data.netEvents.postMessage(req);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = receiveMessageOnPort(data.netSync);
      if (got !== undefined) return got.message as T;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new ScriptError(`harness: no answer from the network thread in ${timeoutMs} ms`);
      Atomics.wait(signal, 0, 0, Math.min(left, 1000));
      Atomics.store(signal, 0, 0);
    }
  },
  onHttpReply: (id, handler) => void httpHandlers.set(id, handler),
  onWsEvent: (id, handler) => void wsHandlers.set(id, handler),
  nextId: () => nextId++,
  emit(metric, value, tags = {}) {
    const base: Tags = state?.tags ?? {};
    pendingSamples.push({ metric, value, tags: { ...base, ...tags }, time: Date.now() });
  },
  registerMetric(name, type, contains) {
    newMetrics.push({ name, type, contains });
  },
  log(level, text) {
    report({ op: 'log', level, text });
  },
  abortTest(reason) {
    flush();
    report({ op: 'abort', reason: reason === '' ? 'test aborted' : `test aborted: ${reason}` });
    // k6 interrupts the runtime: nothing after abort() runs. The engine ends this worker.
    for (;;) Atomics.wait(sleeper, 0, 0, 60_000);
  },
  finding(text) {
    report({ op: 'finding', text });
  },
  block(ms) {
    flush();
    Atomics.wait(sleeper, 0, 0, ms);
  },
  flush,
};

data.netEvents.on('message', (event: NetEvent) => {
  if (event.op === 'http') {
    const handler = httpHandlers.get(event.id);
    httpHandlers.delete(event.id);
    handler?.(event);
  } else {
    const handler = wsHandlers.get(event.id);
    if (event.kind === 'failed' || event.kind === 'closed') wsHandlers.delete(event.id);
    handler?.(event);
  }
});

let markedFailed = false;
const timers = createTimers(host);
const websockets = websocketsModule(host);
const modules: Record<string, () => Record<string, unknown>> = {
  k6: () => k6Module(host),
  'k6/http': () => httpModule(host),
  'k6/metrics': () => metricsModule(host),
  'k6/crypto': () => cryptoModule(host),
  'k6/execution': () =>
    executionModule(host, {
      markFailed: (reason) => {
        if (!markedFailed) report({ op: 'log', level: 'error', text: `marked failed: ${reason}` });
        markedFailed = true;
      },
    }),
  'k6/timers': () => timersModule(timers),
  'k6/websockets': () => websockets.module,
};
const loaded = new Map<string, Record<string, unknown>>();

const scriptDir = path.dirname(data.scriptPath);
const consoleObject = Object.fromEntries(
  (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) => [
    level,
    (...args: unknown[]) =>
      report({
        op: 'log',
        level: level === 'log' ? 'info' : level,
        text: args.map(format).join(' '),
      }),
  ]),
);
const globals: Record<string, unknown> = {
  console: consoleObject,
  __ENV: scriptJson.parse(JSON.stringify(data.env)),
  __VU: data.vuId,
  __ITER: 0,
  setTimeout: timers.setTimeout,
  clearTimeout: timers.clearTimeout,
  setInterval: timers.setInterval,
  clearInterval: timers.clearInterval,
  open(file: unknown, mode?: unknown): unknown {
    if (initDone) {
      throw new ScriptError(
        'the "open" function is only available in the init stage (i.e. the global scope), see https://grafana.com/docs/k6/latest/using-k6/test-lifecycle/ for more information',
      );
    }
    const name = String(file);
    if (name === '') throw new ScriptError("open() can't be used with an empty filename");
    const resolved = name.startsWith('file://')
      ? fileURLToPath(name)
      : path.resolve(scriptDir, name);
    const bytes = readFileSync(resolved);
    return mode === 'b'
      ? bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
      : bytes.toString('utf8');
  },
  require(): never {
    throw new ScriptError('require() is not modelled by the harness: use ES module imports');
  },
};
for (const [k, v] of Object.entries(globals)) {
  Object.defineProperty(context, k, {
    value: v,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
Object.defineProperty(context, '__k6_require', {
  value: (name: string) => {
    const existing = loaded.get(name);
    if (existing !== undefined) return existing;
    const make = modules[name];
    if (make === undefined) throw new ScriptError(`unknown module: ${name}`);
    const mod = make();
    loaded.set(name, mod);
    return mod;
  },
});
Object.defineProperty(context, '__k6_importMetaResolve', {
  value: (moduleUrl: string, specifier: string) => new URL(String(specifier), moduleUrl).href,
});

function failureText(error: unknown): string {
  return format(error);
}

process.on('unhandledRejection', (reason) =>
  loop.fail(new ScriptError(`Uncaught (in promise) ${format(reason)}`)),
);
process.on('uncaughtException', (error) => loop.fail(error));

let exportsObject: Record<string, unknown> = {};
try {
  vm.runInContext(data.code, context, { filename: data.scriptPath });
  exportsObject = (vm.runInContext('__k6_script', context) ?? {}) as Record<string, unknown>;
  initDone = true;
  const exported = exportsObject['options'];
  flush();
  report({
    op: 'initDone',
    exports: Object.keys(exportsObject),
    options: exported === undefined ? '{}' : JSON.stringify(exported),
    metrics: [],
  });
} catch (e) {
  report({ op: 'initFailed', error: failureText(e) });
}

/**
 * After the function has returned (its promise settled), what is still registered keeps the
 * iteration alive in k6 until it finishes or the scenario's hard stop interrupts it. Past this
 * long that is almost always a socket the script forgot (or failed) to close: reported as a
 * finding, while the iteration itself goes on as in k6.
 */
const LINGER_FINDING_MS = 5000;

/** Runs a function on the event loop until idle; returns the error text or null. */
async function runOnLoop(
  fn: () => unknown,
  what: string,
): Promise<{ error: string | null; value: unknown }> {
  loop.reset();
  let value: unknown;
  let linger: NodeJS.Timeout | null = null;
  const watchLinger = (): void => {
    linger = setTimeout(() => {
      host.finding(
        `VU ${data.vuId}: ${what} returned ${LINGER_FINDING_MS / 1000} s ago but ${loop.outstanding} callback(s) ` +
          `are still registered (${websockets.openCount()} WebSocket(s) not closed); k6 keeps the iteration ` +
          `running until they finish or the scenario's maxDuration + gracefulStop interrupts it`,
      );
    }, LINGER_FINDING_MS);
    linger.unref();
  };
  loop.run(() => {
    const result = fn();
    if (
      result !== null &&
      typeof result === 'object' &&
      typeof (result as Promise<unknown>).then === 'function'
    ) {
      void (result as Promise<unknown>).then(
        (v) => {
          value = v;
          watchLinger();
        },
        (e: unknown) => loop.fail(e),
      );
    } else {
      value = result;
      watchLinger();
    }
  });
  await loop.untilIdle();
  if (linger !== null) clearTimeout(linger);
  const failure = loop.failed;
  if (failure !== null) {
    // The iteration's context ends: open sockets are closed normally, timers stop; k6 then waits
    // for what is still registered (WaitOnRegistered) before the VU runs anything else.
    timers.stopAll();
    websockets.closeAll();
    await Promise.race([loop.untilIdle(true), new Promise((r) => setTimeout(r, 10_000).unref())]);
    return { error: failureText(failure.error), value: undefined };
  }
  return { error: null, value };
}

port.on('message', (cmd: VuCommand) => {
  void (async () => {
    if (cmd.op === 'iterate') {
      const fn = exportsObject[cmd.fn];
      iterations++;
      state = {
        stage: 'iteration',
        scenario: cmd.scenario,
        iterationInInstance: iterations - 1,
        iterationInScenario: cmd.iterationInScenario,
        instance: cmd.instance,
        tags: { ...cmd.scenario.tags, scenario: cmd.scenario.name },
      };
      (context as Record<string, unknown>)['__ITER'] = iterations - 1;
      const argument = cmd.data === null ? undefined : scriptJson.parse(cmd.data);
      const started = performance.now();
      const { error } = await runOnLoop(() => {
        if (typeof fn !== 'function')
          throw new ScriptError(`function '${cmd.fn}' not found in exports`);
        return (fn as (d: unknown) => unknown)(argument);
      }, `${cmd.fn}() of scenario ${cmd.scenario.name}`);
      const durationMs = performance.now() - started;
      host.emit('iterations', 1);
      host.emit('iteration_duration', durationMs);
      state = null;
      flush();
      report({ op: 'iterationDone', error, durationMs });
      return;
    }
    const fn = exportsObject[cmd.fn];
    state = {
      stage: cmd.fn,
      scenario: null,
      iterationInInstance: 0,
      iterationInScenario: 0,
      instance: {
        currentTestRunDuration: 0,
        iterationsCompleted: 0,
        iterationsInterrupted: 0,
        vusActive: 0,
        vusInitialized: 0,
      },
      tags: {},
    };
    const argument = cmd.arg === null ? undefined : scriptJson.parse(cmd.arg);
    const { error, value } = await runOnLoop(
      () => (fn as (d: unknown) => unknown)(argument),
      `${cmd.fn}()`,
    );
    state = null;
    flush();
    let result: string | null = null;
    if (error === null && value !== undefined) {
      try {
        result = scriptJson.stringify(value) ?? null;
      } catch (e) {
        report({
          op: 'callDone',
          error: `${cmd.fn}() returned a value that is not JSON: ${format(e)}`,
          result: null,
        });
        return;
      }
    }
    report({ op: 'callDone', error, result });
  })();
});
