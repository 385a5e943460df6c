/**
 * The local serverless stack: dynalite (in this process, or its own for the chaos run) with the
 * tables of infra/tables.yml, ElasticMQ with the inbox queues of infra/inbox.yml, then
 * `serverless offline start` as a child process with serverless-offline-sns delivering the
 * count-changes topic to the fan-out function, and a poller that feeds the inbox queue to the
 * counter function (what Lambda's SQS event source mapping does; serverless-offline has none).
 * No AWS account and no credentials: the child gets dummy keys, and every endpoint points at a
 * local emulator.
 *
 * `startOfflineStack` is what `npm run serverless` (offline-cli.ts) and the tests use.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  createDocumentClient,
  destroyDocumentClient,
  offlineTopicArn,
  tableNames,
  type LambdaLogLevel,
  type TableNames,
} from '@reactometer/serverless';
import { sleep } from '@reactometer/shared/testing';
import { LOCAL_DASHBOARD_ORIGINS } from '@reactometer/shared/auth';
import { freePorts, isPortTaken } from '../ports.js';
import { assertServersAllowed } from '../server-guard.js';
import { SERVERLESS_DIR } from '../workspaces.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startElasticMq, type ElasticMqProcess } from '../elasticmq.js';
import { startDynaliteProcess, type DynaliteProcess } from './dynalite-process.js';
import { startDynalite, type RunningDynalite } from './dynalite-server.js';
import { createInboxQueues, type InboxQueues } from './inbox-queues.js';
import { startSqsPoller, type SqsPoller } from './sqs-poller.js';
import { createTables } from './table-definitions.js';

// The Framework version the service pins (serverless/package.json), resolved from there.
const SERVERLESS_BIN = createRequire(path.join(SERVERLESS_DIR, 'package.json')).resolve(
  'serverless/bin/serverless.js',
);
const EXIT_WITH_PARENT = new URL('./exit-with-parent.mjs', import.meta.url).href;

export interface OfflinePorts {
  readonly http: number;
  readonly ws: number;
  readonly sns: number;
  readonly lambda: number;
  readonly dynalite: number;
}

/** What each port is, and the variable that moves it (for "port in use" messages). */
export const PORT_ROLES: Readonly<
  Record<keyof OfflinePorts, { readonly what: string; readonly variable: string }>
> = {
  http: { what: 'HTTP API', variable: 'OFFLINE_HTTP_PORT' },
  ws: { what: 'WebSocket API', variable: 'OFFLINE_WS_PORT' },
  sns: { what: 'local SNS', variable: 'OFFLINE_SNS_PORT' },
  lambda: { what: 'Lambda invoke API', variable: 'OFFLINE_LAMBDA_PORT' },
  dynalite: { what: 'dynalite', variable: 'DYNALITE_PORT' },
};

export interface StartOfflineStackOptions {
  /** The secret the Slack handler verifies with. */
  readonly signingSecret: string;
  /** Ports to use; any left out gets a free one (tests leave them all out). */
  readonly ports?: Partial<OfflinePorts>;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default `local`: names the tables and topic (`reactometer-local-...`). */
  readonly stage?: string;
  /** Default us-east-1. */
  readonly region?: string;
  /** dynalite's LevelDB directory; omitted: in memory. */
  readonly dynaliteDataDir?: string;
  /** Handlers' log level; default WARN. */
  readonly logLevel?: LambdaLogLevel;
  /**
   * true (default): handlers run inside serverless-offline's process, sharing one module scope.
   * false: one worker thread per concurrent invocation (closer to Lambda's execution environments,
   * with a cold start each, but a burst of N requests loads N bundles at once).
   */
  readonly inProcess?: boolean;
  /** More variables for serverless.yml's `${env:...}` (e.g. FANOUT_CONCURRENCY). */
  readonly env?: Readonly<Record<string, string>>;
  /** Receives every line serverless prints; omitted: only a tail is kept for error messages. */
  readonly onOutput?: (line: string) => void;
  /** Time allowed until the stack answers (default 120 s: the first bundle and cold starts). */
  readonly readyTimeoutMs?: number;
  /**
   * `embedded` (default): dynalite in this process. `process`: its own process, which
   * `killDatabase()` can SIGKILL (the chaos run); with `dynaliteDataDir` its data survives that.
   */
  readonly dynalite?: 'embedded' | 'process';
  /**
   * The inbox queue's visibility timeout, seconds: how soon an event the counter could not apply
   * is tried again. Default: infra/inbox.yml's (60 s, AWS's advice for the counter's timeout); the
   * chaos run and tests shorten it, a tuning of the emulator only.
   */
  readonly inboxVisibilityTimeoutSeconds?: number;
  /**
   * The watchdog: restart serverless offline when it dies on its own, up to this many times in a
   * row without a healthy minute between (default 5; 0 turns it off). One malformed WebSocket
   * frame (invalid UTF-8, an oversized ping) kills the emulator's whole process, a
   * serverless-offline bug that cannot happen on AWS; dynalite and its data stay up meanwhile.
   */
  readonly maxRestarts?: number;
  /** Told of each restart (the launcher prints it). */
  readonly onRestart?: (info: {
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
    readonly restarts: number;
  }) => void;
}

