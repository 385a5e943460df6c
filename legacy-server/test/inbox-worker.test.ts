import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { OverloadedError, systemClock, type ReactionEvent } from '@reactometer/shared';
import {
  InMemoryReactionStore,
  RecordingPublisher,
  eventually,
  parsedReactionEvent,
} from '@reactometer/shared/testing';
import { InboxWorker } from '../src/inbox/inbox-worker.js';
import { JournalInbox } from '../src/inbox/journal-inbox.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reactometer-inbox-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

let seq = 0;
const event = (
  user: string,
  type: 'reaction_added' | 'reaction_removed',
  ts: number,
  reaction = 'tada',
): ReactionEvent =>
  parsedReactionEvent({
    eventId: `Ev${++seq}`,
    type,
    user,
    reaction,
    item: { type: 'message', channel: 'C1', ts: '1.1' },
    eventTs: `${ts}.000000`,
  });

const open = (maxPending = 1000) => JournalInbox.open({ dir, maxPending, maxAppendsInFlight: 100 });

describe('the journal inbox', () => {
  it('stores an event once per event_id, and keeps unapplied events across a restart', async () => {
    const inbox = await open();
    const add = event('U1', 'reaction_added', 100);
    expect(await inbox.append(add)).toBe('appended');
    expect(await Promise.all([inbox.append(add), inbox.append(add)])).toEqual([
      'duplicate',
      'duplicate',
    ]);
    await inbox.append(event('U2', 'reaction_added', 101));
    await inbox.close();
    const again = await open();
    expect(again.head(10).map((p) => p.event)).toEqual([add, expect.anything()]);
    // Still a duplicate after the restart.
    expect(await again.append(add)).toBe('duplicate');
    await again.close();
  });

  it('refuses at once with 503 overloaded past its backlog limit, storing nothing', async () => {
    const inbox = await open(2);
    await inbox.append(event('U1', 'reaction_added', 100));
    await inbox.append(event('U2', 'reaction_added', 100));
    await expect(inbox.append(event('U3', 'reaction_added', 100))).rejects.toBeInstanceOf(
      OverloadedError,
    );
    expect(inbox.size).toBe(2);
    await inbox.close();
  });

  it('remembers applied ids, so that a late Slack retry is a duplicate', async () => {
    const inbox = await open();
    const add = event('U1', 'reaction_added', 100);
    await inbox.append(add);
    inbox.completeHead(1);
    expect(inbox.size).toBe(0);
    expect(await inbox.append(add)).toBe('duplicate');
    await inbox.close();
  });
});

describe('the inbox worker', () => {
  it('waits out a store outage with backoff, then applies everything exactly once, in order', async () => {
    const inbox = await open();
    const store = new InMemoryReactionStore();
    const publisher = new RecordingPublisher();
    const worker = new InboxWorker({
      inbox,
      counting: { store, publisher, clock: systemClock, pendingLeaseMs: 10_000 },
      backoffMinMs: 5,
      backoffMaxMs: 20,
    });
    store.setDown(true);
    worker.start();
    // One reaction added then removed, and 20 distinct adds; a retry of each too.
    const events = [
      event('U0', 'reaction_added', 100),
      event('U0', 'reaction_removed', 200),
      ...Array.from({ length: 20 }, (_, i) => event(`U${i + 1}`, 'reaction_added', 100)),
    ];
    for (const e of events) await inbox.append(e);
    for (const e of events) expect(await inbox.append(e)).toBe('duplicate');
    await eventually('the worker to report the outage', () => worker.status().lastErrorCode);
    expect(worker.status()).toMatchObject({
      pending: events.length,
      draining: false,
      lastErrorCode: 'store_unavailable',
    });
    store.setDown(false);
    await worker.drained();
    expect(store.counts.get('tada')?.count).toBe(20);
    expect(worker.status()).toEqual({
      pending: 0,
      oldestAgeMs: 0,
      draining: false,
      lastErrorCode: null,
    });
    await worker.stop();
    await inbox.close();
    // Nothing is applied twice after a restart: the checkpoint removed the applied events.
    const again = await open();
    expect(again.size).toBe(0);
    await again.close();
  });
});
