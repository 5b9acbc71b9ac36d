import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { currentEnvironment } from '@lyotrace/config';
import {
  INGEST_BATCH_VERSION,
  INGEST_MAX_RECORDS,
  type IngestBatch,
  LoggerProtocol,
  ReadingFlag,
  Role,
  SiteKind,
} from '@lyotrace/contracts';
import { SESSION_OPTIONS } from '@lyotrace/persistence';
import { BridgeCredentialService } from '@lyotrace/services';
import { FACTORY_PASSWORD, makeSite, makeUser } from '../support/factories.js';
import {
  BenchApi,
  benchServices,
  type Cell,
  cpuCell,
  type CpuShare,
  cpuSince,
  cpuSnapshot,
  type Figures,
  formatTable,
  FOREIGN_CPU_LIMIT_PCT,
  idleCheck,
  machineNote,
  percentile,
  progress,
  round,
} from './bench-kit.js';
import type { IngestLoadOptions, IngestLoadOutcome } from './ingest-load-worker.js';

/**
 * Logger readings through the real ingest API (issue 5, "Performance"), against a raw set-based SQL insert
 * into the same table in the same run:
 *
 *   http_5k     POST /api/ingest/readings, batches of 5 000 records with a real bridge token, BATCHES of them,
 *               CONCURRENCY at a time (each batch new: a replay would measure nothing). Target ≥ 50 000
 *               readings/s sustained, and ≥ 0.4 of raw.
 *   raw_5k      the same batches as `INSERT INTO reading … SELECT … FROM unnest(…) ON CONFLICT DO NOTHING` on
 *               a pg pool of the same concurrency, run before and after http_5k (the mean is the baseline, so
 *               that the table growing during the run favours neither).
 *   download    a 30-day one-per-minute logger download (43 200 records, Elitech-style mission), sent as a
 *               bridge does: batches of INGEST_MAX_RECORDS one after the other. Target: committed ≤ 2 s after
 *               its last byte reached the API. Then the same download replayed: 0 rows inserted.
 *
 *   range_*     GET /api/loggers/:id/readings over a year of one-per-minute readings per logger: one day, and the
 *               first 10 000-reading page of 30 days ("a year at one per minute per logger must stay fast").
 *
 * Sizes can be lowered for a quick check: BENCH_INGEST_BATCHES (default 80), BENCH_INGEST_DOWNLOAD (43 200),
 * BENCH_INGEST_YEAR_LOGGERS (2).
 */

const BATCH = 5_000;
const CONCURRENCY = 4;
const LOGGERS = 16;
const WARMUP_RECORDS = 1_000;
const MINUTE = 60_000;
const TIMEOUT_MS = 60_000;
const TARGET_READINGS_PER_S = 50_000;
const TARGET_RATIO = 0.4;
const TARGET_DOWNLOAD_COMMIT_MS = 2_000;
const EPOCH = Date.parse('2026-01-05T00:00:00Z');

const envInt = (name: string, fallback: number): number => {
  const raw = currentEnvironment()[name];
  const value = raw === undefined ? Number.NaN : Number(raw);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};

interface Series {
  protocol: LoggerProtocol;
  serial: string;
  mission: string;
}

/** `count` records from `firstSeq`, one per minute from EPOCH (seq 1 at EPOCH); 1 in 997 flagged. */
function batchBody(s: Series, firstSeq: number, count: number): Buffer {
  const records = new Array<IngestBatch['records'][number]>(count);
  for (let i = 0; i < count; i += 1) {
    const seq = firstSeq + i;
    const time = new Date(EPOCH + (seq - 1) * MINUTE).toISOString();
    records[i] = {
      seq,
      deviceTime: time,
      time,
      skewMs: 120,
      temperatureC: Math.round(50 + 20 * Math.sin(seq / 480)) / 10,
      flags: seq % 997 === 0 ? [ReadingFlag.ClockSkew] : [],
    };
  }
  const batch: IngestBatch = {
    version: INGEST_BATCH_VERSION,
    batchId: randomUUID(),
    device: { protocol: s.protocol, serial: s.serial, model: 'LT-1', firmware: '1.4.2' },
    mission: s.mission,
    live: false,
    records,
  };
  return Buffer.from(JSON.stringify(batch), 'utf8');
}

