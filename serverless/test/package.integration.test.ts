/**
 * `serverless package` without AWS credentials, then the generated CloudFormation template and
 * artifacts, checked for what a reviewer of the deployment must be able to rely on: least-privilege
 * IAM per function, TTL and PITR on the tables, the routes, the runtime, and small ESM bundles that
 * load as Lambda loads them. cfn-lint runs on the template when it is installed (always in CI).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

/** serverless/: where `serverless package` runs. */
const SERVICE_DIR = fileURLToPath(new URL('../', import.meta.url));
import { countsTopicName, tableNames } from '../src/stack-names.js';
import { readZip } from './support/zip.js';

const STAGE = 'pkgtest';
/** The dashboard origin the package is built for (ALLOWED_ORIGINS). */
const PACKAGE_ORIGIN = 'https://dash.example.com';
const require = createRequire(import.meta.url);
const SERVERLESS_BIN = require.resolve('serverless/bin/serverless.js');

type Json = Record<string, unknown>;
interface Resource {
  readonly Type: string;
  readonly Properties: Json;
  readonly DependsOn?: unknown;
}
interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** Function logical id prefix -> its role, handler file and the DynamoDB access it needs. */
const FUNCTIONS = {
  SlackEvents: {
    role: 'SlackEventsRole',
    handler: 'slack-events',
    // The edge only stores the event in the inbox queue: no DynamoDB, no SNS.
    dynamodb: {},
    sqs: ['sqs:GetQueueAttributes', 'sqs:SendMessage'],
    publishes: false,
    manages: false,
    invokes: [],
  },
  Counter: {
    role: 'CounterRole',
    handler: 'counter',
    dynamodb: {
      ReactionStatesTable: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan'],
      EmojiCountsTable: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Scan',
        'dynamodb:UpdateItem',
      ],
    },
    sqs: [
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
    ],
    publishes: true,
    manages: false,
    invokes: [],
  },
  Reactions: {
    role: 'ReactionsRole',
    handler: 'reactions',
    dynamodb: {
      EmojiCountsTable: ['dynamodb:GetItem', 'dynamodb:Scan'],
      ReactionStatesTable: ['dynamodb:GetItem'],
    },
    sqs: ['sqs:GetQueueAttributes'],
    publishes: false,
    manages: false,
    invokes: [],
  },
  Ws: {
    role: 'WsRole',
    handler: 'ws',
    dynamodb: {
      ConnectionsTable: ['dynamodb:DeleteItem', 'dynamodb:PutItem'],
      EmojiCountsTable: ['dynamodb:Scan'],
    },
    sqs: [],
    publishes: false,
    manages: true,
    invokes: [],
  },
  Fanout: {
    role: 'FanoutRole',
    handler: 'fanout',
    dynamodb: {
      ConnectionsTable: ['dynamodb:DeleteItem', 'dynamodb:Scan'],
      FanoutGateTable: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      EmojiCountsTable: ['dynamodb:BatchGetItem'],
    },
    sqs: [],
    publishes: false,
    manages: true,
    // Its workers, and itself (the hand-off of a pending flush).
    invokes: ['fanoutWorker', 'fanout'],
  },
  FanoutWorker: {
    role: 'FanoutWorkerRole',
    handler: 'fanout-worker',
    dynamodb: { ConnectionsTable: ['dynamodb:DeleteItem', 'dynamodb:Scan'] },
    sqs: [],
    publishes: false,
    manages: true,
    invokes: [],
  },
  // Viewer access: no AWS access at all beyond their own logs.
  WsAuthorizer: {
    role: 'WsAuthorizerRole',
    handler: 'ws-authorizer',
    dynamodb: {},
    sqs: [],
    publishes: false,
    manages: false,
    invokes: [],
  },
  SlackSignIn: {
    role: 'SlackSignInRole',
    handler: 'slack-sign-in',
    dynamodb: {},
    sqs: [],
    publishes: false,
    manages: false,
    invokes: [],
  },
  Reconcile: {
    role: 'ReconcileRole',
    handler: 'reconcile',
    dynamodb: {
      ReactionStatesTable: ['dynamodb:PutItem', 'dynamodb:Scan'],
      EmojiCountsTable: ['dynamodb:PutItem', 'dynamodb:Scan'],
    },
    sqs: [],
    publishes: false,
    manages: false,
    invokes: [],
  },
} as const;

