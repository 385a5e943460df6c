import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ListTablesCommand,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, destroyDocumentClient } from '@reactometer/serverless';
import { SERVERLESS_DIR } from '../src/workspaces.js';
import {
  createTables,
  DEFAULT_LOCAL_TABLE_NAMES,
  loadTableDefinitions,
  readTableResources,
  startDynalite,
  TABLES_YML_PATH,
  type RunningDynalite,
  type TableNames,
} from '../src/offline/index.js';

const REGION = 'us-east-1';
const NAMES: TableNames = {
  states: 'td-states',
  counts: 'td-counts',
  connections: 'td-connections',
  fanout: 'td-fanout',
};

describe('infra/tables.yml', () => {
  const resources = readTableResources();

  it('is the serverless/infra/tables.yml file', () => {
    expect(TABLES_YML_PATH).toBe(join(SERVERLESS_DIR, 'infra', 'tables.yml'));
  });

  it('defines exactly the four on-demand tables, named through custom.tables', () => {
    expect(Object.keys(resources).sort()).toEqual([
      'ConnectionsTable',
      'EmojiCountsTable',
      'FanoutGateTable',
      'ReactionStatesTable',
    ]);
    for (const resource of Object.values(resources)) {
      expect(resource.Type).toBe('AWS::DynamoDB::Table');
      expect(resource.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(resource.Properties.ProvisionedThroughput).toBeUndefined();
    }
    expect(resources['ReactionStatesTable']?.Properties.TableName).toBe(
      '${self:custom.tables.states}',
    );
    expect(resources['EmojiCountsTable']?.Properties.TableName).toBe(
      '${self:custom.tables.counts}',
    );
    expect(resources['ConnectionsTable']?.Properties.TableName).toBe(
      '${self:custom.tables.connections}',
    );
    expect(resources['FanoutGateTable']?.Properties.TableName).toBe('${self:custom.tables.fanout}');
  });

  it('keys each table by one string hash key, the attribute the adapters write', () => {
    const keys = Object.fromEntries(
      Object.entries(resources).map(([id, r]) => [
        id,
        { defs: r.Properties.AttributeDefinitions, schema: r.Properties.KeySchema },
      ]),
    );
    expect(keys).toEqual({
      ReactionStatesTable: {
        defs: [{ AttributeName: 'key', AttributeType: 'S' }],
        schema: [{ AttributeName: 'key', KeyType: 'HASH' }],
      },
      EmojiCountsTable: {
        defs: [{ AttributeName: 'emoji', AttributeType: 'S' }],
        schema: [{ AttributeName: 'emoji', KeyType: 'HASH' }],
      },
      ConnectionsTable: {
        defs: [{ AttributeName: 'connectionId', AttributeType: 'S' }],
        schema: [{ AttributeName: 'connectionId', KeyType: 'HASH' }],
      },
      FanoutGateTable: {
        defs: [{ AttributeName: 'shard', AttributeType: 'S' }],
        schema: [{ AttributeName: 'shard', KeyType: 'HASH' }],
      },
    });
  });

  it('enables point-in-time recovery on states and counts, not on connections or the gate', () => {
    const pitr = (id: string): unknown =>
      resources[id]?.Properties.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled;
    expect(pitr('ReactionStatesTable')).toBe(true);
    expect(pitr('EmojiCountsTable')).toBe(true);
    expect(pitr('ConnectionsTable')).toBeUndefined();
    expect(pitr('FanoutGateTable')).toBeUndefined();
  });

  it('expires connections through TTL on expiresAt, and nothing else', () => {
    expect(resources['ConnectionsTable']?.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
    expect(resources['ReactionStatesTable']?.Properties.TimeToLiveSpecification).toBeUndefined();
    expect(resources['EmojiCountsTable']?.Properties.TimeToLiveSpecification).toBeUndefined();
    expect(resources['FanoutGateTable']?.Properties.TimeToLiveSpecification).toBeUndefined();
  });
});

describe('loadTableDefinitions', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'reactometer-tables-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('substitutes the names and keeps only what CreateTable and dynalite take', () => {
    const defs = loadTableDefinitions(NAMES);
    expect(
      defs.map((d) => [
        d.logicalId,
        d.role,
        d.input.TableName,
        d.ttlAttribute,
        d.pointInTimeRecovery,
      ]),
    ).toEqual([
      ['ReactionStatesTable', 'states', 'td-states', null, true],
      ['EmojiCountsTable', 'counts', 'td-counts', null, true],
      ['ConnectionsTable', 'connections', 'td-connections', 'expiresAt', false],
      ['FanoutGateTable', 'fanout', 'td-fanout', null, false],
    ]);
    for (const def of defs) {
      expect(Object.keys(def.input).sort()).toEqual([
        'AttributeDefinitions',
        'BillingMode',
        'KeySchema',
        'TableName',
      ]);
      expect(JSON.stringify(def.input)).not.toContain('${');
    }
  });

  it('uses the default local names when none are given', () => {
    expect(loadTableDefinitions().map((d) => d.input.TableName)).toEqual([
      'reactometer-local-states',
      'reactometer-local-counts',
      'reactometer-local-connections',
      'reactometer-local-fanout',
    ]);
    expect(DEFAULT_LOCAL_TABLE_NAMES).toEqual({
      states: 'reactometer-local-states',
      counts: 'reactometer-local-counts',
      connections: 'reactometer-local-connections',
      fanout: 'reactometer-local-fanout',
    });
  });

  it('refuses a placeholder it cannot resolve, rather than create a table the stage would not have', () => {
    const original = readFileSync(TABLES_YML_PATH, 'utf8');
    const unknownRole = join(dir, 'unknown-role.yml');
    writeFileSync(
      unknownRole,
      original.replace('${self:custom.tables.counts}', '${self:custom.tables.totals}'),
    );
    expect(() => loadTableDefinitions(NAMES, unknownRole)).toThrow(/EmojiCountsTable\.TableName/);
    const prefixed = join(dir, 'prefixed.yml');
    writeFileSync(
      prefixed,
      original.replace('${self:custom.tables.states}', '${sls:stage}-${self:custom.tables.states}'),
    );
    expect(() => loadTableDefinitions(NAMES, prefixed)).toThrow(/ReactionStatesTable\.TableName/);
  });
});

