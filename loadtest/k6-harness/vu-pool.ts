/**
 * The engine's side of the worker threads: builds the VU and network worker code once per
 * process (esbuild, so it runs the same under tsx, Jest or plain node), starts the network
 * worker, and creates, reuses and ends VUs as k6's execution state does (VU ids grow from 1 in
 * initialisation order; 0 is the VU that runs init for options, setup, teardown and
 * handleSummary, each time a fresh one).
 */
import { build } from 'esbuild';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type {
  NetControl,
  SampleMessage,
  MetricDefinition,
  VuCommand,
  VuReport,
} from './protocol.js';
import type { VuWorkerData } from './vu/vu-worker.js';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

let workerCode: Promise<{ vu: string; net: string }> | null = null;

async function bundleWorker(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'silent',
    // Optional native helpers of `ws`; it falls back to JavaScript without them.
    external: ['bufferutil', 'utf-8-validate'],
  });
  return (result.outputFiles[0] as { text: string }).text;
}

function code(): Promise<{ vu: string; net: string }> {
  workerCode ??= Promise.all([
    bundleWorker(here('./vu/vu-worker.ts')),
    bundleWorker(here('./net-worker.ts')),
  ]).then(([vu, net]) => ({ vu, net }));
  return workerCode;
}

export interface VuEvents {
  samples(samples: SampleMessage[], metrics: MetricDefinition[]): void;
  log(vu: number, level: string, text: string): void;
  abort(vu: number, reason: string): void;
  finding(vu: number, text: string): void;
}

/** Thrown when a VU's worker ended (interrupted) while a call was outstanding. */
export class VuGoneError extends Error {
  readonly code = 'vu_gone';
  constructor(message: string) {
    super(message);
    this.name = 'VuGoneError';
  }
}

export class NetWorker {
  private constructor(private readonly worker: Worker) {}

  static async start(): Promise<NetWorker> {
    const { net } = await code();
    const worker = new Worker(net, { eval: true });
    worker.unref();
    return new NetWorker(worker);
  }

  control(msg: NetControl, transfer: readonly MessagePort[] = []): void {
    this.worker.postMessage(msg, transfer as MessagePort[]);
  }

  async stop(): Promise<void> {
    this.control({ op: 'stop' });
    await this.worker.terminate();
  }
}

export interface VuInit {
  readonly exports: string[];
  readonly options: string;
}

export class VuHandle {
  dead = false;
  private pending: {
    resolve: (r: VuReport) => void;
    reject: (e: Error) => void;
  } | null = null;

  private constructor(
    readonly id: number,
    private readonly worker: Worker,
    private readonly net: NetWorker,
  ) {}

  /** Starts a VU worker and runs the script's init context in it. */
  static async create(
    id: number,
    net: NetWorker,
    setup: Omit<VuWorkerData, 'vuId' | 'signal' | 'netEvents' | 'netSync'>,
    events: VuEvents,
  ): Promise<{ vu: VuHandle; init: VuInit }> {
    const { vu: vuCode } = await code();
    const eventsChannel = new MessageChannel();
    const syncChannel = new MessageChannel();
    const signal = new SharedArrayBuffer(8);
    net.control(
      { op: 'attach', vu: id, events: eventsChannel.port1, sync: syncChannel.port1, signal },
      [eventsChannel.port1, syncChannel.port1],
    );
    const data: VuWorkerData = {
      ...setup,
      vuId: id,
      signal,
      netEvents: eventsChannel.port2,
      netSync: syncChannel.port2,
    };
    const worker = new Worker(vuCode, {
      eval: true,
      workerData: data,
      transferList: [eventsChannel.port2, syncChannel.port2],
    });
    const vu = new VuHandle(id, worker, net);
    const init = await new Promise<VuInit>((resolve, reject) => {
      worker.on('message', (msg: VuReport) => {
        switch (msg.op) {
          case 'samples':
            events.samples(msg.samples, msg.metrics);
            return;
          case 'log':
            events.log(id, msg.level, msg.text);
            return;
          case 'abort':
            events.abort(id, msg.reason);
            return;
          case 'finding':
            events.finding(id, msg.text);
            return;
          case 'initDone':
            resolve({ exports: msg.exports, options: msg.options });
            return;
          case 'initFailed':
            reject(new Error(msg.error));
            return;
          default:
            vu.settle(msg);
        }
      });
      worker.on('error', (e) => {
        reject(e);
        vu.gone(`VU ${id} crashed: ${String(e)}`);
      });
      worker.on('exit', () => {
        reject(new VuGoneError(`VU ${id} exited during init`));
        vu.gone(`VU ${id} was interrupted`);
      });
    });
    return { vu, init };
  }

  private settle(msg: VuReport): void {
    const p = this.pending;
    this.pending = null;
    p?.resolve(msg);
  }

  private gone(reason: string): void {
    if (!this.dead) {
      this.dead = true;
      this.net.control({ op: 'detach', vu: this.id });
    }
    const p = this.pending;
    this.pending = null;
    p?.reject(new VuGoneError(reason));
  }

  /** Sends a command; resolves with its report, or rejects when the VU is killed meanwhile. */
  run(cmd: VuCommand): Promise<VuReport> {
    if (this.dead) return Promise.reject(new VuGoneError(`VU ${this.id} is gone`));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(cmd);
    });
  }

  /** Interrupts the VU (k6 interrupts the JS runtime); its sockets are closed by the network worker. */
  async kill(): Promise<void> {
    this.gone(`VU ${this.id} was interrupted`);
    await this.worker.terminate();
  }
}