export interface OfflineStack {
  readonly httpUrl: string;
  readonly wsUrl: string;
  /** serverless-offline's `@connections` management API (same port as the WebSocket). */
  readonly managementUrl: string;
  readonly snsUrl: string;
  readonly dynamodbEndpoint: string;
  readonly ports: OfflinePorts;
  readonly stage: string;
  readonly region: string;
  readonly tables: TableNames;
  readonly topicArn: string;
  /** Times the watchdog restarted serverless offline. */
  restarts(): number;
  /**
   * Settles when serverless offline has exited for good: stopped, or dead again after the
   * watchdog's last restart.
   */
  readonly exited: Promise<{
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
  }>;
  /** ElasticMQ's SQS endpoint and the inbox queues. */
  readonly sqsEndpoint: string;
  readonly inbox: InboxQueues;
  /** Invocations of the counter by the poller, messages deleted, messages reported failed. */
  readonly counterStats: { invocations: number; deleted: number; failed: number };
  /** The last lines serverless printed. */
  output(): string;
  /** SIGKILLs the function host (serverless offline) and starts it again on the same ports. */
  restartHost(): Promise<void>;
  /** SIGKILLs dynalite (only with `dynalite: 'process'`). */
  killDatabase(): Promise<void>;
  /** Starts dynalite again on the same port and data (only with `dynalite: 'process'`). */
  startDatabase(): Promise<void>;
  /** Stops the poller, serverless (SIGINT, then SIGKILL after 10 s), ElasticMQ and dynalite. Idempotent. */
  stop(): Promise<void>;
}

/** A port someone else holds. */
export class PortInUseError extends Error {
  readonly ports: readonly { readonly role: keyof OfflinePorts; readonly port: number }[];

  constructor(ports: readonly { readonly role: keyof OfflinePorts; readonly port: number }[]) {
    super(
      ports
        .map(
          ({ role, port }) =>
            `port ${port} (${PORT_ROLES[role].what}) is already in use (set ${PORT_ROLES[role].variable} to move it)`,
        )
        .join('\n'),
    );
    this.name = 'PortInUseError';
    this.ports = ports;
  }
}

/** Resolves the ports to use and fails, naming each one, if an explicit port is taken. */
export async function resolvePorts(
  wanted: Partial<OfflinePorts>,
  host: string,
): Promise<OfflinePorts> {
  const roles = Object.keys(PORT_ROLES) as (keyof OfflinePorts)[];
  const taken: { role: keyof OfflinePorts; port: number }[] = [];
  for (const role of roles) {
    const port = wanted[role];
    if (port !== undefined && (await isPortTaken(port, host))) taken.push({ role, port });
  }
  if (taken.length > 0) throw new PortInUseError(taken);
  const missing = roles.filter((role) => wanted[role] === undefined);
  const free = await freePorts(missing.length, host);
  const out: Record<string, number> = {};
  for (const role of roles) out[role] = wanted[role] ?? free[missing.indexOf(role)]!;
  return out as unknown as OfflinePorts;
}

