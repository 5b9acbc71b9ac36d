import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  fstatSync,
  fsync,
} from 'node:fs';
import { join } from 'node:path';
import {
  INGEST_BATCH_VERSION,
  INGEST_MAX_RECORDS,
  type IngestBatch,
  type IngestDevice,
  type IngestRecord,
} from '@lyotrace/contracts';
import type { BridgeLog } from '../bridge-log.js';
import { crc32 } from '../codec/checksums.js';

/**
 * The durable on-disk spool (issue 5): every record a device hands over is written here, checksummed and
 * fsync'ed, BEFORE the device is acknowledged; it leaves only after the API has committed it.
 *
 * Layout of the directory:
 *   seg-<n>.log     append-only segments of entries: magic "LYS1", u32 LE payload length, u32 LE CRC-32 of
 *                   the payload, payload = one delivery as JSON (id, device, mission, live, records)
 *   acked.log       append-only list of entry ids the API committed: magic "LYA1", length, CRC-32, JSON ids
 *   state.json      written atomically (tmp + fsync + rename): the id counter and each stream's highest
 *                   spooled sequence, so a fully uploaded (deleted) segment does not lose the cursor
 *   dead-letter/    batches (or records) the API refused as invalid: kept for QA, never silently dropped
 *   spool.lock      the pid of the bridge that owns the directory
 *
 * Crash safety: an entry is valid only if its header and checksum are complete and right. kill -9 during a
 * write leaves a torn tail, which recovery detects and cuts off; the device was not acknowledged for it (the
 * ack waits for the fsync), so it sends the records again. Bounded: at `maxBytes` an append is refused with
 * SpoolFullError; nothing already spooled is ever dropped or overwritten.
 */

export interface Delivery {
  device: IngestDevice;
  mission: string;
  live: boolean;
  records: IngestRecord[];
}

interface EntryPayload extends Delivery {
  id: number;
  spooledAt: string;
}

export class SpoolFullError extends Error {
  constructor(bytes: number, max: number) {
    super(`spool full (${bytes} of ${max} bytes): devices are no longer acknowledged and keep their data`);
    this.name = 'SpoolFullError';
  }
}

export class SpoolLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(
      `spool ${dir} is in use by another bridge (pid ${pid}); two bridges must never share a spool ` +
        `(remove ${join(dir, LOCK_FILE)} only if that process is not a bridge)`,
    );
    this.name = 'SpoolLockedError';
  }
}

/** The spool could not make data durable (disk error): appends refused until restart, devices keep data. */
export class SpoolFailedError extends Error {
  constructor(cause: unknown) {
    super(`spool write failed: ${(cause as Error).message ?? String(cause)}`);
    this.name = 'SpoolFailedError';
  }
}

const ENTRY_MAGIC = 0x3153594c; // "LYS1" little-endian
const ACK_MAGIC = 0x3141594c; // "LYA1"
const HEADER = 12;
const LOCK_FILE = 'spool.lock';
const ACK_FILE = 'acked.log';
const STATE_FILE = 'state.json';
export const DEAD_LETTER_DIR = 'dead-letter';
/** Records per entry: an entry is the unit of upload, and a batch must stay far below INGEST_MAX_RECORDS. */
export const ENTRY_MAX_RECORDS = 500;
/** Cursors kept for this many streams (most recent first); older Elitech missions are finished anyway. */
const MAX_CURSORS = 10_000;

export const streamKeyOf = (device: Pick<IngestDevice, 'protocol' | 'serial'>, mission: string): string =>
  JSON.stringify([device.protocol, device.serial, mission]);

interface Segment {
  n: number;
  path: string;
  fd: number;
  size: number;
  /** Pending (not yet committed) entry ids in this segment. */
  pending: Set<number>;
}

interface Pending {
  id: number;
  seg: Segment;
  offset: number;
  length: number;
  live: boolean;
  stream: string;
  records: number;
}

export interface SpoolBatch {
  batch: IngestBatch;
  entryIds: number[];
}

export interface SpoolStats {
  dir: string;
  bytes: number;
  maxBytes: number;
  full: boolean;
  failed: boolean;
  pendingEntries: number;
  pendingRecords: number;
  liveRecords: number;
  backlogRecords: number;
  segments: number;
  tornTailsRecovered: number;
  deadLettered: number;
}

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  /** Segment size; defaults to maxBytes / 16 within [64 KiB, 16 MiB]. */
  segmentBytes?: number;
  log: BridgeLog;
  /** fsync before resolving appends and commits (tests of logic may turn it off; never in production). */
  durable?: boolean;
}

