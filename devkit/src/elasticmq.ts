/**
 * ElasticMQ, the SQS emulator of the local serverless stack (the serverless inbox: an SQS FIFO
 * queue and its dead-letter queue). A real server speaking SQS's JSON protocol, which the AWS SDK
 * v3 uses; goaws (the Go alternative) speaks it only from v0.5.0. It comes from Maven Central as
 * a library (no prebuilt download): `tools/elasticmq/pom.xml` lists it, `mvn` copies it and its
 * dependencies into `.tools/elasticmq-<version>/lib` once, and it runs on the machine's Java 17.
 * Messages are kept in an H2 database in the data folder, so that a restart of the emulator, like
 * SQS, loses nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { aptInstall, hasApt } from './apt.js';
import { spawnManaged, type ManagedProcess } from './managed-process.js';
import { REPO_ROOT } from './paths.js';
import { freePort, waitForPort } from './ports.js';
import { assertServersAllowed } from './server-guard.js';

export const ELASTICMQ_VERSION = '1.6.11';
const POM = path.join(REPO_ROOT, 'tools', 'elasticmq', 'pom.xml');
const LIB = path.join(REPO_ROOT, '.tools', `elasticmq-${ELASTICMQ_VERSION}`, 'lib');

function has(command: string): boolean {
  return spawnSync('which', [command]).status === 0;
}

/**
 * Copies ElasticMQ and its libraries from Maven Central into `.tools` if they are not there yet
 * (idempotent), installing Debian's Maven and a Java 17 runtime when missing. Returns the folder.
 */
export function ensureElasticMq(log: (line: string) => void = () => {}): string {
  const jar = `elasticmq-server_2.13-${ELASTICMQ_VERSION}.jar`;
  if (existsSync(LIB) && readdirSync(LIB).includes(jar)) return LIB;
  const missing = [
    ...(has('java') ? [] : ['openjdk-17-jre-headless']),
    ...(has('mvn') ? [] : ['maven']),
  ];
  if (missing.length > 0) {
    if (!hasApt()) {
      throw new Error(
        `ElasticMQ needs ${missing.join(' and ')}; install them, then run npm run setup`,
      );
    }
    log(`installing ${missing.join(', ')} with apt-get (first run only)...`);
    if (aptInstall(missing) !== 0) throw new Error(`installing ${missing.join(', ')} failed`);
  }
  log(`copying ElasticMQ ${ELASTICMQ_VERSION} from Maven Central into ${LIB} (first run only)...`);
  mkdirSync(LIB, { recursive: true });
  const mvn = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      POM,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${LIB}`,
      '-DincludeScope=runtime',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (mvn.status !== 0 || !readdirSync(LIB).includes(jar)) {
    throw new Error(`copying ElasticMQ failed (mvn exited with ${mvn.status})`);
  }
  return LIB;
}

export interface ElasticMqOptions {
  /** Where its H2 message store and its config go (created if missing). */
  readonly dataDir: string;
  /** Default: a free port on 127.0.0.1. */
  readonly port?: number;
  readonly onLog?: (line: string) => void;
}

export interface ElasticMqProcess {
  /** `http://127.0.0.1:<port>`: the SQS endpoint for the AWS SDK. */
  readonly endpoint: string;
  readonly port: number;
  pid(): number | undefined;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
}

export async function startElasticMq(options: ElasticMqOptions): Promise<ElasticMqProcess> {
  assertServersAllowed('ElasticMQ');
  const lib = ensureElasticMq(options.onLog);
  const port = options.port ?? (await freePort());
  mkdirSync(options.dataDir, { recursive: true });
  const config = path.join(options.dataDir, 'elasticmq.conf');
  writeFileSync(
    config,
    [
      'include classpath("application.conf")',
      `node-address { protocol = http, host = 127.0.0.1, port = ${port}, context-path = "" }`,
      `rest-sqs { enabled = true, bind-port = ${port}, bind-hostname = "127.0.0.1", sqs-limits = strict }`,
      'rest-stats { enabled = false }',
      `messages-storage { enabled = true, uri = "jdbc:h2:${path.join(options.dataDir, 'messages')}" }`,
      '',
    ].join('\n'),
  );
  let current: ManagedProcess | null = null;
  const start = async (): Promise<void> => {
    if (current?.running()) return;
    // A small heap and the C1 compiler only: it starts in seconds and idles at ~150 MB.
    const proc = spawnManaged(
      'java',
      [
        '-Xms32m',
        '-Xmx256m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        `-Dconfig.file=${config}`,
        '-cp',
        `${lib}/*`,
        'org.elasticmq.server.Main',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], graceMs: 10_000 },
    );
    for (const stream of [proc.child.stdout, proc.child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (/WARN|ERROR/.test(line)) options.onLog?.(line);
      });
    }
    current = proc;
    try {
      await waitForPort(port, {
        what: 'ElasticMQ',
        timeoutMs: 60_000,
        check: () => {
          if (!proc.running())
            throw new Error(`ElasticMQ exited early with code ${proc.child.exitCode}`);
        },
      });
    } catch (err) {
      proc.signal('SIGKILL');
      throw err;
    }
  };
  await start();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    pid: () => (current?.running() ? current.pid : undefined),
    stop: async () => {
      await current?.stop();
    },
    start,
  };
}