/** Environment of the serverless child: local endpoints, dummy credentials, no phoning home. */
function childEnv(options: {
  host: string;
  ports: OfflinePorts;
  region: string;
  dynamodbEndpoint: string;
  signingSecret: string;
  logLevel: LambdaLogLevel;
  inProcess: boolean;
  extra: Readonly<Record<string, string>>;
}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Whatever AWS setup this machine has must not leak in: a profile or a session token would
  // make the SDK look for real credentials.
  for (const key of Object.keys(env)) {
    if (key.startsWith('AWS_')) delete env[key];
  }
  return {
    ...env,
    ...options.extra,
    REACTOMETER_TARGET: 'offline',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    // Lambda runs Node 22; the SDK's "upgrade from Node 20" notice is noise on a dev machine.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // Framework v3 must not reach its dashboard, telemetry or update notices.
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    SLS_DEPRECATION_DISABLE: '*',
    OFFLINE_HOST: options.host,
    OFFLINE_HTTP_PORT: String(options.ports.http),
    OFFLINE_WS_PORT: String(options.ports.ws),
    OFFLINE_SNS_PORT: String(options.ports.sns),
    OFFLINE_LAMBDA_PORT: String(options.ports.lambda),
    OFFLINE_IN_PROCESS: options.inProcess ? 'true' : 'false',
    DYNAMODB_ENDPOINT: options.dynamodbEndpoint,
    // The local dashboard (`npm start`, :5173) may open sockets and read across origins.
    ALLOWED_ORIGINS:
      options.extra.ALLOWED_ORIGINS ?? env.ALLOWED_ORIGINS ?? LOCAL_DASHBOARD_ORIGINS,
    // dynalite shares a CPU with everything else here; the functions' 1 s default (right on AWS)
    // is too tight under load. A value set by the caller wins.
    DYNAMODB_REQUEST_TIMEOUT_MS:
      options.extra.DYNAMODB_REQUEST_TIMEOUT_MS ?? env.DYNAMODB_REQUEST_TIMEOUT_MS ?? '3000',
    SLACK_SIGNING_SECRET: options.signingSecret,
    LOG_LEVEL: options.logLevel,
  };
}

/** Keeps the last `max` lines of a stream. */
class Tail {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(
    private readonly max: number,
    private readonly onLine?: (line: string) => void,
  ) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      this.onLine?.(line);
      this.lines.push(line);
      if (this.lines.length > this.max) this.lines.shift();
    }
  }

  toString(): string {
    return [...this.lines, this.partial].join('\n').trim();
  }
}