interface Waiter {
  gen: number;
  resolve(): void;
  reject(error: Error): void;
}

interface StateFile {
  nextId: number;
  cursors: Record<string, number>;
}

function readU32(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at);
}

/** Parses a log file of [magic, len, crc, payload] entries; returns the valid ones and where validity ends. */
function scanLog(
  bytes: Buffer,
  magic: number,
): { entries: { offset: number; payload: Buffer }[]; validEnd: number; damaged: boolean } {
  const entries: { offset: number; payload: Buffer }[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < HEADER) return { entries, validEnd: at, damaged: false };
    const len = readU32(bytes, at + 4);
    if (readU32(bytes, at) !== magic) {
      // A zero-filled tail is what a file system leaves after a power cut mid-extension: torn, not damaged.
      const zeros = bytes.subarray(at).every((b) => b === 0);
      return { entries, validEnd: at, damaged: !zeros };
    }
    if (at + HEADER + len > bytes.length) return { entries, validEnd: at, damaged: false };
    const payload = bytes.subarray(at + HEADER, at + HEADER + len);
    if (crc32(payload) !== readU32(bytes, at + 8)) {
      // A bad checksum on the very last entry is a torn write; anywhere else it is damage.
      return { entries, validEnd: at, damaged: at + HEADER + len !== bytes.length };
    }
    entries.push({ offset: at, payload });
    at += HEADER + len;
  }
  return { entries, validEnd: at, damaged: false };
}

function frameEntry(magic: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out.writeUInt32LE(magic, 0);
  out.writeUInt32LE(payload.length, 4);
  out.writeUInt32LE(crc32(payload), 8);
  payload.copy(out, HEADER);
  return out;
}

