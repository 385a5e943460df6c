import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  applyReactionEvent,
  systemClock,
  type EmojiCount,
  type ReactionEvent,
  type ReactionState,
  type ReactionStore,
} from '@reactometer/shared';
import { RecordingPublisher } from '@reactometer/shared/testing';
import {
  createMongoReactionStore,
  type MongoReactionStore,
} from '@reactometer/legacy-server/mongo-reaction-store';
import { DynamoReactionStore, type TableNames } from '@reactometer/serverless';
import {
  migrateReactions,
  verifyMigration,
  type MigrationReport,
} from '../src/migrate-reactions.js';
import type { MigrationDeps } from '../src/ports.js';
import { startLocalStores, type LocalStores } from './support/local-stores.js';
import { runMigrateCli } from './support/run-migrate-cli.js';

const LEASE_MS = 10_000;

let stores: LocalStores | undefined;
const mongoStores: MongoReactionStore[] = [];
let seq = 0;

beforeAll(async () => {
  stores = await startLocalStores();
}, 120_000);

afterAll(async () => {
  await Promise.all(mongoStores.map((s) => s.close().catch(() => undefined)));
  await stores?.stop();
});

function reaction(
  user: string,
  name: string,
  present: boolean,
  seconds: number,
  channel = 'C1',
): ReactionEvent {
  return {
    kind: 'reaction',
    eventId: `Ev${++seq}`,
    team: 'T1',
    user,
    reaction: name,
    item: { type: 'message', channel, ts: '1700000000.000100' },
    present,
    eventTs: { seconds, micros: 123456 },
  };
}

async function apply(store: ReactionStore, event: ReactionEvent): Promise<void> {
  await applyReactionEvent(event, {
    store,
    publisher: new RecordingPublisher(),
    clock: systemClock,
    pendingLeaseMs: LEASE_MS,
  });
}

/** The droplet's history, through the real counting model: adds, removes, skin tones. */
const HISTORY: readonly ReactionEvent[] = [
  reaction('U1', '+1', true, 1_700_000_100),
  reaction('U2', '+1', true, 1_700_000_101),
  reaction('U3', '+1::skin-tone-2', true, 1_700_000_102),
  reaction('U4', '+1::skin-tone-5', true, 1_700_000_103),
  reaction('U2', '+1', false, 1_700_000_104), // removed again
  reaction('U1', 'tada', true, 1_700_000_105),
  reaction('U5', 'heart', false, 1_700_000_106), // removal of a reaction never seen: no count
  reaction('U6', 'eyes', true, 1_700_000_107, 'C2'),
  reaction('U6', 'eyes', false, 1_700_000_108, 'C2'), // count back to 0, kept at 0
  reaction('U7', 'rocket', true, 1_700_000_109, 'C2'),
];

interface Pair {
  readonly source: MongoReactionStore;
  readonly target: DynamoReactionStore;
  readonly deps: MigrationDeps;
  readonly names: TableNames;
  readonly mongoDb: string;
}

/** A seeded MongoDB database of its own and empty DynamoDB tables of their own. */
async function freshPair(): Promise<Pair> {
  const id = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const mongoDb = `migrate_${id.replace(/-/g, '_')}`;
  const source = await createMongoReactionStore({ uri: stores!.mongoUri, dbName: mongoDb });
  mongoStores.push(source);
  for (const event of HISTORY) await apply(source, event);
  // A pending marker from a crash long ago (older than the lease) whose count is already
  // applied: the migration must carry it over verbatim.
  const rocketKey = 'T1|message%3AC2%3A1700000000.000100|U7|rocket';
  const rocket = await source.getState(rocketKey);
  expect(rocket).not.toBeNull();
  await source.putState(
    { ...rocket!, pending: { delta: 1, since: 1_000 }, rev: rocket!.rev + 1 },
    rocket!.rev,
  );

  const names: TableNames = {
    states: `m-${id}-states`,
    counts: `m-${id}-counts`,
    connections: `m-${id}-connections`,
    fanout: `m-${id}-fanout`,
  };
  await stores!.createTables(names);
  const target = new DynamoReactionStore({
    client: stores!.client,
    statesTable: names.states,
    countsTable: names.counts,
    scanPageSize: 4, // many pages even for this small data set
  });
  return {
    source,
    target,
    names,
    mongoDb,
    deps: {
      source,
      target,
      targetCounts: target,
      clock: systemClock,
      pendingLeaseMs: LEASE_MS,
    },
  };
}