interface Phase {
  outcomes: IngestLoadOutcome[];
  cpu: CpuShare;
}

/** Sends every body once over `concurrency` connections from a worker thread; fails on any non-200. */
function send(
  label: string,
  baseUrl: string,
  token: string,
  bodies: Buffer[],
  concurrency: number,
): Promise<Phase> {
  const buffers = bodies.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  const options: IngestLoadOptions = { baseUrl, token, concurrency, timeoutMs: TIMEOUT_MS, bodies: buffers };
  const cpu = cpuSnapshot();
  return new Promise<Phase>((resolve, reject) => {
    const worker = new Worker(new URL('./ingest-load-worker.js', import.meta.url), {
      workerData: options,
      transferList: buffers,
    });
    let outcomes: IngestLoadOutcome[] | undefined;
    worker.once('message', (m: IngestLoadOutcome[]) => (outcomes = m));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (!outcomes)
        return reject(new Error(`${label}: the load worker exited with code ${code}, no result`));
      const bad = outcomes.find((o) => o.status !== 200);
      if (bad) return reject(new Error(`${label}: a batch was answered ${bad.status}: ${bad.detail}`));
      resolve({ outcomes, cpu: cpuSince(cpu) });
    });
  });
}

interface Throughput extends CpuShare {
  label: string;
  batches: number;
  readings: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p95: number;
}

function throughput(label: string, phase: Phase): Throughput {
  const o = phase.outcomes;
  const start = Math.min(...o.map((x) => x.startedAt));
  const end = Math.max(...o.map((x) => x.answeredAt));
  const readings = o.reduce((a, x) => a + x.accepted, 0);
  const latencies = Float64Array.from(o.map((x) => x.answeredAt - x.startedAt)).sort();
  const seconds = (end - start) / 1000;
  return {
    label,
    batches: o.length,
    readings,
    seconds,
    perSecond: readings / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    ...phase.cpu,
  };
}

const RAW_INSERT = `INSERT INTO reading (stream_id, seq, logger_id, time, device_time, received_at, skew_ms, temperature_c, humidity_pct, flags)
  SELECT $1, r.seq, $2, r.time, r.device_time, now(), r.skew_ms, r.temperature_c, r.humidity_pct,
         CASE WHEN r.flags = '' THEN '{}'::text[] ELSE string_to_array(r.flags, ',') END
    FROM unnest($3::bigint[], $4::timestamptz[], $5::timestamptz[], $6::bigint[], $7::float8[], $8::float8[], $9::text[])
         AS r(seq, time, device_time, skew_ms, temperature_c, humidity_pct, flags)
  ON CONFLICT (stream_id, seq) DO NOTHING`;

