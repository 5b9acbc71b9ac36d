import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  INGEST_MAX_RECORDS,
  type IngestBatch,
  type IngestResult,
  LoggerProtocol,
  QueueName,
  ReadingFlag,
  Role,
} from '@lyotrace/contracts';
import { BridgeCredentialService, evaluationJobId, IngestService } from '@lyotrace/services';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { WorkerModule } from '../../apps/worker/src/worker.module.js';
import { ApiHarness } from '../support/api-harness.js';
import { openTestDataSource } from '../support/database.js';
import { makeUser, unique } from '../support/factories.js';
import {
  batch,
  corrected,
  makeBridge,
  MINUTE,
  records,
  SERIES_START,
  seqRange,
} from '../support/reading-factory.js';
import { testServices } from '../support/test-env.js';

interface Problem {
  code: string;
  field?: string;
  errors?: { field: string; messages: string[] }[];
}

describe('POST /api/ingest/readings (bridge → API)', () => {
  let api: ApiHarness;
  let db: DataSource;
  let bridge: { siteId: string; credentialId: string; token: string };
  let queue: Queue;
  let worker: INestApplicationContext | undefined;

  beforeAll(async () => {
    // A small global body limit, so that the ingest route's own larger limit is what lets a full batch in.
    api = await ApiHarness.start({ BODY_LIMIT_BYTES: 1_048_576 });
    db = await openTestDataSource();
    bridge = await makeBridge(api.app);
    const redis = new URL(testServices().redisUrl);
    queue = new Queue(QueueName.Excursions, {
      connection: {
        host: redis.hostname,
        port: Number(redis.port),
        db: Number(redis.pathname.slice(1) || 0),
      },
      prefix: 'lyotrace',
    });
  });
  afterAll(async () => {
    await worker?.close();
    await queue.close();
    await api.close();
    await db.destroy();
  });

  const upload = (body: unknown, token = bridge.token) =>
    api.request<IngestResult & Problem>('POST', '/api/ingest/readings', { token, body });
  const count = async (sql: string, params: unknown[]): Promise<number> =>
    Number((await db.query<{ n: string }[]>(sql, params))[0]!.n);
  const readingsOf = (serial: string) =>
    count(`SELECT count(*) AS n FROM reading r JOIN logger l ON l.id = r.logger_id WHERE l.serial = $1`, [
      serial,
    ]);
  const stream = async (loggerId: string, mission = '') =>
    (
      await db.query<{ min_seq: string; max_seq: string; highest_contiguous_seq: string }[]>(
        `SELECT min_seq, max_seq, highest_contiguous_seq FROM reading_stream WHERE logger_id = $1 AND mission = $2`,
        [loggerId, mission],
      )
    )[0];
  const openGaps = (loggerId: string) =>
    db.query<
      {
        id: string;
        from_seq: string;
        to_seq: string;
        after_time: Date | null;
        before_time: Date | null;
        parent_id: string | null;
      }[]
    >(
      `SELECT id, from_seq, to_seq, after_time, before_time, parent_id FROM reading_gap
        WHERE logger_id = $1 AND closed_at IS NULL ORDER BY from_seq`,
      [loggerId],
    );

  it('stores a batch and counts accepted records; a replay inserts nothing and counts duplicates', async () => {
    const b = batch({ records: records(seqRange(1, 500)) });
    const first = await upload(b);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      batchId: b.batchId,
      loggerId: expect.any(String),
      accepted: 500,
      duplicates: 0,
      highestContiguousSeq: 500,
    });
    expect(await readingsOf(b.device.serial)).toBe(500);

    const replay = await upload(b);
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ accepted: 0, duplicates: 500, highestContiguousSeq: 500 });
    expect(await readingsOf(b.device.serial)).toBe(500);

    // Overlapping the stored range: only the new half is taken.
    const overlap = await upload({
      ...b,
      batchId: crypto.randomUUID(),
      records: records(seqRange(401, 600), { start: SERIES_START + 400 * MINUTE, firstSeq: 401 }),
    });
    expect(overlap.body).toMatchObject({ accepted: 100, duplicates: 100, highestContiguousSeq: 600 });
    expect(await readingsOf(b.device.serial)).toBe(600);

    // Stored as sent: device time, corrected time, skew, fault and flags.
    const [stored] = await db.query<
      {
        seq: string;
        time: Date;
        device_time: Date;
        skew_ms: string;
        temperature_c: number;
        flags: string[];
      }[]
    >(
      `SELECT seq, time, device_time, skew_ms, temperature_c, flags FROM reading WHERE logger_id = $1 AND seq = 7`,
      [first.body.loggerId],
    );
    expect(stored).toEqual({
      seq: '7',
      time: new Date(b.records[6]!.time),
      device_time: new Date(b.records[6]!.deviceTime),
      skew_ms: '0',
      temperature_c: b.records[6]!.temperatureC,
      flags: [],
    });
  });

  it('keeps the original device time, the skew and the flags of a corrected or faulty record', async () => {
    const [a, b, c] = records(seqRange(1, 3));
    const faulty = { ...c!, temperatureC: null, flags: [ReadingFlag.SensorFault] };
    const body = batch({
      records: [corrected(a!, 95_000), { ...b!, flags: [ReadingFlag.Uncalibrated] }, faulty],
    });
    const res = await upload(body);
    expect(res.status).toBe(200);
    const rows = await db.query<
      {
        seq: string;
        time: Date;
        device_time: Date;
        skew_ms: string;
        temperature_c: number | null;
        flags: string[];
      }[]
    >(
      `SELECT seq, time, device_time, skew_ms, temperature_c, flags FROM reading WHERE logger_id = $1 ORDER BY seq`,
      [res.body.loggerId],
    );
    expect(rows[0]).toMatchObject({
      skew_ms: '95000',
      device_time: new Date(a!.deviceTime),
      time: new Date(Date.parse(a!.deviceTime) - 95_000),
      flags: ['clock_corrected'],
    });
    expect(rows[1]!.flags).toEqual(['uncalibrated']);
    expect(rows[2]).toMatchObject({ temperature_c: null, flags: ['sensor_fault'] });
  });

  it('registers an unknown device for the bridge’s site, unapproved, audited; the bridge identity comes from its token', async () => {
    const b = batch({
      device: {
        protocol: LoggerProtocol.Elitech,
        serial: unique('EL'),
        model: 'RC-4',
        calibrationDue: '2027-01-31',
      },
      mission: '2026-01-05T08:00:00Z',
      records: records(seqRange(0, 9)),
    });
    const res = await upload(b);
    expect(res.status).toBe(200);
    const [logger] = await db.query<
      {
        id: string;
        site_id: string;
        registration: string;
        approved_at: Date | null;
        calibration_due: string;
        model: string;
      }[]
    >(
      `SELECT id, site_id, registration, approved_at, calibration_due, model FROM logger WHERE protocol = 'elitech-rc' AND serial = $1`,
      [b.device.serial],
    );
    expect(logger).toEqual({
      id: res.body.loggerId,
      site_id: bridge.siteId,
      registration: 'auto',
      approved_at: null,
      calibration_due: '2027-01-31',
      model: 'RC-4',
    });
    const [audit] = await db.query<
      { actor_kind: string; actor_id: string; new_values: Record<string, unknown> }[]
    >(
      `SELECT actor_kind, actor_id, new_values FROM audit_event WHERE action = 'logger.auto_register' AND entity_id = $1`,
      [logger!.id],
    );
    expect(audit).toMatchObject({
      actor_kind: 'bridge',
      actor_id: bridge.credentialId,
      new_values: {
        serial: b.device.serial,
        siteId: bridge.siteId,
        approved: false,
        firstBatchId: b.batchId,
      },
    });
    const [provenance] = await db.query<
      {
        bridge_credential_id: string;
        bridge_site_id: string;
        record_count: number;
        accepted: number;
        duplicates: number;
      }[]
    >(
      `SELECT bridge_credential_id, bridge_site_id, record_count, accepted, duplicates FROM ingest_batch WHERE batch_id = $1`,
      [b.batchId],
    );
    expect(provenance).toEqual({
      bridge_credential_id: bridge.credentialId,
      bridge_site_id: bridge.siteId,
      record_count: 10,
      accepted: 10,
      duplicates: 0,
    });

    // A second site's bridge uploading the same device (a shipper logger read at the clinic) uses the same
    // logger: the device identity is (protocol, serial), not the bridge.
    const clinicBridge = await makeBridge(api.app);
    const again = await upload(
      { ...b, batchId: crypto.randomUUID(), mission: '2026-02-01T08:00:00Z' },
      clinicBridge.token,
    );
    expect(again.body).toMatchObject({ loggerId: logger!.id, accepted: 10 });
    expect(await count(`SELECT count(*) AS n FROM logger WHERE serial = $1`, [b.device.serial])).toBe(1);
  });

  it('takes the same new device’s batches in parallel: one logger, each record once, sequence still tracked', async () => {
    const device = { protocol: LoggerProtocol.Native, serial: unique('LT'), model: 'LT-1' };
    const parts = [seqRange(1, 400), seqRange(401, 800), seqRange(801, 1200)];
    const sent = parts.flatMap((seqs) => [
      batch({ device, records: records(seqs, { firstSeq: 1 }) }),
      batch({ device, records: records(seqs, { firstSeq: 1 }) }),
    ]);
    const answers = await Promise.all(sent.map((b) => upload(b)));
    expect(answers.map((a) => a.status)).toEqual(sent.map(() => 200));
    expect(new Set(answers.map((a) => a.body.loggerId)).size).toBe(1);
    expect(answers.reduce((n, a) => n + a.body.accepted, 0)).toBe(1200);
    expect(answers.reduce((n, a) => n + a.body.duplicates, 0)).toBe(1200);
    expect(await readingsOf(device.serial)).toBe(1200);
    expect(await stream(answers[0]!.body.loggerId)).toEqual({
      min_seq: '1',
      max_seq: '1200',
      highest_contiguous_seq: '1200',
    });
    expect(await openGaps(answers[0]!.body.loggerId)).toEqual([]);
  });

  it('marks readings taken after the logger’s calibration due day as uncalibrated (kept, never dropped)', async () => {
    const start = Date.parse('2026-01-05T23:58:00Z');
    const recs = records(seqRange(1, 4), { start });
    recs[3] = { ...recs[3]!, flags: [ReadingFlag.Uncalibrated] };
    const b = batch({
      device: {
        protocol: LoggerProtocol.Native,
        serial: unique('LT'),
        model: 'LT-1',
        calibrationDue: '2026-01-05',
      },
      records: recs,
    });
    const res = await upload(b);
    expect(res.body.accepted).toBe(4);
    const rows = await db.query<{ flags: string[] }[]>(
      `SELECT flags FROM reading WHERE logger_id = $1 ORDER BY seq`,
      [res.body.loggerId],
    );
    expect(rows.map((r) => r.flags)).toEqual([[], [], ['uncalibrated'], ['uncalibrated']]);
  });

  it('keeps records of different missions apart: an Elitech index restarts with every mission', async () => {
    const device = { protocol: LoggerProtocol.Elitech, serial: unique('EL'), model: 'RC-5' };
    const m1 = await upload(
      batch({ device, mission: '2026-01-01T00:00:00Z', records: records(seqRange(0, 99)) }),
    );
    const m2 = await upload(
      batch({
        device,
        mission: '2026-01-08T00:00:00Z',
        records: records(seqRange(0, 99), { start: SERIES_START + 7 * 86_400_000 }),
      }),
    );
    expect([m1.body.accepted, m2.body.accepted]).toEqual([100, 100]);
    expect(await readingsOf(device.serial)).toBe(200);
  });

  describe('refuses a bad batch whole: 4xx naming the field, nothing written', () => {
    const bad: [string, (b: IngestBatch) => unknown, number, string, string][] = [
      ['an unsupported version', (b) => ({ ...b, version: 2 }), 400, 'INGEST_VERSION_UNSUPPORTED', 'version'],
      [
        'a time that is not an instant',
        (b) => at(b, 17, { time: '2026-01-05 08:00' }),
        400,
        'INGEST_INVALID_BATCH',
        'records[17].time',
      ],
      [
        'a time without a zone',
        (b) => at(b, 3, { time: '2026-01-05T08:00:00', deviceTime: '2026-01-05T08:00:00' }),
        400,
        'INGEST_INVALID_BATCH',
        'records[3].time',
      ],
      [
        'a day that does not exist',
        (b) => at(b, 0, { deviceTime: '2026-02-30T08:00:00Z' }),
        400,
        'INGEST_INVALID_BATCH',
        'records[0].deviceTime',
      ],
      [
        'a sequence twice',
        (b) => at(b, 5, { seq: b.records[2]!.seq }),
        400,
        'INGEST_INVALID_BATCH',
        'records[5].seq',
      ],
      ['a negative sequence', (b) => at(b, 1, { seq: -1 }), 400, 'INGEST_INVALID_BATCH', 'records[1].seq'],
      ['a fractional sequence', (b) => at(b, 1, { seq: 1.5 }), 400, 'INGEST_INVALID_BATCH', 'records[1].seq'],
      [
        'a null temperature without the fault flag',
        (b) => at(b, 2, { temperatureC: null }),
        400,
        'INGEST_INVALID_BATCH',
        'records[2].temperatureC',
      ],
      [
        'a temperature below absolute zero',
        (b) => at(b, 2, { temperatureC: -300 }),
        400,
        'INGEST_INVALID_BATCH',
        'records[2].temperatureC',
      ],
      [
        'a temperature as a string',
        (b) => at(b, 2, { temperatureC: '5.0' }),
        400,
        'INGEST_INVALID_BATCH',
        'records[2].temperatureC',
      ],
      [
        'a corrected time without clock_corrected',
        (b) => at(b, 9, { time: new Date(Date.parse(b.records[9]!.deviceTime) - 5000).toISOString() }),
        400,
        'INGEST_INVALID_BATCH',
        'records[9].time',
      ],
      [
        'an unknown flag',
        (b) => at(b, 0, { flags: ['hot'] }),
        400,
        'INGEST_INVALID_BATCH',
        'records[0].flags[0]',
      ],
      [
        'an unknown record field',
        (b) => at(b, 4, { extra: 1 }),
        400,
        'INGEST_INVALID_BATCH',
        'records[4].extra',
      ],
      ['an unknown batch field', (b) => ({ ...b, site: 'elsewhere' }), 400, 'INGEST_INVALID_BATCH', 'site'],
      [
        'a missing skew',
        (b) => at(b, 6, { skewMs: undefined }),
        400,
        'INGEST_INVALID_BATCH',
        'records[6].skewMs',
      ],
      [
        'a humidity above 100 %',
        (b) => at(b, 6, { humidityPct: 101 }),
        400,
        'INGEST_INVALID_BATCH',
        'records[6].humidityPct',
      ],
      [
        'a batch id that is not a UUID',
        (b) => ({ ...b, batchId: 'batch-1' }),
        400,
        'INGEST_INVALID_BATCH',
        'batchId',
      ],
      [
        'an unknown protocol',
        (b) => ({ ...b, device: { ...b.device, protocol: 'zigbee' } }),
        400,
        'INGEST_INVALID_BATCH',
        'device.protocol',
      ],
      [
        'an Elitech batch without its mission',
        (b) => ({ ...b, device: { ...b.device, protocol: LoggerProtocol.Elitech } }),
        400,
        'INGEST_INVALID_BATCH',
        'mission',
      ],
      ['no records', (b) => ({ ...b, records: [] }), 400, 'INGEST_INVALID_BATCH', 'records'],
      ['a record that is not an object', (b) => at(b, 8, null), 400, 'INGEST_INVALID_BATCH', 'records[8]'],
    ];

    function at(b: IngestBatch, i: number, patch: Record<string, unknown> | null): unknown {
      const copy = b.records.map((r) => ({ ...r })) as unknown[];
      copy[i] = patch === null ? null : { ...(copy[i] as object), ...patch };
      return { ...b, records: copy };
    }

    it.each(bad)('%s', async (_what, mutate, status, code, field) => {
      const b = batch({ records: records(seqRange(1, 20)) });
      const res = await upload(mutate(b));
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({ code, field });
      if (code === 'INGEST_INVALID_BATCH') expect(res.body.errors?.map((e) => e.field)).toContain(field);
      expect(await readingsOf(b.device.serial)).toBe(0);
      expect(await count(`SELECT count(*) AS n FROM logger WHERE serial = $1`, [b.device.serial])).toBe(0);
      expect(await count(`SELECT count(*) AS n FROM ingest_batch WHERE batch_id = $1`, [b.batchId])).toBe(0);
    });

    it('more records than a batch may hold: 413, nothing written', async () => {
      const b = batch({ records: records(seqRange(1, INGEST_MAX_RECORDS + 1)) });
      const res = await upload(b);
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ code: 'INGEST_TOO_MANY_RECORDS', field: 'records' });
      expect(await readingsOf(b.device.serial)).toBe(0);
    });

    it('malformed JSON: 400 MALFORMED_JSON', async () => {
      const res = await api.request<Problem>('POST', '/api/ingest/readings', {
        token: bridge.token,
        rawBody: '{"version":1,"records":[',
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('MALFORMED_JSON');
    });

    it('lists every bad field of the batch, not only the first', async () => {
      const b = batch({ records: records(seqRange(1, 50)) });
      const broken = at(b, 10, { time: 'yesterday' }) as IngestBatch;
      const res = await upload(at(broken, 40, { seq: 'forty' }));
      expect(res.body.errors?.map((e) => e.field)).toEqual(['records[10].time', 'records[40].seq']);
    });
  });

  it('takes bridges only, authenticated by their own revocable token', async () => {
    const b = batch({ records: records(seqRange(1, 5)) });
    expect((await api.request('POST', '/api/ingest/readings', { body: b })).status).toBe(401);
    const admin = await makeUser(api.app, Role.Admin);
    const adminToken = await api.login(admin.username, admin.password);
    const asUser = await upload(b, adminToken);
    expect(asUser.status).toBe(403);
    const gone = await makeBridge(api.app);
    await api.app
      .get(BridgeCredentialService)
      .revoke({ actor: { kind: 'system', name: 'test' } }, gone.credentialId, 'PC replaced');
    const revoked = await upload(b, gone.token);
    expect(revoked.status).toBe(401);
    expect(revoked.body.code).toBe('AUTH_BRIDGE_TOKEN_INVALID');
    expect(await readingsOf(b.device.serial)).toBe(0);
  });

  it('takes a full batch of 10 000 records (about 2 MB) above the global body limit of other routes', async () => {
    const b = batch({ records: records(seqRange(1, INGEST_MAX_RECORDS)) });
    expect(JSON.stringify(b).length).toBeGreaterThan(1_000_000);
    const res = await upload(b);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      accepted: INGEST_MAX_RECORDS,
      highestContiguousSeq: INGEST_MAX_RECORDS,
    });
    // Every other route keeps the global limit.
    const elsewhere = await api.request<Problem>('POST', '/api/auth/login', {
      rawBody: JSON.stringify({ username: 'x', password: 'y'.repeat(1_100_000) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(elsewhere.status).toBe(413);
  });

  it('tracks the highest contiguous sequence; a hole raises a gap, closed when a download back-fills it', async () => {
    const device = { protocol: LoggerProtocol.Native, serial: unique('LT'), model: 'LT-1' };
    const send = async (seqs: number[]) =>
      (await upload(batch({ device, records: records(seqs, { firstSeq: 1 }) }))).body;

    const first = await send(seqRange(1, 10));
    const loggerId = first.loggerId;
    expect(first.highestContiguousSeq).toBe(10);
    expect(await openGaps(loggerId)).toEqual([]);

    // 11–14 lost on the way (or not yet downloaded): one gap, with the times either side of it.
    expect((await send(seqRange(15, 20))).highestContiguousSeq).toBe(10);
    const [gap] = await openGaps(loggerId);
    expect(gap).toMatchObject({
      from_seq: '11',
      to_seq: '14',
      after_time: new Date(SERIES_START + 9 * MINUTE),
      before_time: new Date(SERIES_START + 14 * MINUTE),
      parent_id: null,
    });

    // 12 arrives: the gap is closed and what is still missing is two new gaps naming it as parent.
    expect((await send([12])).highestContiguousSeq).toBe(10);
    const split = await openGaps(loggerId);
    expect(split.map((g) => [g.from_seq, g.to_seq, g.parent_id])).toEqual([
      ['11', '11', gap!.id],
      ['13', '14', gap!.id],
    ]);
    const [closed] = await db.query<{ closed_at: Date | null }[]>(
      `SELECT closed_at FROM reading_gap WHERE id = $1`,
      [gap!.id],
    );
    expect(closed!.closed_at).toBeInstanceOf(Date);

    // Back-fill the rest (with a duplicate and a newer record in the same batch).
    const filled = await send([11, 12, 13, 14, 21]);
    expect(filled).toMatchObject({ accepted: 4, duplicates: 1, highestContiguousSeq: 21 });
    expect(await openGaps(loggerId)).toEqual([]);
    expect(await stream(loggerId)).toEqual({ min_seq: '1', max_seq: '21', highest_contiguous_seq: '21' });

    // Holes inside one batch, and older records than anything seen (a backlog reaching further back).
    expect((await send([23, 25, 26])).highestContiguousSeq).toBe(21);
    expect((await openGaps(loggerId)).map((g) => [g.from_seq, g.to_seq])).toEqual([
      ['22', '22'],
      ['24', '24'],
    ]);
    await send([22, 24]);
    expect(await stream(loggerId)).toMatchObject({ highest_contiguous_seq: '26' });
    const history = await count(`SELECT count(*) AS n FROM reading_gap WHERE logger_id = $1`, [loggerId]);
    expect(history).toBe(5);
  });

  it('writes an outbox row per batch that stored something and queues its evaluation with a deterministic job id', async () => {
    const b = batch({ records: records(seqRange(1, 30)) });
    const res = await upload(b);
    const rows = await db.query<{ id: string; from_time: Date; to_time: Date; evaluated_at: Date | null }[]>(
      `SELECT id, from_time, to_time, evaluated_at FROM ingest_outbox WHERE logger_id = $1`,
      [res.body.loggerId],
    );
    expect(rows).toEqual([
      {
        id: expect.any(String),
        from_time: new Date(SERIES_START),
        to_time: new Date(SERIES_START + 29 * MINUTE),
        evaluated_at: null,
      },
    ]);
    const job = await queue.getJob(evaluationJobId(rows[0]!.id));
    expect(job?.data).toEqual({ outboxId: rows[0]!.id });
    expect(job?.name).toBe('excursion-evaluate');

    // A replay stores nothing: no new outbox row, no new job.
    await upload(b);
    expect(
      await count(`SELECT count(*) AS n FROM ingest_outbox WHERE logger_id = $1`, [res.body.loggerId]),
    ).toBe(1);
  });

  it('re-queues evaluations lost with Redis (sweep), and the worker marks them evaluated', async () => {
    const b = batch({ records: records(seqRange(1, 40)) });
    const res = await upload(b);
    const [row] = await db.query<{ id: string }[]>(`SELECT id FROM ingest_outbox WHERE logger_id = $1`, [
      res.body.loggerId,
    ]);
    // Redis loses the queued job (a crash without persistence).
    const redis = new Redis(testServices().redisUrl);
    await redis.flushdb();
    await redis.quit();
    expect(await queue.getJob(evaluationJobId(row!.id))).toBeUndefined();

    const ingest = api.app.get(IngestService);
    expect(await ingest.sweep(0)).toBeGreaterThanOrEqual(1);
    expect((await queue.getJob(evaluationJobId(row!.id)))?.data).toEqual({ outboxId: row!.id });

    worker = await NestFactory.createApplicationContext(WorkerModule.register(api.config), { logger: false });
    await worker.init();
    const deadline = Date.now() + 15_000;
    let evaluated: Date | null = null;
    while (!evaluated && Date.now() < deadline) {
      const [state] = await db.query<{ evaluated_at: Date | null }[]>(
        `SELECT evaluated_at FROM ingest_outbox WHERE id = $1`,
        [row!.id],
      );
      evaluated = state?.evaluated_at ?? null;
      if (!evaluated) await new Promise((r) => setTimeout(r, 100));
    }
    expect(evaluated).toBeInstanceOf(Date);
    // Once evaluated, a sweep leaves it alone: it queues nothing for it, and its evaluation stands.
    const job = await queue.getJob(evaluationJobId(row!.id));
    const jobState = await job?.getState();
    await ingest.sweep(0);
    const [after] = await db.query<{ evaluated_at: Date | null }[]>(
      `SELECT evaluated_at FROM ingest_outbox WHERE id = $1`,
      [row!.id],
    );
    expect(after!.evaluated_at).toEqual(evaluated);
    expect(await (await queue.getJob(evaluationJobId(row!.id)))?.getState()).toBe(jobState);
  });
});
