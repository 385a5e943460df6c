// The reconcile command as an operator runs it: a child process against a real FerretDB whose
// counts were made wrong on purpose (as a crash between the two writes would leave them).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  applyReactionEvent,
  parseSlackPayload,
  systemClock,
  type ReactionEvent,
} from '@reactometer/shared';
import { RecordingPublisher, reactionEventPayload } from '@reactometer/shared/testing';
import { freePort } from '@reactometer/devkit';
import type { MongoReactionStore } from '../src/mongo-reaction-store.js';
import { startTestDatabase, type TestDatabase } from '@reactometer/devkit/droplet';

const CLI = fileURLToPath(new URL('../src/reconcile-cli.ts', import.meta.url));
const TSX_CLI = path.join(
  path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')),
  'dist',
  'cli.mjs',
);

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [TSX_CLI, CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const killer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    proc.once('error', reject);
    proc.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

let db: TestDatabase;
let store: MongoReactionStore;
let env: Record<string, string>;
const emoji = `recon-${Date.now().toString(36)}`;

async function countOf(name: string): Promise<number | undefined> {
  return (await store.listCounts()).find((c) => c.emoji === name)?.count;
}

beforeAll(async () => {
  db = await startTestDatabase();
  store = await db.openStore();
  env = { MONGODB_URI: db.ferret.uri, MONGODB_DB: db.dbName };
  // Two real reactions through the core, so that the stored states say the count is 2.
  const deps = {
    store,
    publisher: new RecordingPublisher(),
    clock: systemClock,
    pendingLeaseMs: 10_000,
  };
  for (const user of ['U1', 'U2']) {
    const body = reactionEventPayload({
      eventId: `Ev${user}`,
      type: 'reaction_added',
      user,
      reaction: emoji,
      eventTs: '1700000000.000100',
      item: { type: 'message', channel: 'C1', ts: '1700000000.000001' },
    });
    await applyReactionEvent(
      parseSlackPayload(Buffer.from(JSON.stringify(body))) as ReactionEvent,
      deps,
    );
  }
  const current = (await store.listCounts()).find((c) => c.emoji === emoji)!;
  expect(current.count).toBe(2);
  // The drift: a count that no longer matches the states.
  await store.setCount(emoji, 7, current.version);
}, 60_000);

afterAll(async () => {
  await db?.cleanup();
});

describe('reconcile-cli', () => {
  it('--dry-run reports the drift, changes nothing and exits 1', async () => {
    const run = await runCli(['--dry-run'], env);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      dryRun: true,
      database: db.dbName,
      statesScanned: 2,
      drift: [{ emoji, stored: 7, expected: 2, repaired: false }],
    });
    expect(run.stderr).toContain(`${emoji}: stored 7, expected 2`);
    expect(await countOf(emoji)).toBe(7);
  });

  it('repairs the drift and exits 0; a second run finds nothing', async () => {
    const repair = await runCli([], env);
    expect(repair.code).toBe(0);
    expect(JSON.parse(repair.stdout)).toMatchObject({
      dryRun: false,
      drift: [{ emoji, stored: 7, expected: 2, repaired: true }],
    });
    expect(await countOf(emoji)).toBe(2);

    const check = await runCli(['--dry-run'], env);
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ drift: [], skipped: [] });
    expect(check.stderr).toContain('every count matches');
  });

  it('exits 2 on an unknown flag, bad configuration or an unreachable database', async () => {
    const flag = await runCli(['--repair-everything'], env);
    expect(flag.code).toBe(2);
    expect(flag.stderr.trim().split('\n')).toHaveLength(1);
    expect(flag.stderr).toContain("'--repair-everything'");

    const config = await runCli([], { ...env, PENDING_LEASE_MS: 'soon' });
    expect(config.code).toBe(2);
    expect(config.stderr).toContain('PENDING_LEASE_MS: must be an integer');

    const unreachable = await runCli([], {
      ...env,
      MONGODB_URI: `mongodb://127.0.0.1:${await freePort()}/`,
    });
    expect(unreachable.code).toBe(2);
    expect(unreachable.stdout).toBe('');
    expect(unreachable.stderr).toContain('reconcile failed');
  });
});
