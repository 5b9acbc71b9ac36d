import { spawn } from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type IngestDevice, LoggerProtocol } from '@lyotrace/contracts';
import { silentLog } from '../bridge-log.js';
import { type Delivery, Spool, SpoolFullError, SpoolLockedError } from './spool.js';

const DEVICE: IngestDevice = { protocol: LoggerProtocol.Native, serial: 'LT-1', model: 'LYO-T1' };
const OTHER: IngestDevice = { protocol: LoggerProtocol.Native, serial: 'LT-2', model: 'LYO-T1' };

function delivery(seqs: number[], options: Partial<Delivery> = {}): Delivery {
  return {
    device: DEVICE,
    mission: '',
    live: false,
    records: seqs.map((seq) => ({
      seq,
      deviceTime: new Date(Date.UTC(2026, 0, 1) + seq * 60_000).toISOString(),
      time: new Date(Date.UTC(2026, 0, 1) + seq * 60_000).toISOString(),
      skewMs: 0,
      temperatureC: 5 + seq / 100,
      flags: [],
    })),
    ...options,
  };
}

const seqsOf = (spool: Spool): number[] => {
  const out: number[] = [];
  for (let b = spool.nextBatch(); b; b = null) out.push(...b.batch.records.map((r) => r.seq));
  return out;
};

