import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createComposition } from '../src/composition.js';
import {
  CONFIG_KEYS,
  describeConfig,
  loadConnectionsConfig,
  loadFanOutConfig,
  loadRuntimeConfig,
  loadSenderConfig,
  loadSlackConfig,
  loadPublishConfig,
  loadInboxConfig,
  requireManagementEndpoint,
} from '../src/config.js';
import { configProblems } from '@reactometer/shared/testing';

describe('Lambda configuration', () => {
  it('names every missing or invalid variable at once', () => {
    expect(
      configProblems(() =>
        loadPublishConfig({ COUNTS_TOPIC_ARN: 'my-topic', SNS_REQUEST_TIMEOUT_MS: 'fast' }),
      ),
    ).toEqual([
      'COUNTS_TOPIC_ARN: must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)',
      'SNS_REQUEST_TIMEOUT_MS: must be an integer 50-30000',
    ]);
    expect(configProblems(() => loadSlackConfig({}))).toEqual([
      `SLACK_SIGNING_SECRET: is required (${CONFIG_KEYS.SLACK_SIGNING_SECRET.description})`,
    ]);
    expect(
      configProblems(() => loadInboxConfig({ INBOX_QUEUE_URL: 'queue', INBOX_MAX_PENDING: '0' })),
    ).toEqual([
      'INBOX_QUEUE_URL: must be an http:// or https:// URL',
      'INBOX_MAX_PENDING: must be an integer 1-100000000',
    ]);
  });

  it('needs AWS_REGION and validates endpoints', () => {
    expect(
      configProblems(() => loadRuntimeConfig({ DYNAMODB_ENDPOINT: 'localhost:4567' })),
    ).toEqual([
      `AWS_REGION: is required (${CONFIG_KEYS.AWS_REGION.description})`,
      'DYNAMODB_ENDPOINT: must be an http:// or https:// URL',
    ]);
    expect(loadRuntimeConfig({ AWS_REGION: 'eu-west-1', LOG_LEVEL: 'debug' })).toEqual({
      region: 'eu-west-1',
      dynamodbEndpoint: undefined,
      dynamodbRequestTimeoutMs: 1000,
      logLevel: 'DEBUG',
      serviceName: 'reactometer',
      metricsNamespace: 'Reactometer',
    });
  });

  it('has fan-out defaults and bounds', () => {
    expect(loadSenderConfig({})).toEqual({
      managementEndpoint: undefined,
      concurrency: 64,
      sendTimeoutMs: 2000,
      maxAttempts: 4,
      baseBackoffMs: 50,
    });
    expect(configProblems(() => loadSenderConfig({ FANOUT_CONCURRENCY: '0' }))).toEqual([
      'FANOUT_CONCURRENCY: must be an integer 1-1000',
    ]);
    expect(
      loadSenderConfig({
        WS_MANAGEMENT_ENDPOINT: 'https://abc.execute-api.us-east-1.amazonaws.com/prod/',
      }).managementEndpoint,
    ).toBe('https://abc.execute-api.us-east-1.amazonaws.com/prod');
  });

  it('has coalescing and sharding defaults: a 1 s window, 95% of a 10,000/s throttle, a worker per 1,000 connections', () => {
    expect(loadFanOutConfig({ FANOUT_GATE_TABLE: 'g', FANOUT_WORKER_FUNCTION: 'w' })).toEqual({
      gateTable: 'g',
      windowMs: 1000,
      leaseMs: 15_000,
      sender: 'lean',
      throttle: { accountRatePerSecond: 10_000, accountBurst: 5_000, share: 0.95 },
      shards: {
        threshold: 1000,
        connectionsPerWorker: 1000,
        maxWorkers: 32,
        fixedWorkers: undefined,
      },
      workerFunction: 'w',
      lambdaEndpoint: undefined,
    });
    expect(
      configProblems(() =>
        loadFanOutConfig({
          FANOUT_WINDOW_MS: '-1',
          FANOUT_SENDER: 'fast',
          FANOUT_THROTTLE_SHARE_PERCENT: '120',
        }),
      ),
    ).toEqual([
      `FANOUT_GATE_TABLE: is required (${CONFIG_KEYS.FANOUT_GATE_TABLE.description})`,
      'FANOUT_WINDOW_MS: must be an integer 0-60000',
      'FANOUT_SENDER: must be one of lean, sdk',
      'FANOUT_THROTTLE_SHARE_PERCENT: must be an integer 1-100',
      `FANOUT_WORKER_FUNCTION: is required (${CONFIG_KEYS.FANOUT_WORKER_FUNCTION.description})`,
    ]);
    expect(
      loadFanOutConfig({
        FANOUT_GATE_TABLE: 'g',
        FANOUT_WORKER_FUNCTION: 'w',
        FANOUT_WINDOW_MS: '0',
        FANOUT_SENDER: 'SDK',
        FANOUT_WORKERS: '3',
      }),
    ).toMatchObject({ windowMs: 0, sender: 'sdk', shards: { fixedWorkers: 3 } });
  });

  it('reads a variable serverless-offline-sns hands over as null as unset', () => {
    const app = createComposition({
      AWS_REGION: 'us-east-1',
      CONNECTIONS_TABLE: 'k',
      CONNECTIONS_PAGE_SIZE: null,
    } as unknown as Record<string, string>);
    expect(app.connectionsConfig().pageSize).toBe(250);
  });

  it('keeps connection records a little past the 2-hour API Gateway limit by default', () => {
    const { connectionTtlSeconds } = loadConnectionsConfig({ CONNECTIONS_TABLE: 't' });
    expect(connectionTtlSeconds).toBeGreaterThan(2 * 3600);
    expect(connectionTtlSeconds).toBeLessThanOrEqual(2 * 3600 + 15 * 60);
  });

  it('the fan-out must be told its management endpoint', () => {
    expect(configProblems(() => requireManagementEndpoint(loadSenderConfig({})))).toEqual([
      `WS_MANAGEMENT_ENDPOINT: is required (${CONFIG_KEYS.WS_MANAGEMENT_ENDPOINT.description})`,
    ]);
  });

  it('a composition fails on first use of a part whose configuration is missing, naming it', () => {
    const app = createComposition({
      AWS_REGION: 'us-east-1',
      STATES_TABLE: 's',
      COUNTS_TABLE: 'c',
    });
    expect(() => app.store()).not.toThrow();
    expect(() => app.slackDeps()).toThrow(/SLACK_SIGNING_SECRET: is required/);
    expect(() => app.registry()).toThrow(/CONNECTIONS_TABLE: is required/);
  });

  it('describes every variable in a Markdown table', () => {
    const table = describeConfig();
    for (const key of Object.keys(CONFIG_KEYS)) expect(table).toContain(`| \`${key}\` |`);
  });
});

describe('serverless.yml', () => {
  it('repeats no default of config.ts: a variable is passed on only when the deployer sets it', () => {
    const yml = readFileSync(new URL('../serverless.yml', import.meta.url), 'utf8');
    const passed = [...yml.matchAll(/\$\{env:([A-Z0-9_]+),\s*([^}]+)\}/g)].map((m) => ({
      name: m[1] as string,
      fallback: (m[2] as string).trim(),
    }));
    const withDefault = new Set(
      Object.entries(CONFIG_KEYS)
        .filter(([, spec]) => 'fallback' in spec && spec.fallback !== undefined)
        .map(([name]) => name),
    );
    const repeated = passed.filter((p) => withDefault.has(p.name) && p.fallback !== 'null');
    expect(repeated).toEqual([]);
    // The check sees the tuning variables at all (a wrong pattern would pass vacuously).
    expect(passed.map((p) => p.name)).toEqual(
      expect.arrayContaining([
        'FANOUT_CONCURRENCY',
        'LOG_LEVEL',
        'CONNECTIONS_PAGE_SIZE',
        'FANOUT_WINDOW_MS',
        'FANOUT_THROTTLE_SHARE_PERCENT',
        'FANOUT_SHARD_THRESHOLD',
      ]),
    );
  });
});