async function waitUntilReady(
  httpUrl: string,
  child: ChildProcess,
  tail: Tail,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `serverless offline exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail}`,
      );
    }
    try {
      // /healthz answers 200 only when the handler ran and dynalite answered it.
      const res = await fetch(`${httpUrl}/healthz`, { signal: AbortSignal.timeout(10_000) });
      if (res.status === 200) return;
      last = `GET /healthz answered ${res.status}: ${(await res.text()).slice(0, 300)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(250);
  }
  throw new Error(`serverless offline was not ready after ${timeoutMs} ms (${last}):\n${tail}`);
}

/** Starts dynalite and serverless offline, and resolves once `GET /healthz` answers 200. */
export async function startOfflineStack(options: StartOfflineStackOptions): Promise<OfflineStack> {
  assertServersAllowed('the serverless offline stack');
  const host = options.host ?? '127.0.0.1';
  const stage = options.stage ?? 'local';
  const region = options.region ?? 'us-east-1';
  const ports = await resolvePorts(options.ports ?? {}, host);
  const tables = tableNames(stage);

  const embedded: RunningDynalite | null =
    options.dynalite === 'process'
      ? null
      : await startDynalite({
          port: ports.dynalite,
          host,
          ...(options.dynaliteDataDir === undefined ? {} : { dataDir: options.dynaliteDataDir }),
        });
  const ownProcess: DynaliteProcess | null =
    options.dynalite === 'process'
      ? await startDynaliteProcess(tables, {
          port: ports.dynalite,
          ...(options.dynaliteDataDir === undefined ? {} : { dataDir: options.dynaliteDataDir }),
        })
      : null;
  const dynamodbEndpoint = (embedded?.endpoint ?? ownProcess?.endpoint) as string;
  const sqsData = mkdtempSync(path.join(os.tmpdir(), 'reactometer-elasticmq-'));
  let elasticmq: ElasticMqProcess | undefined;
  let poller: SqsPoller | undefined;
  let sqs: SQSClient | undefined;
  let child: ChildProcess | undefined;
  const tail = new Tail(200, options.onOutput);
  let stopping: Promise<void> | undefined;

  const stopHost = async (signal: NodeJS.Signals, graceMs: number): Promise<void> => {
    const running = child;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill(signal);
    const timer = setTimeout(() => running.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.off('exit', killOnExit);
      await poller?.stop();
      await stopHost('SIGINT', 10_000);
      sqs?.destroy();
      await elasticmq?.stop();
      rmSync(sqsData, { recursive: true, force: true });
      await embedded?.stop();
      await ownProcess?.stop();
    })());

  // Last resort if this process exits without calling stop(): never leave serverless unowned.
  const killOnExit = (): void => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null)
      child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  try {
    if (embedded !== null) {
      const client = createDocumentClient({ endpoint: embedded.endpoint, region });
      try {
        await createTables(client, tables);
      } finally {
        destroyDocumentClient(client);
      }
    }
    elasticmq = await startElasticMq({ dataDir: sqsData });
    sqs = new SQSClient({
      region,
      endpoint: elasticmq.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const inbox = await createInboxQueues(
      sqs,
      stage,
      region,
      options.inboxVisibilityTimeoutSeconds,
    );

    const spawnHost = (): ChildProcess => {
      const args = [
        '--import',
        EXIT_WITH_PARENT,
        SERVERLESS_BIN,
        'offline',
        'start',
        '--stage',
        stage,
        '--region',
        region,
      ];
      const started = spawn(process.execPath, args, {
        cwd: SERVERLESS_DIR,
        env: childEnv({
          host,
          ports,
          region,
          dynamodbEndpoint,
          signingSecret: options.signingSecret,
          logLevel: options.logLevel ?? 'WARN',
          inProcess: options.inProcess ?? true,
          extra: {
            ...(options.env ?? {}),
            SQS_ENDPOINT: elasticmq!.endpoint,
            INBOX_QUEUE_URL: inbox.queueUrl,
          },
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      started.stdout?.on('data', (chunk: Buffer) => tail.push(chunk));
      started.stderr?.on('data', (chunk: Buffer) => tail.push(chunk));
      return started;
    };
    child = spawnHost();
    const httpUrl = `http://${host}:${ports.http}`;
    await waitUntilReady(httpUrl, child, tail, options.readyTimeoutMs ?? 120_000);
    poller = startSqsPoller({
      sqs,
      queueUrl: inbox.queueUrl,
      queueArn: inbox.queueArn,
      lambdaEndpoint: `http://${host}:${ports.lambda}`,
      functionName: `reactometer-${stage}-counter`,
    });
    const counterStats = poller.stats;

    // The watchdog: a crash (not a stop) starts serverless again on the same ports.
    const deliberate = new WeakSet<ChildProcess>();
    let watchHost: (proc: ChildProcess) => void = () => undefined;
    const maxRestarts = options.maxRestarts ?? 5;
    let restarts = 0;
    let inARow = 0;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve) => {
        const watch = (proc: ChildProcess, startedAt: number): void => {
          let ended = false;
          const onEnd = (code: number | null, signal: NodeJS.Signals | null): void => {
            if (ended) return;
            ended = true;
            // restartHost() killed it on purpose and watches the host it starts instead.
            if (deliberate.has(proc)) return;
            if (stopping !== undefined || maxRestarts === 0) return resolve({ code, signal });
            // A process that ran a healthy minute starts a new series of restarts.
            inARow = Date.now() - startedAt > 60_000 ? 1 : inARow + 1;
            if (inARow > maxRestarts) return resolve({ code, signal });
            restarts++;
            tail.push(`[watchdog] serverless offline exited (${code ?? signal}); restarting\n`);
            options.onRestart?.({ code, signal, restarts });
            child = spawnHost();
            watch(child, Date.now());
          };
          proc.once('exit', onEnd);
          proc.once('error', () => onEnd(null, null));
        };
        watch(child!, Date.now());
        watchHost = (proc) => watch(proc, Date.now());
      },
    );

    return {
      httpUrl,
      wsUrl: `ws://${host}:${ports.ws}`,
      managementUrl: `http://${host}:${ports.ws}`,
      snsUrl: `http://${host}:${ports.sns}`,
      dynamodbEndpoint,
      ports,
      stage,
      region,
      tables,
      topicArn: offlineTopicArn(stage, region),
      sqsEndpoint: elasticmq.endpoint,
      inbox,
      counterStats,
      exited,
      restarts: () => restarts,
      output: () => tail.toString(),
      restartHost: async () => {
        if (child !== undefined) deliberate.add(child);
        await stopHost('SIGKILL', 0);
        child = spawnHost();
        watchHost(child);
        await waitUntilReady(httpUrl, child, tail, options.readyTimeoutMs ?? 120_000);
      },
      killDatabase: async () => {
        if (ownProcess === null) throw new Error("killDatabase needs dynalite: 'process'");
        await ownProcess.kill();
      },
      startDatabase: async () => {
        if (ownProcess === null) throw new Error("startDatabase needs dynalite: 'process'");
        await ownProcess.start();
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
