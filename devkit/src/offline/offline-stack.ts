/**
 * The local serverless stack: dynalite (in this process) with the tables of infra/tables.yml,
 * then `serverless offline start` as a child process with serverless-offline-sns delivering the
 * count-changes topic to the fan-out function. No AWS account and no credentials: the child gets
 * dummy keys, and every endpoint points at a local emulator.
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
import { startDynalite, type RunningDynalite } from './dynalite-server.js';
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
  /** The last lines serverless printed. */
  output(): string;
  /** Stops serverless (SIGINT, then SIGKILL after 10 s) and dynalite. Idempotent. */
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

  const dynalite: RunningDynalite = await startDynalite({
    port: ports.dynalite,
    host,
    ...(options.dynaliteDataDir === undefined ? {} : { dataDir: options.dynaliteDataDir }),
  });
  let child: ChildProcess | undefined;
  const tail = new Tail(200, options.onOutput);
  let stopping: Promise<void> | undefined;

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.off('exit', killOnExit);
      if (child !== undefined && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
        child.kill('SIGINT');
        const timer = setTimeout(() => child!.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await dynalite.stop();
    })());

  // Last resort if this process exits without calling stop(): never leave serverless unowned.
  const killOnExit = (): void => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null)
      child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  try {
    const client = createDocumentClient({ endpoint: dynalite.endpoint, region });
    try {
      await createTables(client, tables);
    } finally {
      destroyDocumentClient(client);
    }

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
    const env = childEnv({
      host,
      ports,
      region,
      dynamodbEndpoint: dynalite.endpoint,
      signingSecret: options.signingSecret,
      logLevel: options.logLevel ?? 'WARN',
      inProcess: options.inProcess ?? true,
      extra: options.env ?? {},
    });
    const spawnServerless = (): ChildProcess => {
      const started = spawn(process.execPath, args, {
        cwd: SERVERLESS_DIR,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      started.stdout?.on('data', (chunk: Buffer) => tail.push(chunk));
      started.stderr?.on('data', (chunk: Buffer) => tail.push(chunk));
      return started;
    };
    child = spawnServerless();
    const httpUrl = `http://${host}:${ports.http}`;
    await waitUntilReady(httpUrl, child, tail, options.readyTimeoutMs ?? 120_000);

    // The watchdog: a crash (not a stop) starts serverless again on the same ports.
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
            if (stopping !== undefined || maxRestarts === 0) return resolve({ code, signal });
            // A process that ran a healthy minute starts a new series of restarts.
            inARow = Date.now() - startedAt > 60_000 ? 1 : inARow + 1;
            if (inARow > maxRestarts) return resolve({ code, signal });
            restarts++;
            tail.push(`[watchdog] serverless offline exited (${code ?? signal}); restarting\n`);
            options.onRestart?.({ code, signal, restarts });
            child = spawnServerless();
            watch(child, Date.now());
          };
          proc.once('exit', onEnd);
          proc.once('error', () => onEnd(null, null));
        };
        watch(child!, Date.now());
      },
    );

    return {
      httpUrl,
      wsUrl: `ws://${host}:${ports.ws}`,
      managementUrl: `http://${host}:${ports.ws}`,
      snsUrl: `http://${host}:${ports.sns}`,
      dynamodbEndpoint: dynalite.endpoint,
      ports,
      stage,
      region,
      tables,
      topicArn: offlineTopicArn(stage, region),
      exited,
      restarts: () => restarts,
      output: () => tail.toString(),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
