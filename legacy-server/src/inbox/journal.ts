/**
 * The droplet's inbox on disk: an append-only journal of records in segment files, fsynced per
 * batch (group commit), each record length-prefixed and CRC-checked, and a checkpoint (the highest
 * sequence number applied) replaced atomically. Segments wholly at or below the checkpoint are
 * deleted. It lives on the droplet's own disk and shares nothing with MongoDB, so an outage of
 * the database never stops Slack's events from being stored.
 *
 * Why not an embedded database (LevelDB via classic-level, SQLite): the droplet is shipped as one
 * esbuild bundle with no native modules (`npm run build`), and the journal needs only append,
 * fsync, read back in order and drop a prefix; see docs/architecture.md.
 */
import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';

/** One stored record. `seq` grows by one per append and is never reused, across restarts too. */
export interface JournalRecord {
  readonly seq: number;
  /** Epoch ms when it was appended. */
  readonly at: number;
  /** The idempotency key (Slack's `event_id`). */
  readonly id: string;
  /** The payload (an encoded inbox event). */
  readonly body: string;
}

export interface JournalLogger {
  warn(obj: object, msg?: string): void;
}

export interface JournalOptions {
  /** The journal's folder (created if missing); one process at a time (`inbox.lock`). */
  readonly dir: string;
  /** A segment is closed and a new one started once it holds this many bytes (default 8 MiB). */
  readonly segmentBytes?: number;
  /** How long a checkpoint may lag behind `markApplied` (default 200 ms). */
  readonly checkpointDelayMs?: number;
  readonly logger?: JournalLogger;
}

/** What the journal held when it was opened. */
export interface Recovered {
  /** Records after the checkpoint, in order: stored, not yet applied. */
  readonly unapplied: readonly JournalRecord[];
  /** Records at or below the checkpoint still on disk (their ids still count as seen). */
  readonly applied: readonly JournalRecord[];
}

const HEADER_BYTES = 8;
/** A record larger than this is damage, not data (Slack bodies are at most 64 KiB). */
const MAX_RECORD_BYTES = 1024 * 1024;
const DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024;
const SEGMENT = /^seg-(\d{16})\.log$/;
const CHECKPOINT = 'checkpoint.json';
const LOCK = 'inbox.lock';

interface Segment {
  readonly file: string;
  readonly firstSeq: number;
  lastSeq: number;
  bytes: number;
}

interface Waiter {
  readonly record: JournalRecord;
  readonly resolve: (r: JournalRecord) => void;
  readonly reject: (err: unknown) => void;
}

function encodeRecord(r: JournalRecord): Buffer {
  const payload = Buffer.from(JSON.stringify({ s: r.seq, t: r.at, i: r.id, b: r.body }), 'utf8');
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([header, payload]);
}

/** Records of one segment, and the offset where the intact ones end. */
function decodeSegment(buf: Buffer): { records: JournalRecord[]; goodBytes: number } {
  const records: JournalRecord[] = [];
  let offset = 0;
  while (offset + HEADER_BYTES <= buf.length) {
    const length = buf.readUInt32LE(offset);
    const end = offset + HEADER_BYTES + length;
    if (length === 0 || length > MAX_RECORD_BYTES || end > buf.length) break;
    const payload = buf.subarray(offset + HEADER_BYTES, end);
    if (crc32(payload) !== buf.readUInt32LE(offset + 4)) break;
    let parsed: { s?: unknown; t?: unknown; i?: unknown; b?: unknown };
    try {
      parsed = JSON.parse(payload.toString('utf8')) as typeof parsed;
    } catch {
      break;
    }
    const { s, t, i, b } = parsed;
    if (!Number.isSafeInteger(s) || typeof t !== 'number' || typeof i !== 'string') break;
    if (typeof b !== 'string') break;
    records.push({ seq: s as number, at: t, id: i, body: b });
    offset = end;
  }
  return { records, goodBytes: offset };
}