/** The API refuses a batch naming one record identity twice; a repeat can only be the same reading. */
function uniqueBySeq(records: IngestRecord[]): IngestRecord[] {
  const seen = new Set<number>();
  return records.filter((r) => (seen.has(r.seq) ? false : (seen.add(r.seq), true)));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Spool {
  private readonly segments: Segment[] = [];
  private active!: Segment;
  private readonly live = new Map<number, Pending>();
  private readonly backlog = new Map<number, Pending>();
  private readonly streamCursors = new Map<string, number>();
  private ackFd = -1;
  private ackBytes = 0;
  private nextId = 1;
  private bytes = 0;
  private liveRecords = 0;
  private backlogRecords = 0;
  private writeGen = 0;
  private syncedGen = 0;
  private syncing = false;
  private waiters: Waiter[] = [];
  private failure: Error | null = null;
  private fullSince: number | null = null;
  private tornTails = 0;
  private deadLettered = 0;
  private closed = false;
  private readonly listeners = new Set<() => void>();
  private readonly segmentBytes: number;
  private readonly durable: boolean;

  private constructor(private readonly options: SpoolOptions) {
    this.segmentBytes =
      options.segmentBytes ?? Math.min(16 << 20, Math.max(64 << 10, Math.floor(options.maxBytes / 16)));
    this.durable = options.durable ?? true;
  }

  static open(options: SpoolOptions): Spool {
    const spool = new Spool(options);
    spool.recover();
    return spool;
  }

  get dir(): string {
    return this.options.dir;
  }

  // ---- recovery ----

  private recover(): void {
    const { dir, log } = this.options;
    mkdirSync(join(dir, DEAD_LETTER_DIR), { recursive: true });
    this.lock();
    const state = this.readState();
    this.nextId = state.nextId;
    for (const [k, v] of Object.entries(state.cursors)) this.streamCursors.set(k, v);

    const acked = this.recoverAckLog();
    const names = readdirSync(dir)
      .map((name) => /^seg-(\d{12})\.log$/.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (const n of names) this.recoverSegment(n, acked);
    for (const id of acked) if (id >= this.nextId) this.nextId = id + 1;
    this.deadLettered = readdirSync(join(dir, DEAD_LETTER_DIR)).filter((f) => f.endsWith('.json')).length;

    // Fully committed segments other than the newest are garbage now.
    for (const seg of [...this.segments]) {
      if (seg.pending.size === 0 && seg !== this.segments[this.segments.length - 1]) this.dropSegment(seg);
    }
    const last = this.segments[this.segments.length - 1];
    if (last && last.size < this.segmentBytes) this.active = last;
    else this.active = this.createSegment(last ? last.n + 1 : 1);
    this.syncDir();
    if (this.pendingEntries > 0 || this.tornTails > 0)
      log.info(
        `spool ${dir}: ${this.pendingEntries} entries (${this.liveRecords + this.backlogRecords} records) ` +
          `waiting for upload${this.tornTails ? `; ${this.tornTails} torn tail(s) cut off (never acknowledged)` : ''}`,
      );
  }

  private lock(): void {
    const path = join(this.options.dir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const pid = Number(readFileSync(path, 'utf8').trim());
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid))
          throw new SpoolLockedError(this.options.dir, pid);
        // A lock left by a process that is gone (kill -9, power cut): take it over.
        unlinkSync(path);
      }
    }
    throw new Error(`could not lock ${path}`);
  }

  private readState(): StateFile {
    const path = join(this.options.dir, STATE_FILE);
    if (!existsSync(path)) return { nextId: 1, cursors: {} };
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<StateFile>;
    return { nextId: Number(parsed.nextId) || 1, cursors: parsed.cursors ?? {} };
  }

  private writeState(): void {
    const path = join(this.options.dir, STATE_FILE);
    const entries = [...this.streamCursors.entries()].slice(-MAX_CURSORS);
    const body = JSON.stringify({ nextId: this.nextId, cursors: Object.fromEntries(entries) });
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, body);
      if (this.durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    this.syncDir();
  }

  private recoverAckLog(): Set<number> {
    const path = join(this.options.dir, ACK_FILE);
    const acked = new Set<number>();
    this.ackFd = openSync(path, 'a+');
    const bytes = readFileSync(path);
    const { entries, validEnd, damaged } = scanLog(bytes, ACK_MAGIC);
    for (const e of entries)
      for (const id of JSON.parse(e.payload.toString('utf8')) as number[]) acked.add(id);
    if (validEnd < bytes.length) {
      // A torn ack record only means those entries are uploaded again: the API deduplicates them.
      this.options.log.warn(
        `spool: ${damaged ? 'damaged' : 'torn'} tail of ${ACK_FILE} at byte ${validEnd} cut off`,
      );
      ftruncateSync(this.ackFd, validEnd);
    }
    this.ackBytes = validEnd;
    return acked;
  }

  private recoverSegment(n: number, acked: Set<number>): void {
    const path = this.segmentPath(n);
    const fd = openSync(path, 'r+');
    const bytes = readFileSync(path);
    const { entries, validEnd, damaged } = scanLog(bytes, ENTRY_MAGIC);
    if (validEnd < bytes.length) {
      if (damaged) {
        // Not a crash artefact: keep the bytes for an investigation rather than losing them silently.
        const keep = `${path}.damaged-${Date.now()}`;
        writeFileSync(keep, bytes.subarray(validEnd));
        this.options.log.error(
          `ALARM: spool segment ${path} is damaged at byte ${validEnd}; the rest was moved to ${keep}`,
        );
      } else {
        this.tornTails++;
      }
      ftruncateSync(fd, validEnd);
      if (this.durable) fsyncSync(fd);
    }
    const seg: Segment = { n, path, fd, size: validEnd, pending: new Set() };
    this.segments.push(seg);
    this.bytes += validEnd;
    for (const e of entries) {
      const entry = JSON.parse(e.payload.toString('utf8')) as EntryPayload;
      if (entry.id >= this.nextId) this.nextId = entry.id + 1;
      const stream = streamKeyOf(entry.device, entry.mission);
      this.advanceCursor(stream, entry.records);
      if (acked.has(entry.id)) continue;
      this.addPending({
        id: entry.id,
        seg,
        offset: e.offset,
        length: HEADER + e.payload.length,
        live: entry.live,
        stream,
        records: entry.records.length,
      });
    }
  }

  // ---- appending ----

  /** Highest sequence spooled so far for this device and mission, or null. */
  cursor(device: Pick<IngestDevice, 'protocol' | 'serial'>, mission: string): number | null {
    return this.streamCursors.get(streamKeyOf(device, mission)) ?? null;
  }

  cursors(device: Pick<IngestDevice, 'protocol' | 'serial'>): { mission: string; seq: number }[] {
    const out: { mission: string; seq: number }[] = [];
    // Stream keys are JSON arrays [protocol, serial, mission]: the device's own all start with this prefix.
    const prefix = JSON.stringify([device.protocol, device.serial]).slice(0, -1) + ',';
    for (const [key, seq] of this.streamCursors) {
      if (!key.startsWith(prefix)) continue;
      out.push({ mission: (JSON.parse(key) as [string, string, string])[2], seq });
    }
    return out;
  }

  get full(): boolean {
    return this.fullSince !== null;
  }

  /**
   * Writes one delivery and resolves once it is on disk (fsync), with the number of its records now durable.
   * Only then may the caller acknowledge them to the device. A delivery is cut into entries of at most
   * ENTRY_MAX_RECORDS, written in order; when the spool fills up midway, the records written so far (a prefix,
   * never a hole: the cursor must not pass a record that is not here) are kept and their count returned.
   * Rejects with SpoolFullError when not even the first entry fits (bounded spool: the device keeps the
   * data), or SpoolFailedError.
   */
  append(delivery: Delivery): Promise<number> {
    if (this.closed) return Promise.reject(new Error('spool closed'));
    if (this.failure) return Promise.reject(this.failure);
    if (delivery.records.length === 0) return Promise.resolve(0);
    const stream = streamKeyOf(delivery.device, delivery.mission);
    let written = 0;
    let size = ENTRY_MAX_RECORDS;
    while (written < delivery.records.length) {
      const part = { ...delivery, records: delivery.records.slice(written, written + size) };
      const outcome = this.writeEntry(part, stream);
      if (outcome instanceof SpoolFullError && size > 1) {
        // Nearly full: smaller entries still fit, and every record taken is one the device can free.
        size = Math.ceil(size / 2);
        continue;
      }
      if (outcome instanceof SpoolFullError) this.markFull();
      if (outcome instanceof Error) {
        if (written === 0 || outcome instanceof SpoolFailedError) return Promise.reject(outcome);
        break;
      }
      written += part.records.length;
    }
    if (written === delivery.records.length) this.clearFull();
    const durable = delivery.records.slice(0, written);
    return this.waitDurable(this.writeGen).then(() => {
      // The cursor moves only once the records are durable: a failed fsync must make them be read again.
      this.advanceCursor(stream, durable);
      this.notify();
      return written;
    });
  }

  private markFull(): void {
    if (this.fullSince !== null) return;
    this.fullSince = Date.now();
    this.options.log.error(
      `ALARM: spool full (${this.bytes} of ${this.options.maxBytes} bytes): devices are no longer ` +
        'acknowledged; they keep their records until the upload frees room',
    );
  }

  private clearFull(): void {
    if (this.fullSince === null) return;
    this.options.log.info(
      `spool has room again after ${Math.round((Date.now() - this.fullSince) / 1000)} s full`,
    );
    this.fullSince = null;
  }

  private writeEntry(delivery: Delivery, stream: string): null | SpoolFullError | SpoolFailedError {
    const id = this.nextId;
    const payload = Buffer.from(
      JSON.stringify({ id, spooledAt: new Date().toISOString(), ...delivery } satisfies EntryPayload),
    );
    const entry = frameEntry(ENTRY_MAGIC, payload);
    if (this.bytes + entry.length > this.options.maxBytes) {
      this.reclaimActive();
      if (this.bytes + entry.length > this.options.maxBytes)
        return new SpoolFullError(this.bytes, this.options.maxBytes);
    }
    try {
      if (this.active.size > 0 && this.active.size + entry.length > this.segmentBytes) this.rotate();
      let done = 0;
      while (done < entry.length)
        done += writeSync(this.active.fd, entry, done, entry.length - done, this.active.size + done);
    } catch (error) {
      // Cut a partial write back off (best effort): recovery would also discard it as a torn tail.
      try {
        ftruncateSync(this.active.fd, this.active.size);
      } catch {
        // the disk is in trouble; recovery handles the tail
      }
      return new SpoolFailedError(error);
    }
    this.nextId++;
    this.addPending({
      id,
      seg: this.active,
      offset: this.active.size,
      length: entry.length,
      live: delivery.live,
      stream,
      records: delivery.records.length,
    });
    this.active.size += entry.length;
    this.bytes += entry.length;
    this.writeGen++;
    return null;
  }

  private advanceCursor(stream: string, records: IngestRecord[]): void {
    let max = this.streamCursors.get(stream) ?? -1;
    for (const r of records) if (r.seq > max) max = r.seq;
    if (max < 0) return;
    this.streamCursors.delete(stream); // re-insert: Map order = recency, for the MAX_CURSORS cut
    this.streamCursors.set(stream, max);
  }

  private addPending(p: Pending): void {
    (p.live ? this.live : this.backlog).set(p.id, p);
    p.seg.pending.add(p.id);
    if (p.live) this.liveRecords += p.records;
    else this.backlogRecords += p.records;
  }

  private waitDurable(gen: number): Promise<void> {
    if (!this.durable) {
      this.syncedGen = gen;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ gen, resolve, reject });
      this.pumpSync();
    });
  }

  /** Group commit: one fsync covers every append made before it started. */
  private pumpSync(): void {
    if (this.syncing || this.waiters.length === 0) return;
    this.syncing = true;
    const target = this.writeGen;
    fsync(this.active.fd, (error) => {
      this.syncing = false;
      if (error) {
        this.failure = new SpoolFailedError(error);
        this.options.log.error(`ALARM: ${this.failure.message}; devices are no longer acknowledged`);
        for (const w of this.waiters.splice(0)) w.reject(this.failure);
        return;
      }
      this.syncedGen = target;
      const done = this.waiters.filter((w) => w.gen <= target);
      this.waiters = this.waiters.filter((w) => w.gen > target);
      for (const w of done) w.resolve();
      this.pumpSync();
    });
  }

  private segmentPath(n: number): string {
    return join(this.options.dir, `seg-${String(n).padStart(12, '0')}.log`);
  }

  private createSegment(n: number): Segment {
    const path = this.segmentPath(n);
    const fd = openSync(path, 'wx+');
    const seg: Segment = { n, path, fd, size: 0, pending: new Set() };
    this.segments.push(seg);
    return seg;
  }

  private rotate(): void {
    // Everything written to the old segment must be durable before new entries can be trusted after it.
    if (this.durable) fsyncSync(this.active.fd);
    const old = this.active;
    this.active = this.createSegment(old.n + 1);
    this.syncDir();
    if (old.pending.size === 0) this.dropSegment(old);
  }

  /** Under pressure: an active segment whose entries are all committed can start over at 0. */
  private reclaimActive(): void {
    if (this.active.pending.size > 0 || this.active.size === 0) return;
    this.writeState();
    ftruncateSync(this.active.fd, 0);
    this.bytes -= this.active.size;
    this.active.size = 0;
  }

  private dropSegment(seg: Segment): void {
    // The cursors of the entries in it must survive the file (kill -9 right after the unlink included).
    this.writeState();
    closeSync(seg.fd);
    unlinkSync(seg.path);
    this.bytes -= seg.size;
    this.segments.splice(this.segments.indexOf(seg), 1);
  }

  private syncDir(): void {
    if (!this.durable) return;
    const fd = openSync(this.options.dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  // ---- uploading ----

  get pendingEntries(): number {
    return this.live.size + this.backlog.size;
  }

  /** Calls `listener` after each durable append (the uploader waits on it). */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  /**
   * The next batch to upload: live entries before backlog (issue 5), oldest first, gathering further
   * entries of the same device stream up to `maxRecords`. Null when nothing is pending.
   */
  nextBatch(maxRecords: number = INGEST_MAX_RECORDS): SpoolBatch | null {
    const source = this.live.size > 0 ? this.live : this.backlog;
    const limit = Math.min(maxRecords, INGEST_MAX_RECORDS);
    let first: Pending | undefined;
    const chosen: Pending[] = [];
    let records = 0;
    let scanned = 0;
    for (const p of source.values()) {
      if (!first) {
        first = p;
        chosen.push(p);
        records = p.records;
        continue;
      }
      // Bounded look-ahead: with thousands of pending entries a batch is built in constant time.
      if (++scanned > 4_096 || records >= limit) break;
      if (p.stream === first.stream && records + p.records <= limit) {
        chosen.push(p);
        records += p.records;
      }
    }
    if (!first) return null;
    const entries = chosen.map((p) => this.readEntry(p));
    const last = entries[entries.length - 1]!;
    return {
      entryIds: chosen.map((p) => p.id),
      batch: {
        version: INGEST_BATCH_VERSION,
        batchId: randomUUID(),
        device: last.device,
        mission: last.mission,
        live: last.live,
        records: uniqueBySeq(entries.flatMap((e) => e.records)),
      },
    };
  }

  private readEntry(p: Pending): EntryPayload {
    const buf = Buffer.allocUnsafe(p.length);
    let got = 0;
    while (got < p.length) {
      const n = readSync(p.seg.fd, buf, got, p.length - got, p.offset + got);
      if (n === 0) throw new Error(`spool entry ${p.id} is short in ${p.seg.path}`);
      got += n;
    }
    const payload = buf.subarray(HEADER);
    if (readU32(buf, 0) !== ENTRY_MAGIC || crc32(payload) !== readU32(buf, 8))
      throw new Error(`spool entry ${p.id} in ${p.seg.path} fails its checksum`);
    return JSON.parse(payload.toString('utf8')) as EntryPayload;
  }

  /** The API committed these entries: record it durably, then forget them (and any segment left empty). */
  async commit(ids: number[]): Promise<void> {
    if (ids.length === 0 || this.closed) return;
    const record = frameEntry(ACK_MAGIC, Buffer.from(JSON.stringify(ids)));
    writeSync(this.ackFd, record, 0, record.length, this.ackBytes);
    this.ackBytes += record.length;
    if (this.durable)
      await new Promise<void>((resolve, reject) => fsync(this.ackFd, (e) => (e ? reject(e) : resolve())));
    const touched = new Set<Segment>();
    for (const id of ids) {
      const p = this.live.get(id) ?? this.backlog.get(id);
      if (!p) continue;
      (p.live ? this.live : this.backlog).delete(id);
      if (p.live) this.liveRecords -= p.records;
      else this.backlogRecords -= p.records;
      p.seg.pending.delete(id);
      touched.add(p.seg);
    }
    for (const seg of touched) {
      if (seg.pending.size > 0) continue;
      if (seg === this.active) {
        if (seg.size >= this.segmentBytes / 2) this.reclaimActive();
      } else this.dropSegment(seg);
    }
    if (this.ackBytes > 1 << 20) this.compactAckLog();
  }

  /** The ack log only needs the ids of entries still in a segment: rewrite it atomically when it grows. */
  private compactAckLog(): void {
    const still = new Set<number>();
    for (const seg of this.segments) {
      const bytes = readFileSync(seg.path).subarray(0, seg.size);
      for (const e of scanLog(bytes, ENTRY_MAGIC).entries) {
        const id = (JSON.parse(e.payload.toString('utf8')) as EntryPayload).id;
        if (!seg.pending.has(id)) still.add(id);
      }
    }
    const path = join(this.options.dir, ACK_FILE);
    const tmp = `${path}.tmp`;
    const body = frameEntry(ACK_MAGIC, Buffer.from(JSON.stringify([...still])));
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, body);
      if (this.durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    this.syncDir();
    closeSync(this.ackFd);
    this.ackFd = openSync(path, 'a+');
    this.ackBytes = fstatSync(this.ackFd).size;
  }

  /**
   * Quarantines what the API refused as invalid (a 4xx naming the batch or a record), so one bad record can
   * never wedge the spool; the file keeps the records and the API's answer for QA (GMP: nothing discarded
   * without a trace). The caller commits the entries afterwards.
   */
  deadLetter(name: string, content: unknown): string {
    const file = join(
      this.options.dir,
      DEAD_LETTER_DIR,
      `${new Date().toISOString().replace(/[:.]/g, '-')}-${name}.json`,
    );
    const fd = openSync(file, 'wx');
    try {
      writeSync(fd, JSON.stringify(content, null, 2));
      if (this.durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.syncDir();
    this.deadLettered++;
    return file;
  }

  stats(): SpoolStats {
    return {
      dir: this.options.dir,
      bytes: this.bytes,
      maxBytes: this.options.maxBytes,
      full: this.fullSince !== null,
      failed: this.failure !== null,
      pendingEntries: this.pendingEntries,
      pendingRecords: this.liveRecords + this.backlogRecords,
      liveRecords: this.liveRecords,
      backlogRecords: this.backlogRecords,
      segments: this.segments.length,
      tornTailsRecovered: this.tornTails,
      deadLettered: this.deadLettered,
    };
  }

  /** Waits for the fsync in hand, then closes every file and releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.waiters.length > 0)
      await new Promise<void>((resolve) =>
        this.waiters.push({ gen: this.writeGen, resolve, reject: () => resolve() }),
      );
    this.closed = true;
    for (const seg of this.segments) closeSync(seg.fd);
    if (this.ackFd >= 0) closeSync(this.ackFd);
    try {
      unlinkSync(join(this.options.dir, LOCK_FILE));
    } catch {
      // already gone
    }
  }
}
