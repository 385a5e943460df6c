import { DEFAULT_CONNECTIONS_PAGE_SIZE } from '../src/config.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  DeleteCommand,
  GetCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError, type ConnectionRecord } from '@reactometer/shared';
import { createDocumentClient, destroyDocumentClient } from '../src/adapters/dynamodb-client.js';
import { DynamoConnectionRegistry } from '../src/adapters/dynamodb-connection-registry.js';
import { startDynalite, type RunningDynalite } from '@reactometer/devkit/offline';
import { createTables, type TableNames } from '@reactometer/devkit/offline';

const NOW = 1_767_225_600; // epoch seconds

function record(i: number, expiresAt = NOW + 7_200): ConnectionRecord {
  return { id: `conn-${String(i).padStart(4, '0')}=`, connectedAt: NOW * 1000 + i, expiresAt };
}

async function collectPages(
  pages: AsyncIterable<readonly ConnectionRecord[]>,
): Promise<ConnectionRecord[][]> {
  const out: ConnectionRecord[][] = [];
  for await (const page of pages) out.push([...page]);
  return out;
}

function byId(records: readonly ConnectionRecord[]): ConnectionRecord[] {
  return [...records].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

describe('DynamoConnectionRegistry (dynalite)', () => {
  let dynalite: RunningDynalite;
  let client: DynamoDBDocumentClient;
  let names: TableNames;
  const registry = (pageSize = DEFAULT_CONNECTIONS_PAGE_SIZE): DynamoConnectionRegistry =>
    new DynamoConnectionRegistry({ client, table: names.connections, pageSize });

  beforeAll(async () => {
    dynalite = await startDynalite();
    client = createDocumentClient({ endpoint: dynalite.endpoint, region: 'us-east-1' });
    const id = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    names = {
      states: `r-${id}-states`,
      counts: `r-${id}-counts`,
      connections: `r-${id}-connections`,
      fanout: `r-${id}-fanout`,
    };
    await createTables(client, names);
  });
  afterAll(async () => {
    destroyDocumentClient(client);
    await dynalite.stop();
  });
  beforeEach(async () => {
    const page = await client.send(new ScanCommand({ TableName: names.connections }));
    expect(page.LastEvaluatedKey).toBeUndefined();
    await Promise.all(
      (page.Items ?? []).map((item) =>
        client.send(
          new DeleteCommand({
            TableName: names.connections,
            Key: { connectionId: item['connectionId'] },
          }),
        ),
      ),
    );
  });

  it('adds a record that pages() then yields exactly, stored under the TTL attribute', async () => {
    const r = record(1);
    await registry().add(r);
    expect(await collectPages(registry().pages(NOW))).toEqual([[r]]);
    // The item layout is what tables.yml declares: hash key connectionId, TTL on expiresAt.
    const raw = await client.send(
      new GetCommand({ TableName: names.connections, Key: { connectionId: r.id } }),
    );
    expect(raw.Item).toEqual({
      connectionId: r.id,
      connectedAt: r.connectedAt,
      expiresAt: r.expiresAt,
    });
  });

  it('overwrites a record added twice (a retried $connect)', async () => {
    await registry().add(record(1));
    const again = { ...record(1), connectedAt: NOW * 1000 + 999, expiresAt: NOW + 9_000 };
    await registry().add(again);
    expect(await collectPages(registry().pages(NOW))).toEqual([[again]]);
  });

  it('removes one record, leaves the others, and accepts removing it again or an unknown id', async () => {
    await Promise.all([1, 2, 3].map((i) => registry().add(record(i))));
    await registry().remove(record(2).id);
    expect(byId((await collectPages(registry().pages(NOW))).flat())).toEqual([
      record(1),
      record(3),
    ]);
    await expect(registry().remove(record(2).id)).resolves.toBeUndefined();
    await expect(registry().remove('never-connected=')).resolves.toBeUndefined();
    expect(byId((await collectPages(registry().pages(NOW))).flat())).toEqual([
      record(1),
      record(3),
    ]);
  });

  it('yields nothing for an empty table', async () => {
    expect(await collectPages(registry().pages(NOW))).toEqual([]);
  });

  it('reads many pages, each record exactly once and no page larger than pageSize', async () => {
    const all = Array.from({ length: 57 }, (_, i) => record(i));
    await Promise.all(all.map((r) => registry().add(r)));
    const pages = await collectPages(registry(10).pages(NOW));
    expect(pages.length).toBeGreaterThanOrEqual(6);
    expect(pages.every((p) => p.length >= 1 && p.length <= 10)).toBe(true);
    expect(byId(pages.flat())).toEqual(byId(all));
  });

  it('leaves out expired records (TTL deletes lazily, dynalite never), never yielding an empty page', async () => {
    const live = [record(1, NOW + 1), record(2, NOW + 7_200)];
    const expired = [
      record(3, NOW), // expiresAt is the last second it counts as expired: `expiresAt > now` is live
      record(4, NOW - 1),
      ...Array.from({ length: 30 }, (_, i) => record(100 + i, NOW - 3_600)),
    ];
    await Promise.all([...live, ...expired].map((r) => registry().add(r)));

    // Pages of 3 before the filter: most raw pages hold only expired records and must be skipped.
    const pages = await collectPages(registry(3).pages(NOW));
    expect(pages.every((p) => p.length > 0)).toBe(true);
    expect(byId(pages.flat())).toEqual(byId(live));

    // The same records an hour earlier are all live; a day later none is.
    expect((await collectPages(registry().pages(NOW - 3_601))).flat()).toHaveLength(
      live.length + expired.length,
    );
    expect(await collectPages(registry().pages(NOW + 86_400))).toEqual([]);
  });

  describe('when DynamoDB is unavailable', () => {
    let stopped: RunningDynalite;
    let deadClient: DynamoDBDocumentClient;
    let dead: DynamoConnectionRegistry;

    beforeAll(async () => {
      stopped = await startDynalite();
      deadClient = createDocumentClient({ endpoint: stopped.endpoint, region: 'us-east-1' });
      dead = new DynamoConnectionRegistry({
        client: deadClient,
        table: names.connections,
        pageSize: DEFAULT_CONNECTIONS_PAGE_SIZE,
      });
      await stopped.stop();
    });
    afterAll(() => destroyDocumentClient(deadClient));

    it('throws StoreUnavailableError from add, remove and pages', async () => {
      await expect(dead.add(record(1))).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(dead.remove('x')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(collectPages(dead.pages(NOW))).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
});