/** A migrated pair whose source then applied an event the target never got (U1 removes tada). */
async function pairWithSourceAhead(): Promise<Pair> {
  const pair = await freshPair();
  expect((await migrateReactions(pair.deps)).ok).toBe(true);
  await apply(pair.source, reaction('U1', 'tada', false, 1_700_000_300));
  return pair;
}

async function allStates(store: ReactionStore): Promise<ReactionState[]> {
  const out: ReactionState[] = [];
  for await (const s of store.scanStates()) out.push(s);
  return out.sort((a, b) => (a.key < b.key ? -1 : 1));
}

const byEmoji = (counts: EmojiCount[]): EmojiCount[] =>
  [...counts].sort((a, b) => (a.emoji < b.emoji ? -1 : 1));

function errorsOf(report: MigrationReport) {
  return report.findings.filter((f) => f.severity === 'error');
}

describe('migrate MongoDB (FerretDB) -> DynamoDB (dynalite)', () => {
  it('copies every state and count verbatim and verifies itself', async () => {
    const { source, target, deps } = await freshPair();
    const sourceStates = await allStates(source);
    const sourceCounts = byEmoji(await source.listCounts());
    // 8 distinct reactions: U2's +1 (added, removed) is one state, so is U6's eyes.
    expect(sourceStates).toHaveLength(8);
    expect(sourceCounts.find((c) => c.emoji === '+1')?.count).toBe(3);

    const report = await migrateReactions(deps, { batchSize: 3 });

    expect(errorsOf(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.copy).toMatchObject({
      statesRead: 8,
      statesCopied: 8,
      statesAlreadyIdentical: 0,
      countsRead: sourceCounts.length,
      countsCopied: sourceCounts.length,
    });
    // Same keys, revs, canonical eventTs strings and pending markers.
    expect(await allStates(target)).toEqual(sourceStates);
    // Same counts with the same versions, the zero count of `eyes` included.
    expect(byEmoji(await target.listCounts())).toEqual(sourceCounts);
    expect(sourceCounts.find((c) => c.emoji === 'eyes')).toMatchObject({ count: 0 });
    const v = report.verify!;
    expect(v.source.digest).toBe(v.target.digest);
    expect(v.states.identical).toBe(8);
    expect(v.countMismatches).toBe(0);
    expect(v.targetReconcile.drift).toEqual([]);
  });

  it('is idempotent: a second run copies nothing and reports "already present, identical"', async () => {
    const { deps } = await freshPair();
    await migrateReactions(deps);
    const again = await migrateReactions(deps);
    expect(again.ok).toBe(true);
    expect(again.copy).toMatchObject({
      statesCopied: 0,
      statesAlreadyIdentical: 8,
      statesDiffering: 0,
      countsCopied: 0,
      countsDiffering: 0,
    });
    expect(again.copy!.countsAlreadyIdentical).toBe(again.copy!.countsRead);
  });

  it('resumes after an interrupted run (half the states already there)', async () => {
    const { source, target, deps } = await freshPair();
    const states = await allStates(source);
    for (const s of states.slice(0, 4)) expect(await target.putState(s, null)).toBe(true);
    const report = await migrateReactions(deps);
    expect(report.ok).toBe(true);
    expect(report.copy).toMatchObject({ statesCopied: 4, statesAlreadyIdentical: 4 });
  });

  it('a dry run reports what it would copy and writes nothing', async () => {
    const { target, deps } = await freshPair();
    const report = await migrateReactions(deps, { dryRun: true });
    expect(report.ok).toBe(true);
    expect(report.verify).toBeNull();
    expect(report.copy).toMatchObject({ statesCopied: 8 });
    expect(await allStates(target)).toEqual([]);
    expect(await target.listCounts()).toEqual([]);
  });

  it('fails verification naming a tampered count on the target', async () => {
    const { target, deps } = await freshPair();
    expect((await migrateReactions(deps)).ok).toBe(true);
    const tada = (await target.listCounts()).find((c) => c.emoji === 'tada')!;
    expect(await target.setCount('tada', 5, tada.version)).not.toBeNull();

    const report = await verifyMigration(deps);

    expect(report.ok).toBe(false);
    const errors = errorsOf(report);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ subject: 'count', id: 'tada' }),
        expect.objectContaining({ subject: 'reconcile', id: 'tada' }),
      ]),
    );
    expect(errors.every((e) => e.id === 'tada')).toBe(true);
    expect(errors.find((e) => e.subject === 'count')?.message).toMatch(/is 5 .*expected 1/);
  });

  it('dual feed: a state newer on the target and a reaction only the target saw are reported, not errors', async () => {
    const { target, deps } = await freshPair();
    expect((await migrateReactions(deps)).ok).toBe(true);
    // Events that reached the serverless deployment but not (yet) the droplet.
    await apply(target, reaction('U1', '+1', false, 1_700_000_200));
    await apply(target, reaction('U8', 'rocket', true, 1_700_000_201, 'C3'));

    const report = await migrateReactions(deps);

    expect(errorsOf(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.verify!.states).toMatchObject({ 'target-newer': 1, 'target-only': 1 });
    const info = report.findings.filter((f) => f.severity === 'info').map((f) => f.message);
    expect(info.some((m) => m.includes('newer on the target (dual feed)'))).toBe(true);
    expect(info.some((m) => m.includes('only on the target (dual feed)'))).toBe(true);
    // +1 is 2 on the target and 3 on the source: explained by the newer state.
    expect(
      info.some((m) => /count 2 on the target differs from the source, explained/.test(m)),
    ).toBe(true);
  });

  it('a state newer on the source (the target missed an event) is an error naming the reaction', async () => {
    const { deps } = await pairWithSourceAhead();

    const report = await verifyMigration(deps);

    expect(report.ok).toBe(false);
    const stateErrors = errorsOf(report).filter((f) => f.subject === 'state');
    expect(stateErrors).toHaveLength(1);
    expect(stateErrors[0]!.id).toContain('tada');
    expect(stateErrors[0]!.message).toContain('newer on the source');
  });

  it('a difference the copy runs into is judged once, by the verification', async () => {
    const { deps } = await pairWithSourceAhead();

    const report = await migrateReactions(deps);

    expect(report.ok).toBe(false);
    // The copy notes it (info) and leaves it to verify, which reads both sides again.
    const notes = report.findings.filter((f) => f.subject === 'state' && f.severity === 'info');
    expect(notes.map((f) => f.message)).toEqual([
      expect.stringMatching(/^not copied: newer on the source.*; checked by verify$/),
    ]);
    expect(errorsOf(report).filter((f) => f.subject === 'state')).toHaveLength(1);
    expect(report.errors).toBe(1);
  });

  it('refuses dryRun with verifyOnly, which would check nothing and report OK', async () => {
    const { deps } = await freshPair();
    await expect(migrateReactions(deps, { dryRun: true, verifyOnly: true })).rejects.toThrow(
      RangeError,
    );
  });

  it('dual feed started before the copy: the early target count is reported, and --repair-counts fixes it', async () => {
    const { target, deps } = await freshPair();
    // Dual feed ran before the migration: the target counted one new +1 from zero.
    await apply(target, reaction('U9', '+1', true, 1_700_000_400, 'C9'));

    const plain = await migrateReactions(deps);
    expect(plain.ok).toBe(false);
    expect(errorsOf(plain).map((e) => `${e.subject}:${e.id}`)).toEqual(
      expect.arrayContaining(['count:+1', 'reconcile:+1']),
    );

    const repaired = await migrateReactions(deps, { repairCounts: true });
    expect(errorsOf(repaired)).toEqual([]);
    expect(repaired.ok).toBe(true);
    expect((await target.listCounts()).find((c) => c.emoji === '+1')?.count).toBe(4);
  });
});

describe('npm run migrate (CLI, a child process)', () => {
  it('migrates, then re-runs idempotently, exiting 0 both times', async () => {
    const { names, mongoDb } = await freshPair();
    const args = [
      '--mongodb-uri',
      stores!.mongoUri,
      '--mongodb-db',
      mongoDb,
      '--dynamodb-endpoint',
      stores!.dynamoEndpoint,
      '--states-table',
      names.states,
      '--counts-table',
      names.counts,
      '--batch-size',
      '5',
    ];
    const first = await runMigrateCli(args);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/copied 8; already present, identical: 0/);
    const second = await runMigrateCli([...args, '--json']);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/copied 0; already present, identical: 8/);
    expect(JSON.parse(second.stdout).ok).toBe(true);
  });

  it('a failure (here a missing table) is one line and exit 2, never a stack trace', async () => {
    const { names } = await freshPair();
    const run = await runMigrateCli([
      '--mongodb-uri',
      stores!.mongoUri,
      '--dynamodb-endpoint',
      stores!.dynamoEndpoint,
      '--states-table',
      `${names.states}-missing`,
      '--counts-table',
      names.counts,
    ]);
    expect(run.code).toBe(2);
    const lines = run.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^migrate: migration failed: /);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});
