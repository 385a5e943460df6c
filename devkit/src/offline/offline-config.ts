/**
 * What `npm run serverless` reads: where the local stack listens, where dynalite keeps its data
 * and which stage it names its resources for. The Lambda functions' own variables are the
 * deployment's (`serverless/src/config.ts`); this launcher sets those for its child.
 */
import { z } from 'zod';
import {
  integer,
  nonEmpty,
  readEnvKeys,
  spec,
  describeEnvKeys,
  type Env,
} from '@reactometer/shared';
import {
  CONFIG_KEYS as LAMBDA_CONFIG_KEYS,
  type LogLevel as LambdaLogLevel,
} from '@reactometer/serverless/config';
import { DEV_SIGNING_SECRET } from '../dev-secret.js';
const port = (fallback: number, what: string) =>
  spec({
    description: what,
    defaultText: String(fallback),
    schema: integer(1, 65535),
    fallback: () => fallback,
  });

/** Every variable the local stack launcher reads. */
export const LOCAL_STACK_KEYS = {
  OFFLINE_HOST: spec({
    description: 'Interface every local server binds (HTTP, WebSocket, Lambda, SNS, dynalite).',
    defaultText: '127.0.0.1',
    schema: nonEmpty('a host name or IP address'),
    fallback: () => '127.0.0.1',
  }),
  OFFLINE_HTTP_PORT: port(4000, 'serverless-offline HTTP API port.'),
  OFFLINE_WS_PORT: port(
    4001,
    'serverless-offline WebSocket port (also its @connections management API).',
  ),
  OFFLINE_SNS_PORT: port(4002, 'serverless-offline-sns port.'),
  OFFLINE_LAMBDA_PORT: port(4003, 'serverless-offline Lambda invoke API port.'),
  DYNALITE_PORT: port(4567, 'dynalite (local DynamoDB) port.'),
  DYNALITE_DATA_DIR: spec<string>({
    description: 'Directory dynalite keeps its tables in; `memory` keeps them in memory only.',
    defaultText: '.data/dynalite-serverless',
    schema: nonEmpty('a directory or `memory`'),
    optional: true,
  }),
  OFFLINE_STAGE: spec({
    description: 'Stage name of the local stack (table and topic names contain it).',
    defaultText: 'local',
    schema: z
      .string()
      .trim()
      .regex(/^[a-z][a-z0-9-]{0,15}$/, 'must be lowercase letters, digits and dashes (max 16)'),
    fallback: () => 'local',
  }),
  SLACK_SIGNING_SECRET: spec<string>({
    description: `Signing secret the local stack verifies with; unset: the dev secret "${DEV_SIGNING_SECRET}".`,
    defaultText: DEV_SIGNING_SECRET,
    schema: nonEmpty('the Slack signing secret (non-empty)'),
    optional: true,
  }),
  OFFLINE_IN_PROCESS: spec({
    description:
      "true: handlers share serverless-offline's process (light); false: one worker thread per concurrent invocation (a cold start each, heavy under bursts).",
    defaultText: 'true',
    schema: z
      .string()
      .trim()
      .pipe(z.enum(['true', 'false'], { error: 'must be true or false' }))
      .transform((v) => v === 'true'),
    fallback: () => true,
  }),
  LOG_LEVEL: LAMBDA_CONFIG_KEYS.LOG_LEVEL,
} as const;

export interface LocalStackConfig {
  readonly host: string;
  readonly ports: {
    readonly http: number;
    readonly ws: number;
    readonly sns: number;
    readonly lambda: number;
    readonly dynalite: number;
  };
  /** Undefined: in memory. */
  readonly dynaliteDataDir: string | undefined;
  readonly stage: string;
  /** Undefined: unset, the launcher falls back to `DEV_SIGNING_SECRET` and says so. */
  readonly signingSecret: string | undefined;
  readonly inProcess: boolean;
  readonly logLevel: LambdaLogLevel;
}

/** The launcher's configuration; `defaultDataDir` is used when DYNALITE_DATA_DIR is unset. */
export function loadLocalStackConfig(env: Env, defaultDataDir: string): LocalStackConfig {
  const v = readEnvKeys(
    LOCAL_STACK_KEYS,
    env,
    Object.keys(LOCAL_STACK_KEYS) as (keyof typeof LOCAL_STACK_KEYS)[],
  );
  const dataDir = v.DYNALITE_DATA_DIR ?? defaultDataDir;
  return {
    host: v.OFFLINE_HOST!,
    ports: {
      http: v.OFFLINE_HTTP_PORT!,
      ws: v.OFFLINE_WS_PORT!,
      sns: v.OFFLINE_SNS_PORT!,
      lambda: v.OFFLINE_LAMBDA_PORT!,
      dynalite: v.DYNALITE_PORT!,
    },
    dynaliteDataDir: dataDir === 'memory' ? undefined : dataDir,
    stage: v.OFFLINE_STAGE!,
    signingSecret: v.SLACK_SIGNING_SECRET,
    inProcess: v.OFFLINE_IN_PROCESS!,
    logLevel: v.LOG_LEVEL!,
  };
}

/** A Markdown table of the launcher's variables (for docs/deploy.md). */
export function describeLocalStackConfig(): string {
  return describeEnvKeys(LOCAL_STACK_KEYS, { padded: false });
}