/** The same batches as plain parameter arrays, inserted straight into `reading` on `CONCURRENCY` connections. */
async function rawInsert(
  label: string,
  pool: pg.Pool,
  streams: { streamId: string; loggerId: string }[],
  batches: number,
  firstSeq: number,
): Promise<Throughput> {
  const params: unknown[][] = [];
  for (let k = 0; k < batches; k += 1) {
    const s = streams[k % streams.length]!;
    const from = firstSeq + Math.floor(k / streams.length) * BATCH;
    const seq: number[] = [];
    const time: string[] = [];
    const skew: number[] = [];
    const temp: number[] = [];
    const hum: null[] = [];
    const flags: string[] = [];
    for (let i = 0; i < BATCH; i += 1) {
      const n = from + i;
      seq.push(n);
      time.push(new Date(EPOCH + (n - 1) * MINUTE).toISOString());
      skew.push(120);
      temp.push(Math.round(50 + 20 * Math.sin(n / 480)) / 10);
      hum.push(null);
      flags.push(n % 997 === 0 ? ReadingFlag.ClockSkew : '');
    }
    params.push([s.streamId, s.loggerId, seq, time, time, skew, temp, hum, flags]);
  }
  const cpu = cpuSnapshot();
  const latencies: number[] = [];
  let inserted = 0;
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < params.length) {
        const p = params[next++]!;
        const t0 = performance.now();
        const res = await pool.query(RAW_INSERT, p);
        latencies.push(performance.now() - t0);
        inserted += res.rowCount ?? 0;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  if (inserted !== batches * BATCH)
    throw new Error(`${label}: inserted ${inserted} of ${batches * BATCH} rows`);
  const sorted = Float64Array.from(latencies).sort();
  return {
    label,
    batches,
    readings: inserted,
    seconds,
    perSecond: inserted / seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    ...cpuSince(cpu),
  };
}

interface RangeReads {
  rows: number;
  loadSeconds: number;
  day: { p50: number; p95: number; readings: number };
  month: { p50: number; p95: number; readings: number };
}

const YEAR_MINUTES = 365 * 24 * 60;
const RANGE_ROUNDS = 20;

/**
 * "A year at one per minute per logger must stay fast": `loggers` loggers with a year of readings each,
 * written interleaved in time order as live uploads would leave them in the heap (set-based, not through the
 * API), then GET /api/loggers/:id/readings for random one-day windows (1 440 readings) and the first page of
 * random 30-day windows (10 000 readings), one at a time.
 */
async function rangeReads(
  api: BenchApi,
  pool: pg.Pool,
  siteId: string,
  loggers: number,
): Promise<RangeReads> {
  const ids: string[] = [];
  const started = performance.now();
  for (let i = 0; i < loggers; i += 1) {
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO logger (protocol, serial, model, site_id, registration, version)
       VALUES ('lyotrace-native', $1, 'LT-1', $2, 'auto', 1) RETURNING id`,
      [`BENCH-YEAR-${i}`, siteId],
    );
    ids.push(rows[0]!.id);
  }
  await pool.query(
    `INSERT INTO reading_stream (logger_id, mission, created_at) SELECT unnest($1::uuid[]), '', now()`,
    [ids],
  );
  await pool.query(
    `INSERT INTO reading (stream_id, seq, logger_id, time, device_time, received_at, skew_ms, temperature_c, flags)
     SELECT s.id, g, s.logger_id, $2::timestamptz + (g - 1) * interval '1 minute', $2::timestamptz + (g - 1) * interval '1 minute',
            now(), 0, round((5 + 2 * sin(g / 480.0))::numeric, 1), '{}'
       FROM generate_series(1, $3::int) g CROSS JOIN reading_stream s
      WHERE s.logger_id = ANY($1::uuid[])
      ORDER BY g, s.id`,
    [ids, new Date(EPOCH - 400 * 86_400_000).toISOString(), YEAR_MINUTES],
  );
  await pool.query('ANALYZE reading');
  const loadSeconds = (performance.now() - started) / 1000;

  const reader = await makeUser(api.app, Role.Qa);
  const qa = await api.login(reader.username, FACTORY_PASSWORD);
  const yearStart = EPOCH - 400 * 86_400_000;
  const read = async (days: number, limit: number) => {
    const latencies: number[] = [];
    let readings = 0;
    for (let r = 0; r < RANGE_ROUNDS; r += 1) {
      const id = ids[r % ids.length]!;
      const from = yearStart + Math.floor(Math.random() * (365 - days)) * 86_400_000;
      const to = from + days * 86_400_000;
      const t0 = performance.now();
      const res = await api.request<{ items: unknown[] }>(
        'GET',
        `/api/loggers/${id}/readings?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&limit=${limit}`,
        { token: qa },
      );
      latencies.push(performance.now() - t0);
      if (res.status !== 200)
        throw new Error(`range read: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      readings = res.body.items.length;
    }
    const sorted = Float64Array.from(latencies).sort();
    return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), readings };
  };
  return {
    rows: loggers * YEAR_MINUTES,
    loadSeconds,
    day: await read(1, 10_000),
    month: await read(30, 10_000),
  };
}