let outDir: string;
let template: { Resources: Record<string, Resource>; Outputs?: Json };
let packageLog = '';

function resources(type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

function resource(id: string): Resource {
  const r = template.Resources[id];
  if (r === undefined) throw new Error(`no resource ${id} in the template`);
  return r;
}

function statementsOf(roleId: string): Statement[] {
  const policies = resource(roleId).Properties.Policies as {
    PolicyDocument: { Statement: Statement[] };
  }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** `Fn::Join` parts flattened to text, with each `Ref` written as `{Ref:X}`. */
function joined(value: unknown): string {
  const parts = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return parts
    .map((p) => (typeof p === 'string' ? p : `{Ref:${(p as { Ref: string }).Ref}}`))
    .join('');
}

beforeAll(async () => {
  outDir = mkdtempSync(path.join(os.tmpdir(), 'reactometer-package-'));
  const env: NodeJS.ProcessEnv = {};
  // No credentials, profile or region from this machine: packaging must not need any.
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith('AWS_')) env[key] = value;
  Object.assign(env, {
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    REACTOMETER_TARGET: 'aws',
    ALLOWED_ORIGINS: `${PACKAGE_ORIGIN}/`,
  });
  delete env.SLACK_SIGNING_SECRET;
  delete env.DASHBOARD_TOKEN_SECRET;
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      process.execPath,
      [SERVERLESS_BIN, 'package', '--stage', STAGE, '--package', outDir],
      {
        cwd: SERVICE_DIR,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.on('data', (c: Buffer) => (packageLog += c.toString()));
    child.stderr.on('data', (c: Buffer) => (packageLog += c.toString()));
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`serverless package exited with ${code}:\n${packageLog}`);
  template = JSON.parse(
    readFileSync(path.join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as typeof template;
}, 180_000);

afterAll(() => {
  if (outDir !== undefined) rmSync(outDir, { recursive: true, force: true });
});

describe('serverless package (no credentials)', () => {
  it('packages every function for nodejs22.x on arm64 with its own role', () => {
    const functions = resources('AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual(
      Object.keys(FUNCTIONS)
        .map((f) => `${f}LambdaFunction`)
        .sort(),
    );
    for (const [name, spec] of Object.entries(FUNCTIONS)) {
      const fn = resource(`${name}LambdaFunction`).Properties;
      expect({
        name,
        runtime: fn.Runtime,
        arch: fn.Architectures,
        handler: fn.Handler,
        role: fn.Role,
      }).toEqual({
        name,
        runtime: 'nodejs22.x',
        arch: ['arm64'],
        handler: `dist/handlers/${spec.handler}.handler`,
        role: { 'Fn::GetAtt': [spec.role, 'Arn'] },
      });
    }
  });

  it('creates no shared role: exactly one IAM role per function and no managed or extra policies', () => {
    expect(
      resources('AWS::IAM::Role')
        .map(([id]) => id)
        .sort(),
    ).toEqual(
      Object.values(FUNCTIONS)
        .map((f) => f.role)
        .sort(),
    );
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
    expect(resources('AWS::IAM::Policy')).toEqual([]);
    expect(resources('AWS::IAM::ManagedPolicy')).toEqual([]);
    for (const [, role] of resources('AWS::IAM::Role')) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'lambda.amazonaws.com' },
            Action: 'sts:AssumeRole',
          },
        ],
      });
    }
  });

  it('grants no "*" action and no "*" resource anywhere in the template', () => {
    // Every policy statement in the template, IAM roles and resource policies alike.
    const statements: { at: string; statement: Statement }[] = [];
    const visit = (value: unknown, at: string): void => {
      if (Array.isArray(value)) value.forEach((v, i) => visit(v, `${at}[${i}]`));
      else if (typeof value === 'object' && value !== null) {
        const v = value as Json;
        if (typeof v.Effect === 'string' && 'Action' in v)
          statements.push({ at, statement: v as unknown as Statement });
        for (const [k, child] of Object.entries(v)) visit(child, `${at}.${k}`);
      }
    };
    visit(template.Resources, 'Resources');
    expect(statements.length).toBeGreaterThan(10);
    const wildcardGrants = statements.filter(({ statement: s }) => {
      const resource = JSON.stringify(s.Resource ?? null);
      return (
        s.Effect === 'Allow' &&
        (actionsOf(s).some((a) => a.includes('*')) ||
          resource === '"*"' ||
          resource.includes('"*"'))
      );
    });
    expect(wildcardGrants).toEqual([]);
    // The one wildcard in the template restricts rather than grants: the Framework's deployment
    // bucket policy denies s3:* to anyone not using TLS.
    const denies = statements.filter(({ statement: s }) => s.Effect !== 'Allow');
    expect(
      denies.map(({ at, statement: s }) => ({ at, effect: s.Effect, action: s.Action })),
    ).toEqual([
      {
        at: 'Resources.ServerlessDeploymentBucketPolicy.Properties.PolicyDocument.Statement[0]',
        effect: 'Deny',
        action: 's3:*',
      },
    ]);
    for (const [roleId] of resources('AWS::IAM::Role')) {
      for (const s of statementsOf(roleId)) {
        expect(s.Effect).toBe('Allow');
        for (const action of actionsOf(s)) expect(action).toMatch(/^[a-z-]+:[A-Za-z]+$/);
      }
    }
  });

  it.each(Object.entries(FUNCTIONS))(
    '%s: DynamoDB actions only on the tables it uses',
    (_name, spec) => {
      const granted: Record<string, string[]> = {};
      for (const s of statementsOf(spec.role)) {
        const dynamo = actionsOf(s).filter((a) => a.startsWith('dynamodb:'));
        if (dynamo.length === 0) continue;
        // Every DynamoDB statement grants on exactly one table, never on a pattern or an index.
        expect(actionsOf(s)).toEqual(dynamo);
        const table = (s.Resource as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
        expect(table[1]).toBe('Arn');
        granted[table[0]] = [...(granted[table[0]] ?? []), ...dynamo].sort();
      }
      expect(granted).toEqual(spec.dynamodb);
    },
  );

  it.each(Object.entries(FUNCTIONS))('%s: SQS actions only on the inbox queue', (_name, spec) => {
    const sqs = statementsOf(spec.role).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('sqs:')),
    );
    for (const s of sqs) {
      expect(actionsOf(s).every((a) => a.startsWith('sqs:'))).toBe(true);
      expect(s.Resource).toEqual({ 'Fn::GetAtt': ['InboxQueue', 'Arn'] });
    }
    expect(sqs.flatMap((s) => actionsOf(s)).sort()).toEqual([...spec.sqs]);
  });

  it('stores Slack events in a FIFO inbox queue with a dead-letter queue, consumed by the counter with partial batch failures', () => {
    const queue = resource('InboxQueue').Properties;
    expect(queue).toMatchObject({
      QueueName: `reactometer-${STAGE}-inbox.fifo`,
      FifoQueue: true,
      ContentBasedDeduplication: false,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': ['InboxDeadLetterQueue', 'Arn'] },
        maxReceiveCount: expect.any(Number),
      },
    });
    expect(resource('InboxDeadLetterQueue').Properties).toMatchObject({
      QueueName: `reactometer-${STAGE}-inbox-dlq.fifo`,
      FifoQueue: true,
    });
    const mappings = resources('AWS::Lambda::EventSourceMapping').map(([, m]) => m.Properties);
    expect(mappings).toEqual([
      expect.objectContaining({
        EventSourceArn: { 'Fn::GetAtt': ['InboxQueue', 'Arn'] },
        FunctionName: { 'Fn::GetAtt': ['CounterLambdaFunction', 'Arn'] },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      }),
    ]);
    // SQS's advice for an event source: a visibility timeout of at least 6x the function's.
    const counterTimeout = resource('CounterLambdaFunction').Properties.Timeout as number;
    expect(queue.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * counterTimeout);
  });

  it.each(Object.entries(FUNCTIONS))(
    '%s: lambda:InvokeFunction only on the fan-out functions it calls, by exact ARN',
    (_name, spec) => {
      const invoke = statementsOf(spec.role).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('lambda:')),
      );
      expect(
        invoke
          .map((s) => ({ actions: actionsOf(s), resource: joined(s.Resource) }))
          .sort((a, b) => a.resource.localeCompare(b.resource)),
      ).toEqual(
        [...spec.invokes]
          .map((fn) => ({
            actions: ['lambda:InvokeFunction'],
            resource: `arn:{Ref:AWS::Partition}:lambda:{Ref:AWS::Region}:{Ref:AWS::AccountId}:function:reactometer-${STAGE}-${fn}`,
          }))
          .sort((a, b) => a.resource.localeCompare(b.resource)),
      );
    },
  );

  it.each(Object.entries(FUNCTIONS))(
    '%s: sns:Publish only on the topic, ManageConnections only on POST @connections',
    (_name, spec) => {
      const statements = statementsOf(spec.role);
      const publish = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('sns:')));
      const manage = statements.filter((s) =>
        actionsOf(s).some((a) => a.startsWith('execute-api:')),
      );
      if (spec.publishes) {
        expect(publish.map((s) => ({ a: actionsOf(s), r: s.Resource }))).toEqual([
          { a: ['sns:Publish'], r: { Ref: 'CountsTopic' } },
        ]);
      } else {
        expect(publish).toEqual([]);
      }
      if (spec.manages) {
        expect(manage).toHaveLength(1);
        expect(actionsOf(manage[0]!)).toEqual(['execute-api:ManageConnections']);
        expect(joined(manage[0]!.Resource)).toBe(
          `arn:{Ref:AWS::Partition}:execute-api:{Ref:AWS::Region}:{Ref:AWS::AccountId}:{Ref:WebsocketsApi}/${STAGE}/POST/@connections/*`,
        );
      } else {
        expect(manage).toEqual([]);
      }
      // Logs: its own log group only; nothing else beyond DynamoDB, SNS and execute-api.
      for (const s of statements) {
        for (const action of actionsOf(s)) {
          if (action.startsWith('logs:')) {
            expect(['logs:CreateLogStream', 'logs:PutLogEvents']).toContain(action);
            expect(s.Resource).toEqual({ 'Fn::GetAtt': [`${_name}LogGroup`, 'Arn'] });
          } else {
            expect(action).toMatch(/^(dynamodb|sns|sqs|execute-api|lambda):/);
          }
        }
      }
    },
  );

  it('tables: on-demand, named for the stage, PITR on states and counts, TTL on connections.expiresAt', () => {
    const names = tableNames(STAGE);
    const states = resource('ReactionStatesTable').Properties;
    const counts = resource('EmojiCountsTable').Properties;
    const connections = resource('ConnectionsTable').Properties;
    const gate = resource('FanoutGateTable').Properties;
    expect([states.TableName, counts.TableName, connections.TableName, gate.TableName]).toEqual([
      names.states,
      names.counts,
      names.connections,
      names.fanout,
    ]);
    for (const table of [states, counts, connections, gate])
      expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(states.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(counts.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(connections.TimeToLiveSpecification).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
  });

  it('HTTP API routes', () => {
    const routes = resources('AWS::ApiGatewayV2::Route')
      .filter(([, r]) => (r.Properties.ApiId as { Ref: string }).Ref === 'HttpApi')
      .map(([, r]) => r.Properties.RouteKey)
      .sort();
    expect(routes).toEqual([
      'GET /auth/slack/callback',
      'GET /auth/slack/login',
      'GET /healthz',
      'GET /reactions',
      'POST /slack/events',
    ]);
  });

  it('HTTP API CORS: only ALLOWED_ORIGINS, never credentials (no echo of any Origin)', () => {
    expect(resource('HttpApi').Properties.CorsConfiguration).toEqual({
      AllowOrigins: [PACKAGE_ORIGIN],
      AllowHeaders: ['authorization'],
      AllowMethods: ['GET', 'HEAD', 'OPTIONS'],
      MaxAge: 600,
    });
  });

  it('stage throttling on both APIs (429 past it)', () => {
    for (const stage of ['HttpApiStage', 'WebsocketsDeploymentStage']) {
      const settings = resource(stage).Properties.DefaultRouteSettings as Json;
      expect(settings.ThrottlingRateLimit).toEqual(expect.any(Number));
      expect(settings.ThrottlingBurstLimit).toEqual(expect.any(Number));
    }
  });

  it('$connect has the REQUEST authorizer; the token secret reaches only the functions that judge viewers', () => {
    const authorizer = resource('WsAuthorizerWebsocketsAuthorizer').Properties;
    expect({ type: authorizer.AuthorizerType, identity: authorizer.IdentitySource }).toEqual({
      type: 'REQUEST',
      identity: ['route.request.header.Host'],
    });
    expect(JSON.stringify(authorizer.AuthorizerUri)).toContain('WsAuthorizerLambdaFunction');
    const connect = resources('AWS::ApiGatewayV2::Route').find(
      ([, r]) => r.Properties.RouteKey === '$connect',
    )![1].Properties;
    expect(connect.AuthorizationType).toBe('CUSTOM');
    expect(connect.AuthorizerId).toEqual({ Ref: 'WsAuthorizerWebsocketsAuthorizer' });
    for (const name of Object.keys(FUNCTIONS)) {
      const vars = (resource(`${name}LambdaFunction`).Properties.Environment as { Variables: Json })
        .Variables;
      const judges = ['WsAuthorizer', 'Reactions', 'SlackSignIn'].includes(name);
      expect({ name, origins: vars.ALLOWED_ORIGINS }).toEqual({
        name,
        origins: judges ? `${PACKAGE_ORIGIN}/` : undefined,
      });
    }
  });

  it('WebSocket API: route selection on $request.body.action and the five routes, all on the ws function', () => {
    const api = resource('WebsocketsApi').Properties;
    expect({ protocol: api.ProtocolType, selection: api.RouteSelectionExpression }).toEqual({
      protocol: 'WEBSOCKET',
      selection: '$request.body.action',
    });
    const routes = resources('AWS::ApiGatewayV2::Route').filter(
      ([, r]) => (r.Properties.ApiId as { Ref: string }).Ref === 'WebsocketsApi',
    );
    expect(routes.map(([, r]) => r.Properties.RouteKey).sort()).toEqual([
      '$connect',
      '$default',
      '$disconnect',
      'getReactions',
      'ping',
    ]);
    for (const [, r] of routes)
      expect(JSON.stringify(r.Properties.Target)).toContain('WsWebsocketsIntegration');
    expect(resource('WebsocketsDeploymentStage').Properties.StageName).toBe(STAGE);
  });

  it('the fan-out is subscribed to the count-changes topic; reconcile runs on a schedule', () => {
    expect(resource('CountsTopic').Properties.TopicName).toBe(countsTopicName(STAGE));
    const subscriptions = resources('AWS::SNS::Subscription');
    expect(subscriptions.map(([, s]) => s.Properties)).toEqual([
      {
        TopicArn: { Ref: 'CountsTopic' },
        Protocol: 'lambda',
        Endpoint: { 'Fn::GetAtt': ['FanoutLambdaFunction', 'Arn'] },
      },
    ]);
    const rules = resources('AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    expect(JSON.stringify(rules[0]![1].Properties.Targets)).toContain('ReconcileLambdaFunction');
  });

  it('configures AWS endpoints, never local ones, and keeps the Slack secret out of the template', () => {
    for (const name of Object.keys(FUNCTIONS)) {
      const vars = (resource(`${name}LambdaFunction`).Properties.Environment as { Variables: Json })
        .Variables;
      expect(vars.DYNAMODB_ENDPOINT).toBeUndefined();
      expect(vars.SNS_ENDPOINT).toBeUndefined();
      expect(vars.COUNTS_TOPIC_ARN).toEqual({ Ref: 'CountsTopic' });
      expect(vars.INBOX_QUEUE_URL).toEqual({ Ref: 'InboxQueue' });
      expect(vars.SQS_ENDPOINT).toBeUndefined();
      expect(joined(vars.WS_MANAGEMENT_ENDPOINT)).toBe(
        `https://{Ref:WebsocketsApi}.execute-api.{Ref:AWS::Region}.amazonaws.com/${STAGE}`,
      );
      expect(vars.STATES_TABLE).toBe(tableNames(STAGE).states);
      expect(vars.FANOUT_GATE_TABLE).toBe(tableNames(STAGE).fanout);
      expect(vars.FANOUT_WORKER_FUNCTION).toBe(`reactometer-${STAGE}-fanoutWorker`);
      expect(vars.LAMBDA_ENDPOINT).toBeUndefined();
      if (name === 'SlackEvents') {
        expect(vars.SLACK_SIGNING_SECRET).toBe(
          `{{resolve:secretsmanager:reactometer/${STAGE}/slack-signing-secret}}`,
        );
      } else {
        expect(vars.SLACK_SIGNING_SECRET).toBeUndefined();
      }
    }
  });

  it('each artifact holds only its ESM bundle (with the package.json that marks it ESM) and is small', () => {
    for (const spec of Object.values(FUNCTIONS)) {
      const zipFile = path.join(
        outDir,
        `${spec.role.replace(/Role$/, '').replace(/^./, (c) => c.toLowerCase())}.zip`,
      );
      const files = readZip(zipFile);
      expect([...files.keys()].sort()).toEqual(
        [
          'dist/package.json',
          `dist/handlers/${spec.handler}.js`,
          `dist/handlers/${spec.handler}.js.map`,
        ].sort(),
      );
      expect(JSON.parse(files.get('dist/package.json')!.toString('utf8'))).toEqual({
        type: 'module',
      });
      expect(statSync(zipFile).size).toBeLessThan(1024 * 1024);
    }
  });

  it('each bundle loads the way Lambda loads it: a plain Node process importing dist/handlers/<name>.js', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'reactometer-artifact-'));
    try {
      for (const spec of Object.values(FUNCTIONS)) {
        const dir = path.join(root, spec.handler);
        const zipName = `${spec.role.replace(/Role$/, '').replace(/^./, (c) => c.toLowerCase())}.zip`;
        for (const [name, data] of readZip(path.join(outDir, zipName))) {
          mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
          writeFileSync(path.join(dir, name), data);
        }
        const entry = pathToFileURL(path.join(dir, 'dist', 'handlers', `${spec.handler}.js`)).href;
        const script = `const m = await import(${JSON.stringify(entry)}); if (typeof m.handler !== 'function') { console.error('no handler export'); process.exit(3); }`;
        // Module scope builds clients but calls nothing, so placeholder values suffice.
        const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
          cwd: root,
          env: {
            PATH: process.env.PATH,
            AWS_REGION: 'eu-west-1',
            STATES_TABLE: 's',
            COUNTS_TABLE: 'c',
            CONNECTIONS_TABLE: 'k',
            COUNTS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:t',
            INBOX_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/inbox.fifo',
            SLACK_SIGNING_SECRET: 'x',
            WS_MANAGEMENT_ENDPOINT: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod',
            FANOUT_GATE_TABLE: 'g',
            FANOUT_WORKER_FUNCTION: 'w',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
          encoding: 'utf8',
          timeout: 30_000,
        });
        expect({ handler: spec.handler, status: result.status, stderr: result.stderr }).toEqual({
          handler: spec.handler,
          status: 0,
          stderr: '',
        });
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);

  const cfnLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  const haveCfnLint = cfnLint.status === 0;
  // In CI cfn-lint must be there (`.ci/run` installs it); elsewhere its absence only skips this.
  (haveCfnLint || process.env.CI ? it : it.skip)(
    'cfn-lint passes on the template (serverless/.cfnlintrc.yaml)',
    () => {
      const templateFile = path.join(outDir, 'cloudformation-template-update-stack.json');
      let output: string;
      try {
        output = execFileSync('cfn-lint', [templateFile], { cwd: SERVICE_DIR, encoding: 'utf8' });
      } catch (err) {
        const e = err as { status?: number; stdout?: string; stderr?: string; code?: string };
        throw new Error(
          `cfn-lint failed (${e.code ?? e.status}):\n${e.stdout ?? ''}${e.stderr ?? ''}`,
          { cause: err },
        );
      }
      expect(output.trim()).toBe('');
    },
    120_000,
  );
});