function segmentName(firstSeq: number): string {
  return `seg-${String(firstSeq).padStart(16, '0')}.log`;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Makes a rename or an unlink in `dir` durable. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class Journal {
  private readonly segments: Segment[] = [];
  private current: { segment: Segment; handle: FileHandle } | null = null;
  private queue: Waiter[] = [];
  private flushing: Promise<void> | null = null;
  private flushActive = false;
  private lastSeq: number;
  private appliedThrough: number;
  private checkpointed: number;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private checkpointing: Promise<void> = Promise.resolve();
  /** Set when a failed write could not be undone: nothing more is appended until a restart. */
  private broken: Error | null = null;
  private closed = false;
  private readonly segmentBytes: number;
  private readonly checkpointDelayMs: number;

  private constructor(
    private readonly dir: string,
    checkpoint: number,
    lastSeq: number,
    options: JournalOptions,
  ) {
    this.appliedThrough = checkpoint;
    this.checkpointed = checkpoint;
    this.lastSeq = lastSeq;
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.checkpointDelayMs = options.checkpointDelayMs ?? 200;
  }

  /**
   * Opens (or creates) the journal in `options.dir`, takes its lock, and reads it back. A torn
   * record at the end of the last segment (a crash mid-write, never acknowledged) is cut off.
   */
  static async open(options: JournalOptions): Promise<{ journal: Journal; recovered: Recovered }> {
    const dir = path.resolve(options.dir);
    await mkdir(dir, { recursive: true });
    await takeLock(dir);
    const checkpoint = await readCheckpoint(dir, options.logger);
    const files = (await readdir(dir))
      .map((f) => ({ f, m: SEGMENT.exec(f) }))
      .filter((x): x is { f: string; m: RegExpExecArray } => x.m !== null)
      .sort((a, b) => Number(a.m[1]) - Number(b.m[1]));
    const unapplied: JournalRecord[] = [];
    const applied: JournalRecord[] = [];
    const segments: Segment[] = [];
    let lastSeq = checkpoint;
    for (const [index, { f, m }] of files.entries()) {
      const file = path.join(dir, f);
      const buf = await readFile(file);
      const { records, goodBytes } = decodeSegment(buf);
      if (goodBytes < buf.length) {
        const isLast = index === files.length - 1;
        options.logger?.warn(
          { file, goodBytes, bytes: buf.length, isLast },
          isLast
            ? 'inbox journal: cutting off a torn record at the end (never acknowledged)'
            : 'inbox journal: damaged record in a closed segment; the rest of it is skipped',
        );
        if (isLast) {
          const handle = await open(file, 'r+');
          await handle.truncate(goodBytes);
          await handle.sync();
          await handle.close();
        }
      }
      for (const r of records) (r.seq > checkpoint ? unapplied : applied).push(r);
      const segLast = records.at(-1)?.seq ?? Number(m[1]) - 1;
      lastSeq = Math.max(lastSeq, segLast);
      segments.push({ file, firstSeq: Number(m[1]), lastSeq: segLast, bytes: goodBytes });
    }
    const journal = new Journal(dir, checkpoint, lastSeq, options);
    journal.segments.push(...segments);
    await journal.dropAppliedSegments();
    return { journal, recovered: { unapplied, applied } };
  }

  /** The highest sequence number handed out. */
  get lastSequence(): number {
    return this.lastSeq;
  }

  /**
   * Appends one record; resolves once it is on disk (fsynced). Appends that arrive while a
   * write is in progress are written and fsynced together by the next one (group commit).
   */
  append(id: string, body: string): Promise<JournalRecord> {
    if (this.closed) return Promise.reject(new Error('inbox journal is closed'));
    if (this.broken !== null) return Promise.reject(this.broken);
    const record: JournalRecord = { seq: ++this.lastSeq, at: Date.now(), id, body };
    return new Promise<JournalRecord>((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      if (!this.flushActive) {
        this.flushActive = true;
        this.flushing = this.flush();
      }
    });
  }

  /** Records that every record up to `seq` is applied; a checkpoint follows shortly. */
  markApplied(seq: number): void {
    if (seq <= this.appliedThrough) return;
    this.appliedThrough = seq;
    this.checkpointTimer ??= setTimeout(() => {
      this.checkpointTimer = null;
      this.checkpointing = this.checkpointing.then(() => this.writeCheckpoint());
    }, this.checkpointDelayMs);
  }

  /** Waits for queued appends and the checkpoint, then releases the files and the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flushing;
    this.closed = true;
    if (this.checkpointTimer !== null) {
      clearTimeout(this.checkpointTimer);
      this.checkpointTimer = null;
    }
    await this.checkpointing;
    await this.writeCheckpoint();
    await this.current?.handle.close();
    this.current = null;
    await rm(path.join(this.dir, LOCK), { force: true });
    openHere.delete(this.dir);
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          await this.writeBatch(batch.map((w) => w.record));
          for (const w of batch) w.resolve(w.record);
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      // Cleared in the same turn as the last look at the queue: an append that comes after it
      // starts a new flush, and none can slip in between and wait forever.
      this.flushActive = false;
    }
  }

  private async writeBatch(records: readonly JournalRecord[]): Promise<void> {
    const first = records[0];
    if (first === undefined) return;
    if (this.current === null || this.current.segment.bytes >= this.segmentBytes) {
      await this.rotate(first.seq);
    }
    const current = this.current!;
    const buf = Buffer.concat(records.map(encodeRecord));
    const before = current.segment.bytes;
    try {
      await current.handle.write(buf, 0, buf.length, before);
      // One fsync for the whole batch: this is what makes every append in it durable.
      await current.handle.datasync();
    } catch (err) {
      // A partial write would leave garbage in front of the next record, and recovery stops at
      // the first bad record: cut the file back to its last good end, or stop appending.
      try {
        await current.handle.truncate(before);
        await current.handle.datasync();
      } catch {
        this.broken = new Error(`inbox journal ${current.segment.file} could not be repaired`, {
          cause: err,
        });
      }
      throw err;
    }
    current.segment.bytes = before + buf.length;
    current.segment.lastSeq = records.at(-1)!.seq;
  }

  private async rotate(firstSeq: number): Promise<void> {
    if (this.current !== null) {
      await this.current.handle.close();
      this.current = null;
    }
    const reuse = this.segments.at(-1);
    if (reuse !== undefined && reuse.bytes < this.segmentBytes) {
      // After a restart: keep appending to the last segment.
      this.current = { segment: reuse, handle: await open(reuse.file, 'r+') };
      return;
    }
    const segment: Segment = {
      file: path.join(this.dir, segmentName(firstSeq)),
      firstSeq,
      lastSeq: firstSeq - 1,
      bytes: 0,
    };
    const handle = await open(segment.file, 'wx');
    // The new file's directory entry must survive a crash as well as its contents.
    await syncDir(this.dir);
    this.segments.push(segment);
    this.current = { segment, handle };
  }

  private async writeCheckpoint(): Promise<void> {
    const through = this.appliedThrough;
    if (through <= this.checkpointed) return;
    const tmp = path.join(this.dir, `${CHECKPOINT}.tmp`);
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(JSON.stringify({ appliedThrough: through }));
      await handle.sync();
    } finally {
      await handle.close();
    }
    // rename replaces the old checkpoint atomically: a crash leaves the old one or the new one.
    await rename(tmp, path.join(this.dir, CHECKPOINT));
    await syncDir(this.dir);
    this.checkpointed = through;
    await this.dropAppliedSegments();
  }

  /** Deletes closed segments whose every record is at or below the checkpoint. */
  private async dropAppliedSegments(): Promise<void> {
    while (this.segments.length > 0) {
      const oldest = this.segments[0]!;
      const isCurrent = this.current?.segment === oldest;
      const isLast = this.segments.length === 1;
      if (oldest.lastSeq > this.checkpointed) return;
      if (isCurrent || (isLast && oldest.bytes < this.segmentBytes && oldest.bytes > 0)) {
        // The segment being appended to stays until it is full.
        return;
      }
      await rm(oldest.file, { force: true });
      this.segments.shift();
    }
  }
}

async function readCheckpoint(dir: string, logger?: JournalLogger): Promise<number> {
  let text: string;
  try {
    text = await readFile(path.join(dir, CHECKPOINT), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let through: unknown;
  try {
    through = (JSON.parse(text) as { appliedThrough?: unknown } | null)?.appliedThrough;
  } catch {
    through = undefined;
  }
  if (Number.isSafeInteger(through) && (through as number) >= 0) return through as number;
  // Starting from 0 re-applies what is still on disk, which the counting model makes harmless.
  logger?.warn({ text }, 'inbox journal: unreadable checkpoint; re-applying what is on disk');
  return 0;
}

/** Journals open in this process (the lock file names the process, not the journal). */
const openHere = new Set<string>();

/** One process per journal: a second one appending to the same files would interleave records. */
async function takeLock(dir: string): Promise<void> {
  if (openHere.has(dir)) throw new Error(`inbox journal ${dir} is already open in this process`);
  const lock = path.join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lock, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      openHere.add(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      if (
        Number.isSafeInteger(holder) &&
        holder > 0 &&
        holder !== process.pid &&
        pidAlive(holder)
      ) {
        throw new Error(`inbox journal ${dir} is in use by process ${holder}`, { cause: err });
      }
      // Left by a process that died (SIGKILL, power cut): take it over.
      await rm(lock, { force: true });
    }
  }
  throw new Error(`inbox journal ${dir}: could not take ${LOCK}`);
}