export async function run(): Promise<void> {
  const batches = envInt('BENCH_INGEST_BATCHES', 80);
  const downloadRecords = envInt('BENCH_INGEST_DOWNLOAD', 43_200);
  const yearLoggers = envInt('BENCH_INGEST_YEAR_LOGGERS', 2);
  const busy = await idleCheck();
  const { databaseUrl } = benchServices();
  const api = await BenchApi.start();
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: CONCURRENCY,
    options: SESSION_OPTIONS,
    application_name: 'lyotrace-bench-raw',
  });
  const figures: Figures = {};
  const met: Record<string, boolean> = {};
  let http: Throughput;
  let raws: Throughput[];
  let ranges: RangeReads;
  let download: {
    lastBatchMs: number;
    afterLastByteMs: number;
    totalMs: number;
    batches: number;
    replayAccepted: number;
    replayInserted: number;
    stored: number;
  };
  try {
    progress('ingest: site, bridge credential, loggers…');
    const site = await makeSite(api.app, SiteKind.Warehouse);
    const system = { actor: { kind: 'system' as const, name: 'bench' } };
    const { token } = await api.app.get(BridgeCredentialService).issue(system, site.id);
    const series: Series[] = Array.from({ length: LOGGERS }, (_, i) => ({
      protocol: LoggerProtocol.Native,
      serial: `BENCH-LT-${String(i).padStart(3, '0')}`,
      mission: '',
    }));

    // Warm-up (not measured): each logger's first records, which also registers it (unknown device).
    await send(
      'warm-up',
      api.baseUrl,
      token,
      series.map((s) => batchBody(s, 1, WARMUP_RECORDS)),
      CONCURRENCY,
    );

    progress(`ingest: raw SQL baseline, ${batches} × ${BATCH}…`);
    const rawStreams: { streamId: string; loggerId: string }[] = [];
    for (let i = 0; i < LOGGERS; i += 1) {
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO logger (protocol, serial, model, site_id, registration, version) VALUES ('lyotrace-native', $1, 'LT-1', $2, 'auto', 1) RETURNING id`,
        [`BENCH-RAW-${i}`, site.id],
      );
      const stream = await pool.query<{ id: string }>(
        `INSERT INTO reading_stream (logger_id, mission, created_at) VALUES ($1, '', now()) RETURNING id`,
        [rows[0]!.id],
      );
      rawStreams.push({ streamId: stream.rows[0]!.id, loggerId: rows[0]!.id });
    }
    const rawFirst = await rawInsert('raw_5k (before)', pool, rawStreams, batches, 1);

    progress(`ingest: HTTP, ${batches} batches × ${BATCH} records, ${CONCURRENCY} at a time…`);
    const bodies: Buffer[] = [];
    for (let k = 0; k < batches; k += 1)
      bodies.push(
        batchBody(series[k % LOGGERS]!, WARMUP_RECORDS + 1 + Math.floor(k / LOGGERS) * BATCH, BATCH),
      );
    const bodyMb = bodies.reduce((a, b) => a + b.length, 0) / 1e6;
    http = throughput('http_5k', await send('http_5k', api.baseUrl, token, bodies, CONCURRENCY));
    if (http.readings !== batches * BATCH)
      throw new Error(`http_5k: accepted ${http.readings} of ${batches * BATCH}`);
    figures.http_5k_body_mb = round(bodyMb, 1);

    const rawSecond = await rawInsert('raw_5k (after)', pool, rawStreams, batches, 1 + batches * BATCH);
    raws = [rawFirst, rawSecond];

    progress(
      `ingest: a ${downloadRecords}-record download in batches of ${INGEST_MAX_RECORDS}, then its replay…`,
    );
    const logger: Series = {
      protocol: LoggerProtocol.Elitech,
      serial: 'BENCH-RC5-0001',
      mission: new Date(EPOCH).toISOString(),
    };
    const downloadBodies = (): Buffer[] => {
      const out: Buffer[] = [];
      for (let first = 1; first <= downloadRecords; first += INGEST_MAX_RECORDS)
        out.push(batchBody(logger, first, Math.min(INGEST_MAX_RECORDS, downloadRecords - first + 1)));
      return out;
    };
    const first = (await send('download', api.baseUrl, token, downloadBodies(), 1)).outcomes;
    const stored = Number(
      (
        await pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM reading r JOIN logger l ON l.id = r.logger_id WHERE l.serial = $1`,
          [logger.serial],
        )
      ).rows[0]!.n,
    );
    const replay = (await send('replay', api.baseUrl, token, downloadBodies(), 1)).outcomes;
    const afterReplay = Number(
      (
        await pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM reading r JOIN logger l ON l.id = r.logger_id WHERE l.serial = $1`,
          [logger.serial],
        )
      ).rows[0]!.n,
    );
    const last = first[first.length - 1]!;
    download = {
      batches: first.length,
      lastBatchMs: last.answeredAt - last.startedAt,
      afterLastByteMs: last.answeredAt - last.sentAt,
      totalMs: last.answeredAt - first[0]!.startedAt,
      replayAccepted: replay.reduce((a, o) => a + o.accepted, 0),
      replayInserted: afterReplay - stored,
      stored,
    };
    if (stored !== downloadRecords)
      throw new Error(`download: ${stored} of ${downloadRecords} readings stored`);

    progress(
      `ingest: a year of one-per-minute readings for ${yearLoggers} loggers (interleaved), then range reads…`,
    );
    ranges = await rangeReads(api, pool, site.id, yearLoggers);
  } finally {
    await pool.end();
    await api.close();
  }

  const rawPerSecond = (raws[0]!.perSecond + raws[1]!.perSecond) / 2;
  figures.http_5k_readings_per_s = Math.round(http.perSecond);
  figures.http_5k_batch_p50_ms = round(http.p50, 1);
  figures.http_5k_batch_p95_ms = round(http.p95, 1);
  figures.http_5k_seconds = round(http.seconds, 2);
  figures.http_5k_readings = http.readings;
  figures.raw_5k_readings_per_s = Math.round(rawPerSecond);
  figures.raw_5k_before_readings_per_s = Math.round(raws[0]!.perSecond);
  figures.raw_5k_after_readings_per_s = Math.round(raws[1]!.perSecond);
  figures.http_raw_ratio = round(http.perSecond / rawPerSecond, 3);
  figures.download_records = download.stored;
  figures.download_batches = download.batches;
  figures.download_total_ms = round(download.totalMs, 1);
  figures.download_last_batch_ms = round(download.lastBatchMs, 1);
  figures.download_commit_after_last_byte_ms = round(download.afterLastByteMs, 1);
  figures.replay_accepted = download.replayAccepted;
  figures.replay_inserted_rows = download.replayInserted;
  figures.year_rows = ranges.rows;
  figures.year_load_s = round(ranges.loadSeconds, 1);
  figures.range_day_readings = ranges.day.readings;
  figures.range_day_p50_ms = round(ranges.day.p50, 1);
  figures.range_day_p95_ms = round(ranges.day.p95, 1);
  figures.range_month_page_readings = ranges.month.readings;
  figures.range_month_page_p50_ms = round(ranges.month.p50, 1);
  figures.range_month_page_p95_ms = round(ranges.month.p95, 1);
  figures.foreign_cpu_max_pct = round(Math.max(...[http, ...raws].map((m) => m.foreignPct)), 1);
  figures.busy_before_pct = round(busy.busyPct, 1);
  met.http_5k_readings_per_s = http.perSecond >= TARGET_READINGS_PER_S;
  met.http_raw_ratio = http.perSecond / rawPerSecond >= TARGET_RATIO;
  met.download_commit_after_last_byte_ms = download.afterLastByteMs <= TARGET_DOWNLOAD_COMMIT_MS;
  met.replay_inserted_rows = download.replayInserted === 0;

  const yes = (ok: boolean): string => (ok ? 'yes' : 'NO');
  const row = (t: Throughput, via: string, target: string, ok: string): Cell[] => [
    t.label,
    via,
    t.batches,
    t.readings,
    round(t.seconds, 2),
    Math.round(t.perSecond),
    round(t.p50, 1),
    round(t.p95, 1),
    target,
    ok,
    cpuCell(t),
  ];
  const notes = [
    machineNote(),
    `${LOGGERS} loggers, batches of ${BATCH} records (${figures.http_5k_body_mb} MB of JSON in all), ${CONCURRENCY} in flight; ` +
      `warm-up: ${WARMUP_RECORDS} records per logger (registers each), not measured`,
    'readings/s = records stored / (first request sent → last answer); batch latencies in ms',
    `http/raw = ${figures.http_raw_ratio} (raw = mean of the runs before and after HTTP); target ≥ ${TARGET_RATIO}: ${yes(met.http_raw_ratio)}`,
    `download: ${download.stored} records in ${download.batches} sequential batches of ≤ ${INGEST_MAX_RECORDS}: ` +
      `${round(download.totalMs, 0)} ms in all; last batch committed ${round(download.afterLastByteMs, 0)} ms after its last byte ` +
      `(target ≤ ${TARGET_DOWNLOAD_COMMIT_MS}: ${yes(met.download_commit_after_last_byte_ms)})`,
    `replay of the download: accepted ${download.replayAccepted}, rows inserted ${download.replayInserted} (target 0: ${yes(met.replay_inserted_rows)})`,
    `range reads (GET /api/loggers/:id/readings, ${RANGE_ROUNDS} random windows each, one at a time) on ${ranges.rows} readings ` +
      `(a year per minute of ${ranges.rows / YEAR_MINUTES} loggers, loaded in ${round(ranges.loadSeconds, 1)} s): ` +
      `1 day (${ranges.day.readings}) p50 ${round(ranges.day.p50, 1)} / p95 ${round(ranges.day.p95, 1)} ms; ` +
      `30 days, first page (${ranges.month.readings}) p50 ${round(ranges.month.p50, 1)} / p95 ${round(ranges.month.p95, 1)} ms`,
    'cpu = % of the machine: this process (API + client + pg) / PostgreSQL + Redis / anything else',
    ...(busy.warning ? [`WARNING: ${busy.warning}`] : []),
    ...[http, ...raws]
      .filter((m) => m.foreignPct > FOREIGN_CPU_LIMIT_PCT)
      .map(
        (m) =>
          `WARNING: during ${m.label} other processes took ${m.foreignPct.toFixed(0)}% of the machine: not comparable`,
      ),
  ];
  const table = formatTable(
    ['scenario', 'via', 'batches', 'readings', 'seconds', 'readings/s', 'p50', 'p95', 'target', 'met', 'cpu'],
    [
      row(http, 'HTTP', `≥ ${TARGET_READINGS_PER_S}`, yes(met.http_5k_readings_per_s)),
      ...raws.map((r) => row(r, 'SQL', '', '')),
    ],
  );
  const out = [`\n== bench ingest`, ...notes.map((n) => `   ${n}`), '', table, ''];
  out.push(JSON.stringify({ bench: 'ingest', figures, targets_met: met }));
  process.stdout.write(`${out.join('\n')}\n`);
}