describe('Spool', () => {
  let dir: string;
  const open = (maxBytes = 1 << 20, durable = true): Spool =>
    Spool.open({ dir, maxBytes, log: silentLog, durable });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lyo-spool-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps appended entries across a reopen until they are committed', async () => {
    let spool = open();
    await spool.append(delivery([1, 2, 3]));
    await spool.append(delivery([4, 5]));
    expect(spool.cursor(DEVICE, '')).toBe(5);
    await spool.close();

    spool = open();
    const batch = spool.nextBatch()!;
    expect(batch.batch.records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(batch.batch).toMatchObject({ version: 1, device: DEVICE, mission: '', live: false });
    await spool.commit(batch.entryIds);
    expect(spool.nextBatch()).toBeNull();
    await spool.close();

    spool = open();
    expect(spool.nextBatch()).toBeNull();
    expect(spool.cursor(DEVICE, '')).toBe(5); // the cursor outlives the deleted data
    await spool.close();
  });

  it('survives a crash at every byte of the last entry: earlier entries intact, the torn one gone', async () => {
    let spool = open();
    await spool.append(delivery([1, 2]));
    await spool.append(delivery([3, 4]));
    await spool.close();
    const seg = readdirSync(dir).find((f) => f.startsWith('seg-'))!;
    const full = readFileSync(join(dir, seg));
    const firstEnd = full.indexOf(Buffer.from('LYS1'), 4);
    expect(firstEnd).toBeGreaterThan(0);

    for (let cut = firstEnd; cut < full.length; cut++) {
      writeFileSync(join(dir, seg), full.subarray(0, cut));
      spool = open();
      expect(seqsOf(spool)).toEqual([1, 2]);
      // The device was not acknowledged for 3–4: the cursor must not claim them.
      expect(spool.cursor(DEVICE, '')).toBe(2);
      expect(spool.stats().tornTailsRecovered).toBe(cut > firstEnd ? 1 : 0);
      expect(statSync(join(dir, seg)).size).toBe(firstEnd);
      await spool.close();
    }

    spool = open();
    await spool.append(delivery([3, 4]));
    await spool.close();
    spool = open();
    expect(seqsOf(spool)).toEqual([1, 2, 3, 4]);
    await spool.close();
  });

  it('discards a last entry whose bytes were corrupted, and keeps damage elsewhere for investigation', async () => {
    let spool = open();
    await spool.append(delivery([1]));
    await spool.append(delivery([2]));
    await spool.append(delivery([3]));
    await spool.close();
    const seg = join(
      dir,
      readdirSync(dir).find((f) => f.startsWith('seg-'))!,
    );
    const bytes = readFileSync(seg);
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 5] = flipped[bytes.length - 5]! ^ 0xff;
    writeFileSync(seg, flipped);
    spool = open();
    expect(seqsOf(spool)).toEqual([1, 2]);
    await spool.close();

    const second = bytes.indexOf(Buffer.from('LYS1'), 4);
    const damaged = Buffer.from(bytes);
    damaged[second + 20] = damaged[second + 20]! ^ 0xff;
    writeFileSync(seg, damaged);
    spool = open();
    expect(seqsOf(spool)).toEqual([1]);
    expect(readdirSync(dir).some((f) => f.includes('.damaged-'))).toBe(true);
    await spool.close();
  });

  it('recovers a torn ack record as "not committed" (the upload repeats, the API deduplicates)', async () => {
    let spool = open();
    await spool.append(delivery([1]));
    await spool.append(delivery([2]));
    await spool.commit([1]);
    await spool.close();
    const ack = join(dir, 'acked.log');
    truncateSync(ack, statSync(ack).size - 1);
    spool = open();
    expect(seqsOf(spool)).toEqual([1, 2]);
    await spool.close();
  });

  it('serves live entries before backlog, oldest first, one device stream per batch', async () => {
    const spool = open();
    await spool.append(delivery([1, 2]));
    await spool.append(delivery([100], { live: true, device: OTHER }));
    await spool.append(delivery([3, 4]));
    await spool.append(delivery([50], { live: true }));
    await spool.append(delivery([101], { live: true, device: OTHER }));

    const order: string[] = [];
    for (let b = spool.nextBatch(); b; b = spool.nextBatch()) {
      order.push(
        `${b.batch.live ? 'live' : 'backlog'}:${b.batch.device.serial}:${b.batch.records.map((r) => r.seq).join(',')}`,
      );
      await spool.commit(b.entryIds);
    }
    expect(order).toEqual(['live:LT-2:100,101', 'live:LT-1:50', 'backlog:LT-1:1,2,3,4']);
    await spool.close();
  });

  it('caps a batch at the record limit', async () => {
    const spool = open();
    for (let i = 0; i < 5; i++) await spool.append(delivery([i * 2, i * 2 + 1]));
    const first = spool.nextBatch(4)!;
    expect(first.batch.records).toHaveLength(4);
    await spool.commit(first.entryIds);
    expect(spool.nextBatch(4)!.batch.records.map((r) => r.seq)).toEqual([4, 5, 6, 7]);
    await spool.close();
  });

  it('refuses appends when full without touching what it holds, and takes them again once drained', async () => {
    const spool = open(4096);
    const big = delivery(Array.from({ length: 12 }, (_, i) => i));
    let accepted = 0;
    let full: unknown;
    for (let i = 0; i < 100 && !full; i++) {
      try {
        await spool.append({ ...big, records: big.records.map((r) => ({ ...r, seq: r.seq + i * 100 })) });
        accepted++;
      } catch (error) {
        full = error;
      }
    }
    expect(full).toBeInstanceOf(SpoolFullError);
    expect(spool.stats()).toMatchObject({ full: true, pendingEntries: accepted });
    expect(spool.stats().bytes).toBeLessThanOrEqual(4096);
    for (let b = spool.nextBatch(); b; b = spool.nextBatch()) await spool.commit(b.entryIds);
    await spool.append(delivery([9999]));
    expect(spool.stats()).toMatchObject({ full: false, pendingEntries: 1 });
    await spool.close();
  });

  it('rotates segments and deletes the ones fully uploaded', async () => {
    const spool = Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 1024, log: silentLog });
    for (let i = 0; i < 40; i++) await spool.append(delivery([i]));
    expect(spool.stats().segments).toBeGreaterThan(3);
    for (let b = spool.nextBatch(); b; b = spool.nextBatch()) await spool.commit(b.entryIds);
    expect(readdirSync(dir).filter((f) => f.startsWith('seg-')).length).toBe(1);
    expect(spool.stats().bytes).toBeLessThanOrEqual(1024);
    await spool.close();
  });

  it('refuses a directory locked by a live process, takes over a stale lock', async () => {
    const sleeper = spawn('sleep', ['30']);
    try {
      writeFileSync(join(dir, 'spool.lock'), `${sleeper.pid}\n`);
      expect(() => open()).toThrow(SpoolLockedError);
      expect(() => open()).toThrow(/in use by another bridge \(pid \d+\)/);
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((resolve) => sleeper.once('exit', resolve));
    }
    const spool = open();
    expect(readFileSync(join(dir, 'spool.lock'), 'utf8').trim()).toBe(String(process.pid));
    await spool.close();
  });

  it('dead-letters content to a file that stays', async () => {
    const spool = open();
    const file = spool.deadLetter('batch-x', { problem: { code: 'VALIDATION' } });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ problem: { code: 'VALIDATION' } });
    expect(spool.stats().deadLettered).toBe(1);
    await spool.close();
  });
});
