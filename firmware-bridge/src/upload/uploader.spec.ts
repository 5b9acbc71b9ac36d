import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type IngestBatch, type IngestDevice, LoggerProtocol } from '@lyotrace/contracts';
import { BridgeApiClient } from '../api-client.js';
import { silentLog } from '../bridge-log.js';
import { type Delivery, Spool } from '../spool/spool.js';
import { Uploader } from './uploader.js';

const DEVICE: IngestDevice = { protocol: LoggerProtocol.Native, serial: 'LT-1', model: 'LYO-T1' };

function delivery(seqs: number[], live = false): Delivery {
  return {
    device: DEVICE,
    mission: '',
    live,
    records: seqs.map((seq) => ({
      seq,
      deviceTime: '2026-01-01T00:00:00.000Z',
      time: '2026-01-01T00:00:00.000Z',
      skewMs: 0,
      temperatureC: 5,
      flags: [],
    })),
  };
}

type Handler = (batch: IngestBatch, res: ServerResponse) => void;

/** A real HTTP server standing in for the API: records every batch it is sent. */
class FakeApi {
  readonly received: { batch: IngestBatch; auth: string | undefined; status: number }[] = [];
  handler: Handler = (batch, res) => this.commit(batch, res);
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const batch = JSON.parse(Buffer.concat(chunks).toString('utf8')) as IngestBatch;
        const entry = { batch, auth: req.headers.authorization, status: 0 };
        this.received.push(entry);
        this.handler(batch, res);
        entry.status = res.statusCode;
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    this.url = `http://127.0.0.1:${address.port}`;
  }

  commit(batch: IngestBatch, res: ServerResponse): void {
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        batchId: batch.batchId,
        loggerId: 'x',
        accepted: batch.records.length,
        duplicates: 0,
        highestContiguousSeq: null,
      }),
    );
  }

  problem(res: ServerResponse, status: number, body: object): void {
    res.writeHead(status, { 'content-type': 'application/problem+json' });
    res.end(JSON.stringify({ status, ...body }));
  }

  committedSeqs(): number[] {
    return this.received.filter((r) => r.status === 201).flatMap((r) => r.batch.records.map((x) => x.seq));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function until(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('Uploader against a real HTTP server', () => {
  let dir: string;
  let api: FakeApi;
  let spool: Spool;
  let stop: AbortController;
  let running: Promise<void> | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lyo-upl-'));
    api = new FakeApi();
    await api.start();
    spool = Spool.open({ dir, maxBytes: 1 << 20, log: silentLog });
    stop = new AbortController();
  });
  afterEach(async () => {
    stop.abort();
    await running;
    await spool.close();
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (maxRecords = 100): Uploader => {
    const uploader = new Uploader({
      spool,
      api: new BridgeApiClient(api.url, 'lyb_test'),
      log: silentLog,
      maxRecords,
      minBackoffMs: 20,
      maxBackoffMs: 80,
      idleMs: 50,
    });
    running = uploader.run(stop.signal);
    return uploader;
  };

  it('posts live batches before backlog with the bridge token, and empties the spool only on 2xx', async () => {
    await spool.append(delivery([1, 2, 3]));
    await spool.append(delivery([4, 5]));
    await spool.append(delivery([100], true));
    start();
    await until('spool drained', () => spool.pendingEntries === 0);
    expect(api.received.map((r) => [r.batch.live, r.batch.records.map((x) => x.seq)])).toEqual([
      [true, [100]],
      [false, [1, 2, 3, 4, 5]],
    ]);
    expect(api.received.every((r) => r.auth === 'Bearer lyb_test')).toBe(true);
    expect(api.received[0]!.batch).toMatchObject({ version: 1, device: DEVICE, mission: '' });
  });

  it('keeps everything while the API is down, then drains it all, nothing lost', async () => {
    let down = true;
    api.handler = (batch, res) =>
      down ? api.problem(res, 503, { code: 'DEPENDENCY_UNAVAILABLE' }) : api.commit(batch, res);
    const uploader = start(10);
    for (let i = 0; i < 30; i++) await spool.append(delivery([i], i % 3 === 0));
    await until('some failed attempts', () => uploader.status.consecutiveFailures >= 3);
    expect(spool.stats().pendingRecords).toBe(30);
    expect(uploader.status.reachable).toBe(false);
    down = false;
    await until('spool drained', () => spool.pendingEntries === 0);
    expect(api.committedSeqs().sort((a, b) => a - b)).toEqual([...Array(30).keys()]);
    expect(uploader.status).toMatchObject({ reachable: true, consecutiveFailures: 0, recordsAccepted: 30 });
  });

  it('keeps the data when the credential is refused (401), and says so', async () => {
    api.handler = (_batch, res) => api.problem(res, 401, { code: 'AUTH_BRIDGE_TOKEN_INVALID' });
    const uploader = start();
    await spool.append(delivery([1]));
    await until('attempts', () => uploader.status.consecutiveFailures >= 2);
    expect(spool.pendingEntries).toBe(1);
    expect(uploader.status.lastError).toContain('AUTH_BRIDGE_TOKEN_INVALID');
  });

  it('quarantines only the records a 4xx names and sends the rest', async () => {
    api.handler = (batch, res) => {
      const bad = batch.records.findIndex((r) => r.seq === 3);
      if (bad >= 0)
        api.problem(res, 400, {
          code: 'INGEST_INVALID_BATCH',
          field: `records[${bad}].temperatureC`,
          errors: [{ field: `records[${bad}].temperatureC`, messages: ['bad'] }],
        });
      else api.commit(batch, res);
    };
    const uploader = start();
    await spool.append(delivery([1, 2, 3, 4]));
    await until('spool drained', () => spool.pendingEntries === 0);
    expect(api.committedSeqs()).toEqual([1, 2, 4]);
    expect(uploader.status.quarantined).toBe(1);
    const files = readdirSync(join(dir, 'dead-letter'));
    expect(files).toHaveLength(1);
    const kept = JSON.parse(readFileSync(join(dir, 'dead-letter', files[0]!), 'utf8')) as {
      scope: string;
      batch: IngestBatch;
    };
    expect(kept.scope).toBe('records');
    expect(kept.batch.records.map((r) => r.seq)).toEqual([3]);
  });

  it('quarantines a whole batch refused without naming a record, and moves on', async () => {
    api.handler = (batch, res) =>
      batch.records.some((r) => r.seq === 1)
        ? api.problem(res, 400, { code: 'INGEST_INVALID_BATCH', field: 'device.serial' })
        : api.commit(batch, res);
    start(1);
    await spool.append(delivery([1]));
    await spool.append(delivery([2]));
    await until('spool drained', () => spool.pendingEntries === 0);
    expect(api.committedSeqs()).toEqual([2]);
    expect(readdirSync(join(dir, 'dead-letter'))).toHaveLength(1);
  });
});