describe('createTables on dynalite', () => {
  let dynalite: RunningDynalite;
  let client: DynamoDBDocumentClient;

  beforeAll(async () => {
    dynalite = await startDynalite();
    client = createDocumentClient({ endpoint: dynalite.endpoint, region: REGION });
  });
  afterAll(async () => {
    destroyDocumentClient(client);
    await dynalite.stop();
  });

  it('creates the four tables ACTIVE with the key schemas of tables.yml', async () => {
    await createTables(client, NAMES);
    for (const def of loadTableDefinitions(NAMES)) {
      const { Table } = await client.send(
        new DescribeTableCommand({ TableName: def.input.TableName }),
      );
      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(Table?.KeySchema).toEqual(def.input.KeySchema);
      expect(Table?.AttributeDefinitions).toEqual(def.input.AttributeDefinitions);
    }
    // dynalite accepts no TTL setting and never expires anything: readers filter on expiresAt.
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: NAMES.connections }));
    expect(ttl.TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
  });

  it('is idempotent: a second run succeeds and keeps the data', async () => {
    await createTables(client, NAMES);
    await client.send(
      new PutCommand({ TableName: NAMES.counts, Item: { emoji: 'tada', count: 3, version: 3 } }),
    );
    await expect(createTables(client, NAMES)).resolves.toHaveLength(4);
    const { Item } = await client.send(
      new GetCommand({ TableName: NAMES.counts, Key: { emoji: 'tada' } }),
    );
    expect(Item).toEqual({ emoji: 'tada', count: 3, version: 3 });
    const { TableNames: tables } = await client.send(new ListTablesCommand({}));
    expect(tables?.filter((t) => t.startsWith('td-')).sort()).toEqual([
      'td-connections',
      'td-counts',
      'td-fanout',
      'td-states',
    ]);
  });
});

describe('dynalite with a data directory (classic-level, no native build)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'reactometer-dynalite-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps tables and items across a restart, and createTables finds them there', async () => {
    const first = await startDynalite({ dataDir: join(dir, 'db') });
    const c1 = createDocumentClient({ endpoint: first.endpoint, region: REGION });
    try {
      await createTables(c1, NAMES);
      await c1.send(new PutCommand({ TableName: NAMES.states, Item: { key: 'k|1', rev: 1 } }));
    } finally {
      destroyDocumentClient(c1);
      await first.stop();
    }

    const second = await startDynalite({ dataDir: join(dir, 'db') });
    const c2 = createDocumentClient({ endpoint: second.endpoint, region: REGION });
    try {
      await createTables(c2, NAMES);
      const { Item } = await c2.send(
        new GetCommand({ TableName: NAMES.states, Key: { key: 'k|1' }, ConsistentRead: true }),
      );
      expect(Item).toEqual({ key: 'k|1', rev: 1 });
    } finally {
      destroyDocumentClient(c2);
      await second.stop();
    }
  });
});

describe('dynalite-cli', () => {
  it('creates the tables, prints a ready line, and exits 0 on SIGTERM', async () => {
    const cli = fileURLToPath(new URL('../src/commands/dynalite.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', cli, '--port', '0', '--states', 'cli-states'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    try {
      const lines = createInterface({ input: child.stdout });
      const first = await new Promise<string>((resolve, reject) => {
        lines.once('line', resolve);
        void exited.then((code) => reject(new Error(`cli exited with ${code}: ${stderr}`)));
      });
      const ready = JSON.parse(first) as { msg: string; endpoint: string; tables: TableNames };
      expect(ready.msg).toBe('dynalite ready');
      expect(ready.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(ready.tables).toEqual({ ...DEFAULT_LOCAL_TABLE_NAMES, states: 'cli-states' });

      const client = createDocumentClient({ endpoint: ready.endpoint, region: REGION });
      try {
        const { TableNames: tables } = await client.send(new ListTablesCommand({}));
        expect(tables?.sort()).toEqual([
          'cli-states',
          'reactometer-local-connections',
          'reactometer-local-counts',
          'reactometer-local-fanout',
        ]);
      } finally {
        destroyDocumentClient(client);
      }
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
