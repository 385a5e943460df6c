/**
 * The local tables, read from the same CloudFormation fragment that serverless.yml deploys
 * (infra/tables.yml), so that dynalite always has the deployed key schemas.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateTableCommand,
  DescribeTableCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type KeySchemaElement,
  type ProvisionedThroughput,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import yaml from 'js-yaml';

import type { TableNames } from '@reactometer/serverless';
import { SERVERLESS_DIR } from '../workspaces.js';

export type { TableNames };
export type TableRole = keyof TableNames;

export const DEFAULT_LOCAL_TABLE_NAMES: TableNames = {
  states: 'reactometer-local-states',
  counts: 'reactometer-local-counts',
  connections: 'reactometer-local-connections',
  fanout: 'reactometer-local-fanout',
};

/** Absolute path of serverless/infra/tables.yml. */
export const TABLES_YML_PATH = path.join(SERVERLESS_DIR, 'infra', 'tables.yml');

/** One `AWS::DynamoDB::Table` resource as written in tables.yml (only what we read is typed). */
export interface TableResource {
  readonly Type: string;
  readonly Properties: {
    readonly TableName: string;
    readonly BillingMode?: string;
    readonly ProvisionedThroughput?: ProvisionedThroughput;
    readonly AttributeDefinitions: AttributeDefinition[];
    readonly KeySchema: KeySchemaElement[];
    readonly PointInTimeRecoverySpecification?: { readonly PointInTimeRecoveryEnabled?: boolean };
    readonly TimeToLiveSpecification?: {
      readonly AttributeName?: string;
      readonly Enabled?: boolean;
    };
    readonly SSESpecification?: unknown;
    readonly [property: string]: unknown;
  };
}

/** What a local table needs, plus the settings dynalite cannot apply (for checks and docs). */
export interface LocalTableDefinition {
  /** CloudFormation logical id, e.g. `ReactionStatesTable`. */
  readonly logicalId: string;
  readonly role: TableRole;
  /** Ready for `CreateTableCommand`: names substituted; PITR, TTL and SSE left out. */
  readonly input: CreateTableCommandInput;
  /** The TTL attribute when TTL is enabled; dynalite never expires items, so readers filter. */
  readonly ttlAttribute: string | null;
  readonly pointInTimeRecovery: boolean;
}

const PLACEHOLDER = /\$\{self:custom\.tables\.([A-Za-z]+)\}/g;

function isRole(value: string): value is TableRole {
  return value === 'states' || value === 'counts' || value === 'connections' || value === 'fanout';
}

/** The `Resources` map of tables.yml, untouched (placeholders still in). */
export function readTableResources(file: string = TABLES_YML_PATH): Record<string, TableResource> {
  const doc = yaml.load(readFileSync(file, 'utf8')) as {
    Resources?: Record<string, TableResource>;
  } | null;
  const resources = doc?.Resources;
  if (resources === undefined || typeof resources !== 'object') {
    throw new Error(`${file}: no Resources map`);
  }
  return resources;
}

/**
 * Every table of tables.yml as a local definition, with `${self:custom.tables.<role>}` replaced
 * by `names[role]`. Throws on any other placeholder or an unexpected resource type, because a
 * value the local stack cannot resolve would silently differ from the deployed one.
 */
export function loadTableDefinitions(
  names: TableNames = DEFAULT_LOCAL_TABLE_NAMES,
  file: string = TABLES_YML_PATH,
): LocalTableDefinition[] {
  return Object.entries(readTableResources(file)).map(([logicalId, resource]) => {
    if (resource.Type !== 'AWS::DynamoDB::Table') {
      throw new Error(`${file}: ${logicalId} is a ${resource.Type}, not an AWS::DynamoDB::Table`);
    }
    const p = resource.Properties;
    const match = [...p.TableName.matchAll(PLACEHOLDER)];
    const role = match.length === 1 && match[0]?.[0] === p.TableName ? match[0][1] : undefined;
    if (role === undefined || !isRole(role)) {
      throw new Error(
        `${file}: ${logicalId}.TableName must be exactly \${self:custom.tables.<states|counts|connections|fanout>}, got ${p.TableName}`,
      );
    }
    const ttl = p.TimeToLiveSpecification;
    // Only what CreateTable takes and dynalite implements: PITR and TTL are separate API calls on
    // real DynamoDB (dynalite has no UpdateTimeToLive / UpdateContinuousBackups), and encryption
    // at rest has no meaning in a local store.
    const input: CreateTableCommandInput = {
      TableName: names[role],
      AttributeDefinitions: p.AttributeDefinitions,
      KeySchema: p.KeySchema,
      ...(p.BillingMode === 'PROVISIONED'
        ? { BillingMode: 'PROVISIONED', ProvisionedThroughput: p.ProvisionedThroughput }
        : { BillingMode: 'PAY_PER_REQUEST' }),
    };
    return {
      logicalId,
      role,
      input,
      ttlAttribute:
        ttl?.Enabled === true && ttl.AttributeName !== undefined ? ttl.AttributeName : null,
      pointInTimeRecovery: p.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled === true,
    };
  });
}

function errorName(err: unknown): unknown {
  // Duck-typed: `instanceof Error` fails for errors from another realm (Jest's vm modules).
  return typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
}

export interface CreateTablesOptions {
  /** Another tables.yml (tests). */
  readonly file?: string;
  /** How long to wait for each table to become ACTIVE (default 30 s). */
  readonly timeoutMs?: number;
}

/**
 * Creates every table of tables.yml that does not exist yet and waits until all are ACTIVE.
 * Idempotent: an existing table (ResourceInUseException) is left as it is, data included.
 * Returns the definitions it applied.
 */
export async function createTables(
  client: DynamoDBClient | DynamoDBDocumentClient,
  names: TableNames = DEFAULT_LOCAL_TABLE_NAMES,
  options: CreateTablesOptions = {},
): Promise<LocalTableDefinition[]> {
  const definitions = loadTableDefinitions(names, options.file);
  // The DocumentClient shares the plain client's middleware and passes control-plane commands
  // through untouched; its `send` overloads only differ in the input types they accept.
  const send = client.send.bind(client) as DynamoDBClient['send'];
  const timeoutMs = options.timeoutMs ?? 30_000;
  for (const def of definitions) {
    try {
      await send(new CreateTableCommand(def.input));
    } catch (err) {
      if (errorName(err) !== 'ResourceInUseException') throw err;
    }
  }
  for (const def of definitions) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const out = await send(new DescribeTableCommand({ TableName: def.input.TableName }));
      if (out.Table?.TableStatus === 'ACTIVE') break;
      if (Date.now() > deadline) {
        throw new Error(
          `table ${def.input.TableName} is still ${out.Table?.TableStatus} after ${timeoutMs} ms`,
        );
      }
      await sleep(50);
    }
  }
  return definitions;
}
