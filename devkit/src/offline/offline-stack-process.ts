/**
 * The offline stack in a process of its own (offline-host.ts), so that a measurement samples what
 * the stack runs (dynalite, serverless-offline and whatever it spawns) apart from the process that
 * drives the load.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { assertServersAllowed } from '../server-guard.js';

const HOST_FILE = fileURLToPath(new URL('./offline-host.ts', import.meta.url));

export interface OfflineStackProcess {
  readonly pid: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly dynamodbEndpoint: string;
  /** Items in the Connections table right now. */
  connectionRecords(): Promise<number>;
  /** Stops the stack (SIGKILL after 20 s) and resolves once the host process exited. */
  stop(): Promise<void>;
}

interface Ready {
  readonly op: 'ready';
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly dynamodbEndpoint: string;
}

export async function startOfflineStackProcess(options: {
  readonly signingSecret: string;
  /** Time allowed until the stack answers (default 200 s: bundles and cold starts on a busy box). */
  readonly readyTimeoutMs?: number;
}): Promise<OfflineStackProcess> {
  assertServersAllowed('the serverless offline stack');
  const child = fork(HOST_FILE, [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      REACTOMETER_SIGNING_SECRET: options.signingSecret,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const readyTimeoutMs = options.readyTimeoutMs ?? 200_000;
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serverless offline stack not ready in ${readyTimeoutMs / 1000} s`));
    }, readyTimeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serverless host exited (${code}) before it was ready`));
    });
    child.once('message', (m: Ready) => {
      clearTimeout(timer);
      resolve(m);
    });
  });

  let nextId = 1;
  const connectionRecords = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        child.off('message', onMessage);
        reject(new Error('connection count timed out'));
      }, 30_000);
      const onMessage = (m: { op: string; id: number; count?: number; error?: string }): void => {
        if (m.op !== 'countConnections' || m.id !== id) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        if (m.count === undefined) reject(new Error(m.error ?? 'no count'));
        else resolve(m.count);
      };
      child.on('message', onMessage);
      child.send({ op: 'countConnections', id });
    });

  return {
    pid: child.pid as number,
    httpUrl: ready.httpUrl,
    wsUrl: ready.wsUrl,
    dynamodbEndpoint: ready.dynamodbEndpoint,
    connectionRecords,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.send({ op: 'stop', id: 0 });
      }),
  };
}
