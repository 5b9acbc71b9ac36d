import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { Role, SiteKind } from '@lyotrace/contracts';
import { currentEnvironment } from '@lyotrace/config';
import { formatElementString, gs1CheckDigit } from '@lyotrace/domain';
import { SESSION_OPTIONS, TRACE_SQL, VialTupleStream } from '@lyotrace/persistence';
import { vialLineFormat } from '@lyotrace/services';
import { FACTORY_PASSWORD, makeSite, makeUser } from '../support/factories.js';
import {
  assertClean,
  BenchApi,
  benchServices,
  type Cell,
  contentionNotes,
  type CpuShare,
  cpuCell,
  latencyCells,
  cpuSince,
  cpuSnapshot,
  FOREIGN_CPU_LIMIT_PCT,
  type Figures,
  formatTable,
  idleCheck,
  type LoadResult,
  machineNote,
  type Measurement,
  progress,
  round,
  runLoad,
  summarize,
} from './bench-kit.js';

/**
 * The genealogy traces on a realistic graph of 10⁶ vials, through the HTTP API and, for comparison, as the
 * same recursive SQL on a direct connection (issue: "trace benchmark"):
 *
 *   1 donor → 1 MCB → 10 WCBs → 100 expansions → 1 000 harvests → 1 000 pools (each of two harvests)
 *   → 1 000 fills of 10 finished lots each = 10 000 lots × 100 vials; plus 2 raw materials (medium into every
 *   expansion, cryoprotectant into every fill), as the production API would record them.
 *
 * The data is generated in PostgreSQL with set-based SQL (generate_series), not through the API: the same
 * rows the service writes (lot, transformation, transformation_input/_output, lot_edge, vial), minus the
 * audit trail and EPCIS events, which no trace reads.
 *
 * Doses: 10⁵ (one vial in ten), given at 4 clinics to 5·10⁴ pseudonymous patients (two doses each), each with
 * its e-signature; the vials dispensed and held by the clinic, as the dose service leaves them.
 *
 * Scenarios (closed loop; any non-2xx fails the benchmark):
 *   backward_dose      GET /api/trace/backward?ref=<dose id>            target p95 ≤ 5 ms (the issue's figure:
 *                      patient → dose → vial → lot → … → donor, one SQL statement)
 *   backward_vial      GET /api/trace/backward?ref=<vial id>            target p95 ≤ 5 ms
 *   backward_vial_gs1  GET /api/trace/backward?ref=<]d2 element string>
 *   forward_lot        GET /api/trace/forward?ref=<finished lot code>  (JSON, 100 vials) target p95 ≤ 20 ms
 *   forward_mcb_stream GET /api/trace/forward?ref=<MCB>&format=ndjson  all 10⁶ vials, target ≤ 5 s
 * The latency targets are the time one trace takes: checked at 1 client (_c1). At 8 clients the machine is
 * saturated and a p95 is mostly queueing behind the other seven (there even the raw SQL alone, with no API, takes
 * longer than 5 ms at p95): those rows show what the machine serves under load, with no target. Each has a raw
 * SQL twin (_raw): the statements the repository runs for the same trace — the one that says what the ref is,
 * then the trace itself — as it runs them (named prepared
 * statements, one after the other) on a pg pool of the API's size, reported as API/raw ratios; and every query
 * is EXPLAIN ANALYZEd (planning vs execution time, tables read whole), which is where a missed target shows its
 * cause. The stream's twin is the repository's own snapshot + cursor code on a direct connection, with and
 * without the NDJSON lines.
 *
 * BENCH_KEEP_DB=1 (scripts/bench.sh keeps the database) reuses a complete graph of the same size left by an
 * earlier run instead of generating it again: for iterating, not for figures to report.
 *
 * Sizes can be lowered for a quick check that it runs: BENCH_TRACE_WCBS (default 10; each WCB is a tenth of the
 * graph) and BENCH_TRACE_VIALS_PER_LOT (default 100). The targets are meant for the full size only.
 */

const envInt = (name: string, fallback: number): number => {
  const raw = currentEnvironment()[name];
  const value = raw === undefined ? Number.NaN : Number(raw);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};

// ── the shape of the graph ──
const WCBS = envInt('BENCH_TRACE_WCBS', 10);
const EXPANSIONS_PER_WCB = 10;
const HARVESTS_PER_EXPANSION = 10;
/** One pool per harvest index, each pooling that harvest and the next one of the same expansion. */
const FINISHED_PER_POOL = 10;
const VIALS_PER_LOT = envInt('BENCH_TRACE_VIALS_PER_LOT', 100);
/** scripts/bench.sh kept the database (BENCH_KEEP_DB=1): a complete graph of the same size is reused. */
const REUSE_GRAPH = currentEnvironment().BENCH_KEEP_DB === '1';
/**
 * BENCH_TRACE_ONLY=backward_dose_c1,stream,explain: only those parts (scenario labels, `stream`, `explain`), for
 * iterating on one of them. Unset: everything, as reported.
 */
const ONLY = ((raw) => (raw ? new Set(raw.split(',').map((x) => x.trim())) : null))(
  currentEnvironment().BENCH_TRACE_ONLY,
);
const wanted = (part: string): boolean => ONLY === null || ONLY.has(part);
const EXPANSIONS = WCBS * EXPANSIONS_PER_WCB;
const HARVESTS = EXPANSIONS * HARVESTS_PER_EXPANSION;
const POOLS = HARVESTS;
const FINISHED_LOTS = POOLS * FINISHED_PER_POOL;
const VIALS = FINISHED_LOTS * VIALS_PER_LOT;
/** Issue: 10⁵ doses on 10⁶ vials. Two doses per patient, patients spread over the clinics. */
const DOSES = Math.floor(VIALS / 10);
const PATIENTS = Math.ceil(DOSES / 2);
const CLINICS = 4;
/** donor, medium, cryoprotectant, MCB, WCBs, expansions, harvests, pools, finished lots. */
const LOTS = 4 + WCBS + EXPANSIONS + HARVESTS + POOLS + FINISHED_LOTS;
const MCB_CODE = 'MCB-0001';
/** Lots and edges a backward trace from any vial returns (finished, pool, 2 harvests, expansion, WCB, MCB,
 * donor, medium, cryoprotectant), and the descendants of the MCB. */
const BACKWARD_LOTS = 10;
const BACKWARD_EDGES = 10;
const MCB_DESCENDANT_LOTS = 1 + WCBS + EXPANSIONS + HARVESTS + POOLS + FINISHED_LOTS;
/** Edges between those (the raw materials are not descendants): one per WCB, expansion and harvest, two per
 * pool, one per finished lot. */
const MCB_DESCENDANT_EDGES = WCBS + EXPANSIONS + HARVESTS + 2 * POOLS + FINISHED_LOTS;

// ── the targets (issue text, on the 2-core machine) ──
const TARGET_BACKWARD_P95_MS = 5;
const TARGET_FORWARD_P95_MS = 20;
const TARGET_STREAM_S = 5;

// ── load ──
const CONCURRENCY = 8;
/**
 * The load kit sends one fixed request per virtual client; to trace many different vials and lots, each
 * scenario runs in ROUNDS rounds of ROUND_MS, each round with a fresh random sample of CONCURRENCY refs.
 * Only the first round has a warm-up: the first request for a new ref is part of "a random vial".
 */
const ROUNDS = 5;
const ROUND_MS = 1_000;
const WARMUP_MS = 1_000;
const RAW_DURATION_MS = 3_000;
const SAMPLE_SIZE = ROUNDS * CONCURRENCY * 4;
/**
 * Each stream is taken twice (the figure is the slower one: nothing hidden), after one warm-up run of each, as
 * every other scenario has its warm-up: the first stream of a fresh API process also pays for compiling the line
 * writer and growing the heap to its working size. The warm-up is timed and reported too (the "cold" figures).
 * Each run must end within STREAM_TIMEOUT_MS.
 */
const STREAM_RUNS = 2;
const STREAM_TIMEOUT_MS = 120_000;

/** The repository's own queries: the raw baseline measures exactly what the API runs. */
const SQL = TRACE_SQL;

// ── data generation ──

/** Session-local helpers (pg_temp: gone with the connection, nothing left in the schema). */
const HELPERS = [
  // A random-looking but reproducible v4-shaped uuid per key, so that the levels can be wired by formula.
  `CREATE FUNCTION pg_temp.bench_uuid(k text) RETURNS uuid IMMUTABLE LANGUAGE sql AS
     $$ SELECT overlay(overlay(md5('lyotrace-bench:' || k) placing '4' from 13) placing '8' from 17)::uuid $$`,
  // 10 characters of the service's serial alphabet from an md5: base64 (64 symbols) folded onto 32.
  `CREATE FUNCTION pg_temp.bench_serial(k text) RETURNS text IMMUTABLE LANGUAGE sql AS
     $$ SELECT translate(left(encode(decode(md5('lyotrace-serial:' || k), 'hex'), 'base64'), 10),
          'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
          '23456789ABCDEFGHJKLMNPQRSTUVWXYZ23456789ABCDEFGHJKLMNPQRSTUVWXYZ') $$`,
];

/** Lots are recorded from here on, level after level (all in the past, expiries in the future). */
const EPOCH = '2026-01-05T08:00:00Z';

interface Level {
  key: string;
  kind: string;
  /** Transformations of this level; each makes `outputsEach` lots, lot i of transformation t = t·K + o. */
  transformations: number;
  outputsEach: number;
  /** SQL of the lot code, in terms of the lot index `i` (0-based). */
  code: string;
  quantity: string;
  remaining: string;
  unit: string;
  attributes: string;
  /** Days after EPOCH of the first transformation, and minutes between two. */
  startDay: number;
  everyMinutes: number;
  /** Per input: the key of the consumed lot in terms of the transformation index `t`, and how much. */
  inputs: { lot: string; quantity: string; unit: string }[];
  finished?: boolean;
}

const pad = (expr: string, width: number): string => `lpad((${expr} + 1)::text, ${width}, '0')`;

const LEVELS: Level[] = [
  {
    key: 'mcb',
    kind: 'master_cell_bank',
    transformations: 1,
    outputsEach: 1,
    code: `'${MCB_CODE}'`,
    quantity: '20',
    remaining: String(20 - WCBS),
    unit: 'vials',
    attributes: `'{"passage": 2}'`,
    startDay: 7,
    everyMinutes: 0,
    inputs: [{ lot: `'donor:0'`, quantity: '1', unit: 'each' }],
  },
  {
    key: 'wcb',
    kind: 'working_cell_bank',
    transformations: WCBS,
    outputsEach: 1,
    code: `'WCB-' || ${pad('i', 2)}`,
    quantity: '50',
    remaining: String(50 - EXPANSIONS_PER_WCB),
    unit: 'vials',
    attributes: `'{"passage": 3}'`,
    startDay: 14,
    everyMinutes: 24 * 60,
    inputs: [{ lot: `'mcb:0'`, quantity: '1', unit: 'vials' }],
  },
  {
    key: 'exp',
    kind: 'expansion_batch',
    transformations: EXPANSIONS,
    outputsEach: 1,
    code: `'EXP-' || ${pad('i', 3)}`,
    quantity: String(4 * HARVESTS_PER_EXPANSION),
    remaining: '0',
    unit: 'flasks',
    attributes: `jsonb_build_object('passage', 4, 'cellCount', 1.2e9 + i * 1e6)`,
    startDay: 30,
    everyMinutes: 6 * 60,
    inputs: [
      { lot: `'wcb:' || (t / ${EXPANSIONS_PER_WCB})`, quantity: '1', unit: 'vials' },
      { lot: `'medium:0'`, quantity: '20', unit: 'L' },
    ],
  },
  {
    key: 'hrv',
    kind: 'harvest',
    transformations: HARVESTS,
    outputsEach: 1,
    code: `'HRV-' || ${pad('i', 4)}`,
    quantity: '5',
    remaining: '0',
    unit: 'L',
    attributes: `jsonb_build_object('day', 5 + i % 3)`,
    startDay: 60,
    everyMinutes: 30,
    inputs: [{ lot: `'exp:' || (t / ${HARVESTS_PER_EXPANSION})`, quantity: '4', unit: 'flasks' }],
  },
  {
    key: 'pool',
    kind: 'secretome_bulk',
    transformations: POOLS,
    outputsEach: 1,
    code: `'POOL-' || ${pad('i', 4)}`,
    quantity: '5',
    remaining: '0',
    unit: 'L',
    attributes: `'{"ultrafiltration": "10 kDa"}'`,
    startDay: 90,
    everyMinutes: 30,
    inputs: [
      { lot: `'hrv:' || t`, quantity: '2.5', unit: 'L' },
      {
        lot: `'hrv:' || ((t / ${HARVESTS_PER_EXPANSION}) * ${HARVESTS_PER_EXPANSION} + (t + 1) % ${HARVESTS_PER_EXPANSION})`,
        quantity: '2.5',
        unit: 'L',
      },
    ],
  },
  {
    key: 'lyo',
    kind: 'finished_lot',
    transformations: POOLS,
    outputsEach: FINISHED_PER_POOL,
    code: `'LYO-' || ${pad('i', 5)}`,
    quantity: String(VIALS_PER_LOT),
    remaining: '0',
    unit: 'vials',
    attributes: `'{"cycle": "LYO-C7"}'`,
    startDay: 120,
    everyMinutes: 6 * 60,
    inputs: [
      { lot: `'pool:' || t`, quantity: '5', unit: 'L' },
      { lot: `'cryo:0'`, quantity: '0.5', unit: 'L' },
    ],
    finished: true,
  },
];

/** SQL literals of the fixed values every statement uses (quoted by pg: no parameters to type). */
interface Ctx {
  site: string;
  user: string;
  product: string;
  gtin: string;
}

const lotId = (key: string): string => `pg_temp.bench_uuid('lot:' || ${key})`;
const tfId = (level: Level): string => `pg_temp.bench_uuid('t:${level.key}:' || t)`;
const at = (level: Level, index: string): string =>
  `(timestamptz '${EPOCH}' + interval '${level.startDay} days' + ${index} * interval '${level.everyMinutes} minutes')`;

/** The statements of one level: its lots, transformations, inputs, outputs and edges (inputs × outputs). */
function levelStatements(level: Level, ctx: Ctx): string[] {
  const k = level.outputsEach;
  const series = (name: string, n: number): string => `generate_series(0, ${n - 1}) ${name}`;
  const outputs = `${series('t', level.transformations)} CROSS JOIN ${series('o', k)}`;
  const outLot = lotId(`'${level.key}:' || (t * ${k} + o)`);
  return [
    `INSERT INTO lot (id, code, kind, status, product_id, site_id, quantity, remaining_quantity, unit, expiry,
       attributes, external_ids, recorded_by, recorded_at, version)
     SELECT ${lotId(`'${level.key}:' || i`)}, ${level.code}, '${level.kind}',
       '${level.finished ? 'pending_release' : 'active'}', ${level.finished ? ctx.product : 'NULL'}, ${ctx.site}, ${level.quantity},
       ${level.remaining}, '${level.unit}', ${level.finished ? `(${at(level, `(i / ${k})`)})::date + 730` : 'NULL'},
       ${level.attributes}, '{}', ${ctx.user}, ${at(level, `(i / ${k})`)}, 1
     FROM ${series('i', level.transformations * k)}`,
    `INSERT INTO transformation (id, site_id, occurred_at, operator_id, recorded_at, note)
     SELECT ${tfId(level)}, ${ctx.site}, ${at(level, 't')} - interval '2 hours', ${ctx.user}, ${at(level, 't')}, NULL
     FROM ${series('t', level.transformations)}`,
    ...level.inputs.map(
      (input) => `INSERT INTO transformation_input (transformation_id, lot_id, quantity, unit)
       SELECT ${tfId(level)}, ${lotId(input.lot)}, ${input.quantity}, '${input.unit}'
       FROM ${series('t', level.transformations)}`,
    ),
    `INSERT INTO transformation_output (transformation_id, lot_id, quantity, unit)
     SELECT ${tfId(level)}, ${outLot}, ${level.quantity}, '${level.unit}' FROM ${outputs}`,
    ...level.inputs.map(
      (input) => `INSERT INTO lot_edge (parent_lot_id, child_lot_id, transformation_id, valid)
       SELECT ${lotId(input.lot)}, ${outLot}, ${tfId(level)}, true FROM ${outputs}`,
    ),
  ];
}

/** The three root lots (registered from outside), with what the levels above consume of them. */
const roots = (
  ctx: Ctx,
): string => `INSERT INTO lot (id, code, kind, status, product_id, site_id, quantity, remaining_quantity, unit,
    expiry, attributes, external_ids, recorded_by, recorded_at, version)
  VALUES
   (${lotId(`'donor:0'`)}, 'DON-0001', 'donor', 'active', NULL, ${ctx.site}, 1, 0, 'each', NULL, '{}',
    '{"isbt128Din": "A9999 26 000001"}', ${ctx.user}, '${EPOCH}', 1),
   (${lotId(`'medium:0'`)}, 'RM-MEDIUM-01', 'raw_material', 'active', NULL, ${ctx.site}, ${EXPANSIONS * 20 + 1000},
    1000, 'L', NULL, '{}', '{"supplierLot": "M-2025-118"}', ${ctx.user}, '${EPOCH}', 1),
   (${lotId(`'cryo:0'`)}, 'RM-CRYO-01', 'raw_material', 'active', NULL, ${ctx.site}, ${POOLS * 0.5 + 100},
    100, 'L', NULL, '{}', '{"supplierLot": "C-2025-007"}', ${ctx.user}, '${EPOCH}', 1)`;

/** Every finished lot's vials, commissioned together (so physically clustered by lot, as in production). */
const vialsSql = (ctx: Ctx): string => `INSERT INTO vial (lot_id, gtin, serial, expiry, state, holder_site_id,
    commissioned_at, recall_id, version)
  SELECT l.id, ${ctx.gtin}, pg_temp.bench_serial(l.code || ':' || s), l.expiry, 'in_stock', ${ctx.site},
         l.recorded_at + interval '1 hour', NULL, 1
  FROM lot l CROSS JOIN generate_series(1, ${VIALS_PER_LOT}) s
  WHERE l.kind = 'finished_lot'
  ORDER BY l.recorded_at, s`;

const GENEALOGY_TABLES = [
  'product',
  'lot',
  'transformation',
  'transformation_input',
  'transformation_output',
  'lot_edge',
  'vial',
  'patient',
  'dose',
  'electronic_signature',
];

/**
 * The doses, as the dose service records them (patient, signature, dose; the vial dispensed and held by the
 * clinic), set-based: one vial in ten (by id order, so spread over every lot), two doses per patient. Audit
 * events, custody intervals and EPCIS events are left out: no trace reads them.
 */
const dosesSql = (clinics: { site: string; user: string; username: string }[]): string[] => {
  const site = `(ARRAY[${clinics.map((c) => c.site).join(', ')}]::uuid[])[1 + (i / 2) % ${clinics.length}]`;
  const user = `(ARRAY[${clinics.map((c) => c.user).join(', ')}]::uuid[])[1 + (i / 2) % ${clinics.length}]`;
  const username = `(ARRAY[${clinics.map((c) => c.username).join(', ')}]::text[])[1 + (i / 2) % ${clinics.length}]`;
  return [
    `CREATE TEMP TABLE bench_dosed AS
       SELECT v.id AS vial_id, v.commissioned_at + interval '30 days' AS at, (row_number() OVER (ORDER BY v.id) - 1)::int AS i
         FROM vial v ORDER BY v.id LIMIT ${DOSES}`,
    `INSERT INTO patient (id, site_id, ref, created_at)
     SELECT DISTINCT ON (i / 2) pg_temp.bench_uuid('patient:' || (i / 2)), ${site}, 'P-' || lpad((i / 2)::text, 7, '0'), at
       FROM bench_dosed ORDER BY i / 2, i`,
    `INSERT INTO electronic_signature (id, user_id, username, printed_name, meaning, reason, signed_at, entity_type,
       entity_id, entity_version, content_hash)
     SELECT pg_temp.bench_uuid('sig:' || i), ${user}, ${username}, 'Bench nurse', 'responsibility',
            'dose administered as recorded', at, 'dose', pg_temp.bench_uuid('dose:' || i)::text, 1,
            md5('dose:' || i) || md5('sig:' || i)
       FROM bench_dosed`,
    `INSERT INTO dose (id, vial_id, patient_id, site_id, administered_at, volume_ml, route, recorded_by, recorded_at,
       signature_id, version)
     SELECT pg_temp.bench_uuid('dose:' || i), vial_id, pg_temp.bench_uuid('patient:' || (i / 2)), ${site}, at, 2.5,
            'intravenous', ${user}, at + interval '2 minutes', pg_temp.bench_uuid('sig:' || i), 1
       FROM bench_dosed`,
    `UPDATE vial v SET state = 'dispensed', holder_site_id = ${site}, version = v.version + 1
       FROM bench_dosed d WHERE v.id = d.vial_id`,
  ];
};

/** A valid GTIN-14 in GS1's example range 952. */
const GTIN = ((data: string) => `${data}${gs1CheckDigit(data)}`)('0952001700420');

interface Generated {
  loadMs: number;
  vacuumMs: number;
  steps: { step: string; ms: number; rows: number }[];
  counts: {
    lots: number;
    transformations: number;
    edges: number;
    vials: number;
    doses: number;
    patients: number;
  };
  mcbId: string;
  /** Taken over from a previous run (BENCH_KEEP_DB=1): no generation figures. */
  reused: boolean;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, performance.now() - started];
}

/** A clinic of the bench: its site and the nurse who records its doses. */
interface BenchClinic {
  siteId: string;
  userId: string;
  username: string;
}

async function generate(
  db: pg.Client,
  siteId: string,
  userId: string,
  clinics: BenchClinic[],
): Promise<Generated> {
  const steps: Generated['steps'] = [];
  const run = async (step: string, sql: string): Promise<void> => {
    const [res, ms] = await timed(() => db.query(sql));
    const last = steps[steps.length - 1];
    if (last?.step === step) {
      last.ms += ms;
      last.rows += res.rowCount ?? 0;
    } else steps.push({ step, ms, rows: res.rowCount ?? 0 });
  };

  const [, loadMs] = await timed(async () => {
    for (const sql of HELPERS) await db.query(sql);
    await db.query('BEGIN');
    const product = await db.query<{ id: string }>(
      `INSERT INTO product (gtin, name, shelf_life_days, single_use, version) VALUES ($1, $2, 730, true, 1) RETURNING id`,
      [GTIN, 'Lyosecretome 10 mg (bench)'],
    );
    const ctx: Ctx = {
      site: `${db.escapeLiteral(siteId)}::uuid`,
      user: `${db.escapeLiteral(userId)}::uuid`,
      product: `${db.escapeLiteral(product.rows[0]!.id)}::uuid`,
      gtin: db.escapeLiteral(GTIN),
    };
    await run('root lots', roots(ctx));
    for (const level of LEVELS) {
      for (const sql of levelStatements(level, ctx)) await run(level.key, sql);
    }
    await run('vials', vialsSql(ctx));
    const literals = clinics.map((c) => ({
      site: `${db.escapeLiteral(c.siteId)}::uuid`,
      user: `${db.escapeLiteral(c.userId)}::uuid`,
      username: db.escapeLiteral(c.username),
    }));
    for (const sql of dosesSql(literals)) await run('doses', sql);
    await db.query('COMMIT');
  });
  // VACUUM as well as ANALYZE: fresh statistics, and the visibility map and hint bits set now rather than by
  // autovacuum (or the first readers) in the middle of a measurement.
  const [, vacuumMs] = await timed(async () => {
    for (const table of GENEALOGY_TABLES) await db.query(`VACUUM (ANALYZE) ${table}`);
    // Likewise the load's half a gigabyte of dirty pages: written now, not by the checkpointer during the
    // measurements (it needs superuser or pg_checkpoint; without it, the run goes on as before).
    await db.query('CHECKPOINT').catch((error: Error) => progress(`trace: no CHECKPOINT (${error.message})`));
  });

  const generated = await graphCounts(db);
  if (
    generated.lots !== LOTS ||
    generated.vials !== VIALS ||
    generated.doses !== DOSES ||
    generated.patients !== PATIENTS
  ) {
    throw new Error(
      `generated ${JSON.stringify(generated)}, expected ${LOTS} lots, ${VIALS} vials, ${DOSES} doses, ${PATIENTS} patients`,
    );
  }
  const mcb = await db.query<{ id: string }>(`SELECT id FROM lot WHERE code = $1`, [MCB_CODE]);
  return { loadMs, vacuumMs, steps, counts: generated, mcbId: mcb.rows[0]!.id, reused: false };
}

/** Counts of the generated tables (what generate() checks, and what a kept graph must match). */
async function graphCounts(db: pg.Client): Promise<Generated['counts']> {
  const counts = await db.query<Record<keyof Generated['counts'], string>>(
    `SELECT (SELECT count(*) FROM lot) AS lots, (SELECT count(*) FROM transformation) AS transformations,
            (SELECT count(*) FROM lot_edge) AS edges, (SELECT count(*) FROM vial) AS vials,
            (SELECT count(*) FROM dose) AS doses, (SELECT count(*) FROM patient) AS patients`,
  );
  const c = counts.rows[0]!;
  return {
    lots: Number(c.lots),
    transformations: Number(c.transformations),
    edges: Number(c.edges),
    vials: Number(c.vials),
    doses: Number(c.doses),
    patients: Number(c.patients),
  };
}

/**
 * The graph a previous run left in a kept database (scripts/bench.sh with BENCH_KEEP_DB=1), if it is complete
 * and of this run's size; null otherwise (then the database must be empty, or generation fails on its keys).
 */
async function keptGraph(db: pg.Client): Promise<Generated | null> {
  const counts = await graphCounts(db);
  if (
    counts.lots !== LOTS ||
    counts.vials !== VIALS ||
    counts.doses !== DOSES ||
    counts.patients !== PATIENTS
  )
    return null;
  const mcb = await db.query<{ id: string }>(`SELECT id FROM lot WHERE code = $1`, [MCB_CODE]);
  if (!mcb.rows[0]) return null;
  return { loadMs: 0, vacuumMs: 0, steps: [], counts, mcbId: mcb.rows[0].id, reused: true };
}

// ── samples ──

interface VialRef {
  id: string;
  lotId: string;
  elementString: string;
}
interface LotRef {
  id: string;
  code: string;
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

interface DoseRef {
  id: string;
  lotId: string;
}

/** Enough rows sampled for SAMPLE_SIZE vials at any size (0.05 % of the full 10⁶). */
const VIAL_SAMPLE_PCT = Math.min(100, Math.max(0.05, (SAMPLE_SIZE * 300) / VIALS));

async function sample(db: pg.Client): Promise<{ vials: VialRef[]; lots: LotRef[]; doses: DoseRef[] }> {
  const vials = await db.query<{
    id: string;
    lot_id: string;
    gtin: string;
    serial: string;
    expiry: string;
    code: string;
  }>(
    `SELECT v.id, v.lot_id, v.gtin, v.serial, v.expiry, l.code
       FROM vial v TABLESAMPLE BERNOULLI (${VIAL_SAMPLE_PCT}) JOIN lot l ON l.id = v.lot_id LIMIT ${SAMPLE_SIZE}`,
  );
  const lots = await db.query<LotRef>(
    `SELECT id, code FROM lot WHERE kind = 'finished_lot' ORDER BY random() LIMIT ${SAMPLE_SIZE}`,
  );
  const doses = await db.query<{ id: string; lot_id: string }>(
    `SELECT d.id, v.lot_id FROM dose d JOIN vial v ON v.id = d.vial_id ORDER BY random() LIMIT ${SAMPLE_SIZE}`,
  );
  if (
    vials.rows.length < ROUNDS * CONCURRENCY ||
    lots.rows.length < SAMPLE_SIZE ||
    doses.rows.length < ROUNDS * CONCURRENCY
  )
    throw new Error(
      `sampling found only ${vials.rows.length} vials, ${lots.rows.length} lots and ${doses.rows.length} doses`,
    );
  return {
    doses: doses.rows.map((d) => ({ id: d.id, lotId: d.lot_id })),
    vials: shuffle(
      vials.rows.map((v) => ({
        id: v.id,
        lotId: v.lot_id,
        // What a scanner sends for the vial's GS1 DataMatrix: ]d2, (01)(17) fixed first, (10) ended by GS, (21).
        elementString: formatElementString(
          { gtin: v.gtin, lot: v.code, serial: v.serial, expiry: v.expiry },
          { symbology: ']d2' },
        ),
      })),
    ),
    lots: lots.rows,
  };
}

// ── measurement ──

const backwardPath = (ref: string): string => `/api/trace/backward?ref=${encodeURIComponent(ref)}`;
const forwardPath = (ref: string): string => `/api/trace/forward?ref=${encodeURIComponent(ref)}`;

interface Scenario extends Measurement {
  /** Its raw SQL twin, when it has one. */
  raw: Measurement | undefined;
  target: number | undefined;
}

/** Closed-loop rounds through the API, each round with its own `concurrency` refs; one merged summary. */
async function measureRounds(
  label: string,
  baseUrl: string,
  paths: string[],
  auth: Record<string, string>,
  concurrency: number,
): Promise<Measurement> {
  progress(
    `trace: ${label} (${concurrency} client(s), ${WARMUP_MS / 1000} s warm-up + ${ROUNDS} × ${ROUND_MS / 1000} s, fresh refs each round)…`,
  );
  const cpu = cpuSnapshot();
  const results: LoadResult[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const requests = paths
      .slice(round * concurrency, (round + 1) * concurrency)
      .map((path) => ({ method: 'GET' as const, path, headers: auth }));
    const result = await runLoad({
      baseUrl,
      requests,
      concurrency,
      warmupMs: round === 0 ? WARMUP_MS : 0,
      durationMs: ROUND_MS,
    });
    assertClean(`${label} round ${round + 1}`, result);
    results.push(result);
  }
  const share = cpuSince(cpu);
  const merged: LoadResult = {
    latenciesMs: Float64Array.from(results.flatMap((r) => Array.from(r.latenciesMs))),
    measuredMs: results.reduce((sum, r) => sum + r.measuredMs, 0),
    okRequests: results.reduce((sum, r) => sum + r.okRequests, 0),
    errors: 0,
    statusCounts: {},
    firstError: null,
    capped: false,
  };
  warnIfShared(label, share.foreignPct);
  return { label, concurrency, ...summarize(merged), ...share };
}

/** The raw twin: `concurrency` loops on a pg pool, each running `work` for the next ref, closed loop. */
async function measureRaw(
  label: string,
  pool: pg.Pool,
  refs: number,
  concurrency: number,
  work: (pool: pg.Pool, index: number) => Promise<void>,
): Promise<Measurement> {
  progress(`trace: ${label} (${concurrency} loop(s) on a pg pool, ${RAW_DURATION_MS / 1000} s)…`);
  for (let i = 0; i < CONCURRENCY; i += 1) await work(pool, i % refs); // warm: connections and caches
  const cpu = cpuSnapshot();
  const latencies: number[] = [];
  const stopAt = performance.now() + RAW_DURATION_MS;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < stopAt) {
        const index = next++ % refs;
        const sentAt = performance.now();
        await work(pool, index);
        const doneAt = performance.now();
        if (doneAt <= stopAt) latencies.push(doneAt - sentAt);
      }
    }),
  );
  const share = cpuSince(cpu);
  warnIfShared(label, share.foreignPct);
  const result: LoadResult = {
    latenciesMs: Float64Array.from(latencies),
    measuredMs: RAW_DURATION_MS,
    okRequests: latencies.length,
    errors: 0,
    statusCounts: {},
    firstError: null,
    capped: false,
  };
  return { label, concurrency, ...summarize(result), ...share };
}

interface Anatomy {
  query: string;
  planMs: number;
  execMs: number;
  rows: number;
  seqScans: string[];
}

interface PlanNode {
  'Node Type'?: string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

/**
 * Where a query's time goes, from EXPLAIN (ANALYZE, TIMING OFF): planning and execution (median of `runs`),
 * rows, and the tables it reads whole (Seq Scan). Parameters bound as the API binds them.
 */
async function anatomy(
  db: pg.Client,
  query: string,
  sql: string,
  params: unknown[],
  runs: number,
): Promise<Anatomy> {
  const plans: number[] = [];
  const execs: number[] = [];
  let root: PlanNode = {};
  for (let i = 0; i < runs; i += 1) {
    const res = await db.query<{
      'QUERY PLAN': { Plan: PlanNode; 'Planning Time': number; 'Execution Time': number }[];
    }>(`EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON, FORMAT JSON) ${sql}`, params);
    const doc = res.rows[0]!['QUERY PLAN'][0]!;
    plans.push(doc['Planning Time']);
    execs.push(doc['Execution Time']);
    root = doc.Plan;
  }
  const seqScans = new Set<string>();
  const walk = (node: PlanNode): void => {
    if (node['Node Type'] === 'Seq Scan' && node['Relation Name']) seqScans.add(node['Relation Name']);
    node.Plans?.forEach(walk);
  };
  walk(root);
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    query,
    planMs: median(plans),
    execMs: median(execs),
    rows: root['Actual Rows'] ?? 0,
    seqScans: [...seqScans],
  };
}

function warnIfShared(label: string, foreignPct: number): void {
  if (foreignPct > FOREIGN_CPU_LIMIT_PCT)
    progress(`WARNING: ${label}: other processes took ${foreignPct.toFixed(0)}% of the machine meanwhile`);
}

/**
 * The NDJSON client, on its own thread (the API runs on this one): counts bytes and lines, tells vial lines
 * by their first bytes (no JSON parsing of 10⁶ lines), and keeps the first line, the trace header.
 */
const STREAM_CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const { url, headers, timeoutMs } = workerData;
const VIAL = /^\\{\\s*"type"\\s*:\\s*"vial"/;
const PREFIX = 32;
const started = performance.now();
let done = false;
const finish = (message) => { if (!done) { done = true; parentPort.postMessage(message); } };
const req = http.get(url, { headers: { ...headers, connection: 'close' }, agent: false }, (res) => {
  if (res.statusCode !== 200) {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c) => { if (text.length < 500) text += c; });
    res.on('end', () => finish({ error: 'HTTP ' + res.statusCode + ': ' + text.slice(0, 500) }));
    return;
  }
  let firstByteMs = null, bytes = 0, lines = 0, vials = 0, lastByte = -1;
  let prefix = '';
  const head = [];
  res.on('data', (chunk) => {
    if (firstByteMs === null) firstByteMs = performance.now() - started;
    bytes += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      const nl = chunk.indexOf(10, at);
      const end = nl === -1 ? chunk.length : nl;
      if (lines === 0) head.push(chunk.subarray(at, end));
      if (prefix.length < PREFIX) prefix += chunk.toString('latin1', at, Math.min(end, at + PREFIX - prefix.length));
      if (nl === -1) break;
      lines += 1;
      if (VIAL.test(prefix)) vials += 1;
      prefix = '';
      at = nl + 1;
    }
    lastByte = chunk[chunk.length - 1];
  });
  res.on('end', () => finish({
    ms: performance.now() - started, firstByteMs, bytes, lines, vials,
    head: Buffer.concat(head).toString('utf8'), endsWithNewline: lastByte === 10,
    contentType: res.headers['content-type'] || '',
  }));
  res.on('error', (e) => finish({ error: 'response: ' + e.message }));
  res.on('aborted', () => finish({ error: 'response aborted' }));
});
req.setTimeout(timeoutMs, () => req.destroy(new Error('no progress within ' + timeoutMs + ' ms')));
req.on('error', (e) => finish({ error: 'request: ' + e.message }));
`;

interface StreamClientResult {
  error?: string;
  ms: number;
  firstByteMs: number;
  bytes: number;
  lines: number;
  vials: number;
  head: string;
  endsWithNewline: boolean;
  contentType: string;
}

interface StreamRun {
  seconds: number;
  firstByteMs: number;
  bytes: number;
  vials: number;
  peakRssMb: number;
  /** Who used the CPUs meanwhile: a slow run with foreign load says so. */
  cpu: CpuShare;
}

function streamThroughApi(url: string, token: string): Promise<StreamClientResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(STREAM_CLIENT, {
      eval: true,
      workerData: { url, headers: { authorization: `Bearer ${token}` }, timeoutMs: STREAM_TIMEOUT_MS },
    });
    let result: StreamClientResult | undefined;
    let failure: Error | undefined;
    const guard = setTimeout(() => {
      failure = new Error(`the NDJSON client did not finish within ${STREAM_TIMEOUT_MS} ms: terminated`);
      void worker.terminate();
    }, STREAM_TIMEOUT_MS + 5_000);
    worker.once('message', (message: StreamClientResult) => (result = message));
    worker.once('error', (error) => (failure ??= error));
    worker.once('exit', () => {
      clearTimeout(guard);
      if (failure) reject(failure);
      else if (!result) reject(new Error('the NDJSON client exited without a result'));
      else if (result.error) reject(new Error(`NDJSON stream: ${result.error}`));
      else resolve(result);
    });
  });
}

async function measureApiStream(api: BenchApi, token: string, run: number): Promise<StreamRun> {
  progress(
    `trace: forward_mcb_stream through the API, ${run === 0 ? 'warm-up run' : `run ${run}`} (10⁶ vials as NDJSON)…`,
  );
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
  const cpu = cpuSnapshot();
  let r: StreamClientResult;
  try {
    r = await streamThroughApi(`${api.baseUrl}${forwardPath(MCB_CODE)}&format=ndjson`, token);
  } finally {
    clearInterval(sampler);
  }
  const share = cpuSince(cpu);
  warnIfShared(`forward_mcb_stream run ${run}`, share.foreignPct);
  const head = JSON.parse(r.head) as { type?: string; vialTotal?: number };
  const expectedLines = 1 + MCB_DESCENDANT_LOTS + MCB_DESCENDANT_EDGES + VIALS;
  if (
    head.type !== 'trace' ||
    head.vialTotal !== VIALS ||
    r.vials !== VIALS ||
    !r.endsWithNewline ||
    r.lines !== expectedLines ||
    !r.contentType.startsWith('application/x-ndjson')
  ) {
    throw new Error(
      `NDJSON stream of ${MCB_CODE}: header ${r.head.slice(0, 200)}, ${r.vials} vial lines of ${r.lines}, ` +
        `content-type ${r.contentType}, expected vialTotal = vial lines = ${VIALS}`,
    );
  }
  return {
    seconds: r.ms / 1000,
    firstByteMs: r.firstByteMs,
    bytes: r.bytes,
    vials: r.vials,
    peakRssMb: peakRss / 2 ** 20,
    cpu: share,
  };
}

/**
 * The raw twin of the stream: what the repository does for it, on a direct connection — one read-only
 * REPEATABLE READ snapshot, the graph statement, the site codes, then the same cursor (VialTupleStream, same
 * batch size, same prefetch). `ndjson`: also the same NDJSON lines (vialLineFormat), in-process; otherwise the
 * batches are only counted (PostgreSQL, the wire and the tuple parsing alone).
 */
async function measureRawStream(
  databaseUrl: string,
  mcbId: string,
  run: number,
  ndjson: boolean,
): Promise<{ seconds: number; rows: number; bytes: number; cpu: CpuShare }> {
  progress(
    `trace: forward_mcb_stream raw SQL${ndjson ? ' + NDJSON lines in-process' : ''}, ${run === 0 ? 'warm-up run' : `run ${run}`}…`,
  );
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: 'lyotrace-bench-raw',
    options: SESSION_OPTIONS,
  });
  await client.connect();
  try {
    const cpu = cpuSnapshot();
    const started = performance.now();
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const graph = await client.query<{ lots: { id: string; code: string }[] }>({
      name: 'bench_forward_graph',
      text: SQL.forwardGraph,
      values: [mcbId],
    });
    const sites = await client.query<{ id: string; code: string }>({
      name: 'bench_site_codes',
      text: SQL.siteCodes,
      values: [],
    });
    const lots = graph.rows[0]!.lots;
    let rows = 0;
    const lines = vialLineFormat(
      new Map(lots.map((l) => [l.id, l.code])),
      new Map(sites.rows.map((x) => [x.id, x.code])),
    );
    const stream = new VialTupleStream(
      client,
      lots.map((l) => l.id),
      (batch) => {
        rows += batch.length;
        return ndjson ? lines(batch) : 'x';
      },
      async () => {
        await client.query('COMMIT');
      },
    );
    // Consumed as the API consumes it (events, as pipe() does), not by async iteration.
    const bytes = await new Promise<number>((resolve, reject) => {
      let bytes = 0;
      stream.on('data', (chunk: string) => (bytes += chunk.length));
      stream.once('close', () => resolve(bytes));
      stream.once('error', reject);
    });
    const seconds = (performance.now() - started) / 1000;
    if (rows !== VIALS) throw new Error(`raw stream of ${MCB_CODE}: ${rows} rows, expected ${VIALS}`);
    return { seconds, rows, bytes: ndjson ? bytes : 0, cpu: cpuSince(cpu) };
  } finally {
    await client.end();
  }
}

// ── the benchmark ──

async function checkOnce(
  api: BenchApi,
  token: string,
  vial: VialRef,
  lot: LotRef,
  dose: DoseRef,
): Promise<void> {
  type Backward = {
    ref?: { type?: string; lotId?: string };
    vial?: { id?: string };
    doses?: { id?: string }[];
    lots?: unknown[];
    edges?: unknown[];
  };
  const fromDose = await api.request<Backward>('GET', backwardPath(dose.id), { token });
  const d = fromDose.body;
  if (
    fromDose.status !== 200 ||
    d.ref?.type !== 'dose' ||
    d.ref.lotId !== dose.lotId ||
    d.doses?.length !== 1 ||
    d.doses[0]?.id !== dose.id ||
    d.lots?.length !== BACKWARD_LOTS ||
    d.edges?.length !== BACKWARD_EDGES
  ) {
    throw new Error(
      `GET ${backwardPath(dose.id)}: ${fromDose.status} ${JSON.stringify(fromDose.body).slice(0, 500)} ` +
        `(expected the dose, ${BACKWARD_LOTS} lots and ${BACKWARD_EDGES} edges)`,
    );
  }
  for (const ref of [vial.id, vial.elementString]) {
    const res = await api.request<Backward>('GET', backwardPath(ref), { token });
    const b = res.body;
    if (
      res.status !== 200 ||
      b.ref?.type !== 'vial' ||
      b.vial?.id !== vial.id ||
      b.lots?.length !== BACKWARD_LOTS ||
      b.edges?.length !== BACKWARD_EDGES
    ) {
      throw new Error(
        `GET ${backwardPath(ref)}: ${res.status} ${JSON.stringify(res.body).slice(0, 500)} ` +
          `(expected the vial, ${BACKWARD_LOTS} lots and ${BACKWARD_EDGES} edges)`,
      );
    }
  }
  const res = await api.request<{ lots?: unknown[]; vials?: { total?: number; items?: unknown[] } }>(
    'GET',
    forwardPath(lot.code),
    { token },
  );
  if (
    res.status !== 200 ||
    res.body.lots?.length !== 1 ||
    res.body.vials?.total !== VIALS_PER_LOT ||
    res.body.vials.items?.length !== VIALS_PER_LOT
  ) {
    throw new Error(
      `GET ${forwardPath(lot.code)}: ${res.status} ${JSON.stringify(res.body).slice(0, 500)} (expected ${VIALS_PER_LOT} vials)`,
    );
  }
}

export async function run(): Promise<void> {
  const busyWarning = await idleCheck();
  const { databaseUrl } = benchServices();
  const api = await BenchApi.start();
  // The API's session settings here too: EXPLAIN must plan as the API does.
  const db = new pg.Client({
    connectionString: databaseUrl,
    application_name: 'lyotrace-bench-gen',
    options: SESSION_OPTIONS,
  });
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: api.config.DB_POOL_SIZE,
    // Never closed while idle: bench-kit counts the CPU of live PostgreSQL backends only.
    idleTimeoutMillis: 0,
    application_name: 'lyotrace-bench-raw',
    // The same session settings as the API's connections, so the baseline plans as the API does.
    options: SESSION_OPTIONS,
  });
  const scenarios: Scenario[] = [];
  const raws: Measurement[] = [];
  const anatomies: Anatomy[] = [];
  const apiStreams: StreamRun[] = [];
  const rawStreams: { seconds: number; cpu: CpuShare }[] = [];
  /** The warm-up runs (run 0): timed and reported, not part of the target. */
  let coldApi: StreamRun | undefined;
  let coldRaw: { seconds: number; cpu: CpuShare } | undefined;
  let rawNdjson: { seconds: number; bytes: number; cpu: CpuShare } | undefined;
  let generated: Generated;
  try {
    await db.connect();
    progress(`trace: a production site and user…`);
    const site = await makeSite(api.app, SiteKind.Production);
    const user = await makeUser(api.app, Role.Production, { siteId: site.id });
    const token = await api.login(user.username, FACTORY_PASSWORD);
    const auth = { authorization: `Bearer ${token}` };

    const kept = REUSE_GRAPH ? await keptGraph(db) : null;
    if (kept) {
      generated = kept;
      progress('trace: BENCH_KEEP_DB=1 and the graph of a previous run is complete: reusing it');
    } else {
      progress(`trace: ${CLINICS} clinics and their nurses…`);
      const clinics: BenchClinic[] = [];
      for (let i = 0; i < CLINICS; i += 1) {
        const clinic = await makeSite(api.app, SiteKind.Clinic);
        const nurse = await makeUser(api.app, Role.Clinic, { siteId: clinic.id });
        clinics.push({ siteId: clinic.id, userId: nurse.id, username: nurse.username });
      }
      progress(
        `trace: generating ${LOTS} lots, ${VIALS} vials and ${DOSES} doses with set-based SQL, then VACUUM (ANALYZE) + CHECKPOINT…`,
      );
      generated = await generate(db, site.id, user.id, clinics);
      progress(
        `trace: generated in ${(generated.loadMs / 1000).toFixed(1)} s + ${(generated.vacuumMs / 1000).toFixed(1)} s VACUUM (ANALYZE) + CHECKPOINT`,
      );
    }
    const { vials, lots, doses } = await sample(db);
    await checkOnce(api, token, vials[0]!, lots[0]!, doses[0]!);

    // The raw twins: the statements the repository runs for one trace (resolving the ref, then the trace), as
    // it runs them: named prepared statements on a pooled connection, one after the other.
    const prepared = (p: pg.Pool, name: keyof typeof SQL, values: unknown[]) =>
      p.query({ name: `bench_${name}`, text: SQL[name], values });
    const backwardSql = async (p: pg.Pool, i: number) => {
      const vial = vials[i]!;
      await prepared(p, 'idRef', [vial.id]);
      return prepared(p, 'backwardChain', [vial.lotId, vial.id]);
    };
    const forwardSql = async (p: pg.Pool, i: number) => {
      const lot = await prepared(p, 'lotByCode', [lots[i]!.code]);
      return prepared(p, 'forwardFirstPage', [(lot.rows[0] as { id: string }).id, 1001]);
    };
    // patient → dose → vial → lot → … → donor is one statement, after the one that says what the id is.
    const doseSql = async (p: pg.Pool, i: number) => {
      await prepared(p, 'idRef', [doses[i]!.id]);
      return prepared(p, 'doseChain', [doses[i]!.id]);
    };
    const doseIds = doses.map((d) => backwardPath(d.id));
    const vialIds = vials.map((v) => backwardPath(v.id));
    const vialScans = shuffle([...vials]).map((v) => backwardPath(v.elementString));
    const lotCodes = lots.map((l) => forwardPath(l.code));
    const plan: {
      label: string;
      paths: string[];
      concurrency: number;
      raw?: (p: pg.Pool, i: number) => Promise<unknown>;
      refs: number;
      target?: number;
    }[] = [
      {
        label: 'backward_dose',
        paths: doseIds,
        concurrency: CONCURRENCY,
        raw: doseSql,
        refs: doses.length,
      },
      {
        label: 'backward_dose_c1',
        paths: doseIds.slice(-ROUNDS),
        concurrency: 1,
        raw: doseSql,
        refs: doses.length,
        target: TARGET_BACKWARD_P95_MS,
      },
      {
        label: 'backward_vial',
        paths: vialIds,
        concurrency: CONCURRENCY,
        raw: backwardSql,
        refs: vials.length,
      },
      {
        label: 'backward_vial_c1',
        paths: vialIds.slice(-ROUNDS),
        concurrency: 1,
        raw: backwardSql,
        refs: vials.length,
        target: TARGET_BACKWARD_P95_MS,
      },
      { label: 'backward_vial_gs1', paths: vialScans, concurrency: CONCURRENCY, refs: vials.length },
      {
        label: 'forward_lot',
        paths: lotCodes,
        concurrency: CONCURRENCY,
        raw: forwardSql,
        refs: lots.length,
      },
      {
        label: 'forward_lot_c1',
        paths: lotCodes.slice(-ROUNDS),
        concurrency: 1,
        raw: forwardSql,
        refs: lots.length,
        target: TARGET_FORWARD_P95_MS,
      },
    ];
    for (const step of plan.filter((p) => wanted(p.label))) {
      let raw: Measurement | undefined;
      if (step.raw) {
        const work = step.raw;
        raw = await measureRaw(`${step.label}_raw`, pool, step.refs, step.concurrency, async (p, i) => {
          await work(p, i);
        });
        raws.push(raw);
      }
      const m = await measureRounds(step.label, api.baseUrl, step.paths, auth, step.concurrency);
      scenarios.push({ ...m, raw, target: step.target });
    }

    if (wanted('explain')) progress('trace: EXPLAIN (ANALYZE) of each query…');
    const lot = lots[0]!.id;
    const mcbLots = await db.query<{ ids: string[] }>(
      `WITH RECURSIVE ${'down(id) AS (SELECT $1::uuid UNION SELECT e.child_lot_id FROM lot_edge e JOIN down ON e.parent_lot_id = down.id WHERE e.valid)'}
       SELECT array_agg(id) AS ids FROM down`,
      [generated.mcbId],
    );
    for (const [query, sql, params, runs] of [
      ['id ref (dose)', SQL.idRef, [doses[0]!.id], 5],
      ['dose chain', SQL.doseChain, [doses[0]!.id], 5],
      ['backward chain', SQL.backwardChain, [vials[0]!.lotId, vials[0]!.id], 5],
      ['lot by code', SQL.lotByCode, [lots[0]!.code], 5],
      ['forward page', SQL.forwardFirstPage, [lot, 1001], 5],
      ['MCB graph', SQL.forwardGraph, [generated.mcbId], 1],
      ['MCB stream', SQL.streamVials, [mcbLots.rows[0]!.ids], 1],
    ] as const) {
      if (wanted('explain')) anatomies.push(await anatomy(db, query, sql, [...params], runs));
    }

    if (wanted('stream')) {
      coldRaw = await measureRawStream(databaseUrl, generated.mcbId, 0, false);
      coldApi = await measureApiStream(api, token, 0);
    }
    for (let i = 1; wanted('stream') && i <= STREAM_RUNS; i += 1) {
      rawStreams.push(await measureRawStream(databaseUrl, generated.mcbId, i, false));
      apiStreams.push(await measureApiStream(api, token, i));
    }
    if (wanted('stream')) rawNdjson = await measureRawStream(databaseUrl, generated.mcbId, 1, true);
  } finally {
    await Promise.allSettled([db.end(), pool.end()]);
    await api.close();
  }

  // ── figures ──
  const figures: Figures = {};
  const met: Record<string, boolean> = {};
  if (!generated.reused) {
    figures.gen_load_s = round(generated.loadMs / 1000, 1);
    figures.gen_vacuum_analyze_s = round(generated.vacuumMs / 1000, 1);
    figures.gen_total_s = round((generated.loadMs + generated.vacuumMs) / 1000, 1);
  }
  figures.gen_lots = generated.counts.lots;
  figures.gen_transformations = generated.counts.transformations;
  figures.gen_edges = generated.counts.edges;
  figures.gen_vials = generated.counts.vials;
  figures.gen_doses = generated.counts.doses;
  figures.gen_patients = generated.counts.patients;
  for (const s of [...scenarios, ...raws]) {
    figures[`${s.label}_rps`] = round(s.rps, 1);
    figures[`${s.label}_p50_ms`] = round(s.p50, 2);
    figures[`${s.label}_p95_ms`] = round(s.p95, 2);
    figures[`${s.label}_p99_ms`] = round(s.p99, 2);
  }
  for (const s of scenarios) {
    if (s.raw) {
      figures[`${s.label}_api_raw_ratio_p50`] = round(s.p50 / s.raw.p50, 3);
      figures[`${s.label}_api_raw_ratio_p95`] = round(s.p95 / s.raw.p95, 3);
    }
    if (s.target !== undefined) met[`${s.label}_p95_ms`] = s.p95 <= s.target;
  }
  for (const a of anatomies) {
    const key = a.query.toLowerCase().replace(/\W+/g, '_');
    figures[`sql_${key}_plan_ms`] = round(a.planMs, 2);
    figures[`sql_${key}_exec_ms`] = round(a.execMs, 2);
  }
  const slowest = apiStreams.reduce<StreamRun | null>((a, b) => (a && a.seconds >= b.seconds ? a : b), null);
  const slowestRaw = Math.max(...rawStreams.map((r) => r.seconds));
  if (slowest && rawNdjson) {
    figures.forward_mcb_stream_s = round(slowest.seconds, 2);
    figures.forward_mcb_stream_best_s = round(Math.min(...apiStreams.map((r) => r.seconds)), 2);
    figures.forward_mcb_stream_ttfb_ms = round(slowest.firstByteMs, 1);
    figures.forward_mcb_stream_vials = slowest.vials;
    figures.forward_mcb_stream_mb = round(slowest.bytes / 1e6, 1);
    figures.forward_mcb_stream_mb_per_s = round(slowest.bytes / 1e6 / slowest.seconds, 1);
    figures.forward_mcb_stream_vials_per_s = Math.round(slowest.vials / slowest.seconds);
    figures.forward_mcb_stream_peak_rss_mb = round(Math.max(...apiStreams.map((r) => r.peakRssMb)), 0);
    figures.forward_mcb_stream_foreign_cpu_pct = round(slowest.cpu.foreignPct, 1);
    figures.forward_mcb_stream_raw_s = round(slowestRaw, 2);
    figures.forward_mcb_stream_raw_ndjson_s = round(rawNdjson.seconds, 2);
    figures.forward_mcb_stream_api_raw_ratio = round(slowest.seconds / slowestRaw, 3);
    if (coldApi) figures.forward_mcb_stream_cold_s = round(coldApi.seconds, 2);
    if (coldRaw) figures.forward_mcb_stream_raw_cold_s = round(coldRaw.seconds, 2);
    met.forward_mcb_stream_s = slowest.seconds <= TARGET_STREAM_S;
  }
  const measured = [...scenarios, ...raws];
  const streamCpu = [...apiStreams, ...rawStreams, ...(rawNdjson ? [rawNdjson] : [])].map((r) => r.cpu);
  figures.foreign_cpu_max_pct = round(
    Math.max(0, ...measured.map((m) => m.foreignPct), ...streamCpu.map((c) => c.foreignPct)),
    1,
  );
  figures.busy_before_pct = round(busyWarning.busyPct, 1);

  const yes = (ok: boolean): string => (ok ? 'yes' : 'NO');
  const row = (s: Measurement, via: string, ratio: string | number, target?: number): Cell[] => [
    s.label,
    via,
    s.concurrency,
    s.requests,
    ...latencyCells(s),
    ratio,
    target !== undefined ? `≤ ${target}` : '',
    target !== undefined ? yes(s.p95 <= target) : '',
    cpuCell(s),
  ];
  const rows: Cell[][] = scenarios.flatMap((s) => [
    row(s, 'HTTP', s.raw ? round(s.p95 / s.raw.p95, 2) : '', s.target),
    ...(s.raw ? [row(s.raw, 'SQL', '')] : []),
  ]);
  const anatomyTable = formatTable(
    ['query (EXPLAIN ANALYZE)', 'plan ms', 'exec ms', 'rows', 'seq scans'],
    anatomies.map((a) => [
      a.query,
      round(a.planMs, 2),
      round(a.execMs, 2),
      a.rows,
      a.seqScans.join(', ') || '-',
    ]),
  );
  const streamTable = formatTable(
    ['forward_mcb_stream', 'run', 'seconds', 'first byte ms', 'MB', 'MB/s', 'vials/s', 'peak RSS MB', 'cpu'],
    [
      ...[...(coldApi ? [coldApi] : []), ...apiStreams].map((r, i) => [
        'HTTP NDJSON',
        coldApi ? (i === 0 ? 'warm-up' : i) : i + 1,
        round(r.seconds, 2),
        round(r.firstByteMs, 1),
        round(r.bytes / 1e6, 1),
        round(r.bytes / 1e6 / r.seconds, 1),
        Math.round(r.vials / r.seconds),
        round(r.peakRssMb, 0),
        cpuCell(r.cpu),
      ]),
      ...[...(coldRaw ? [coldRaw] : []), ...rawStreams].map((r, i) => [
        'raw SQL graph + cursor',
        coldRaw ? (i === 0 ? 'warm-up' : i) : i + 1,
        round(r.seconds, 2),
        '',
        '',
        '',
        Math.round(VIALS / r.seconds),
        '',
        cpuCell(r.cpu),
      ]),
      ...(rawNdjson
        ? [
            [
              'raw SQL + NDJSON lines',
              1,
              round(rawNdjson.seconds, 2),
              '',
              round(rawNdjson.bytes / 1e6, 1),
              '',
              Math.round(VIALS / rawNdjson.seconds),
              '',
              cpuCell(rawNdjson.cpu),
            ],
          ]
        : []),
    ],
  );
  const notes = [
    machineNote(),
    `data: ${generated.counts.lots} lots (1 donor → 1 MCB → ${WCBS} WCB → ${EXPANSIONS} expansions → ${HARVESTS} harvests → ${POOLS} pools → ${FINISHED_LOTS} finished lots), ` +
      `${generated.counts.transformations} transformations, ${generated.counts.edges} edges, ${generated.counts.vials} vials`,
    generated.reused
      ? 'generated by a previous run and kept (BENCH_KEEP_DB=1): no generation figures'
      : `generated with set-based SQL in ${figures.gen_load_s} s + ${figures.gen_vacuum_analyze_s} s VACUUM (ANALYZE) + CHECKPOINT` +
        ` (${generated.steps.map((s) => `${s.step} ${(s.ms / 1000).toFixed(1)} s`).join(', ')})`,
    `HTTP: closed loop, ${WARMUP_MS / 1000} s warm-up + ${ROUNDS} rounds × ${ROUND_MS / 1000} s, fresh random refs each round (one per client)`,
    `SQL: the repository's statements for the same trace (ref, then trace; prepared) on a pg pool as large as the API's, closed loop, ${RAW_DURATION_MS / 1000} s; x raw = HTTP p95 / SQL p95`,
    'stream twins: the same snapshot (graph, site codes, count) and cursor as the API on a direct connection; "cursor" counts the batches, "+ NDJSON" also writes the lines',
    `doses: ${generated.counts.doses} (one vial in ten) to ${generated.counts.patients} patients at ${CLINICS} clinics, each e-signed`,
    'backward_dose: ref = dose id (what the id is, then patient → dose → vial → lots → donor: two statements); backward_vial: ref = vial id; _gs1: ref = its ]d2 element string',
    'latencies in ms; cpu = % of the machine: this process (API + load + pg client) / PostgreSQL + Redis / anything else',
    'p95 targets: the time one trace takes (1 client, _c1); the 8-client rows are the machine under load (queueing), no target',
    ...(busyWarning.warning ? [`WARNING: ${busyWarning.warning}`] : []),
    ...contentionNotes(measured),
    ...(contentionNotes(measured).length > 0
      ? [
          '  (part of it can be PostgreSQL itself: bench-kit counts live backends only, and the API pool closes',
          '   connections idle for 30 s; real contention shows in busy-before and in the SQL rows too)',
        ]
      : []),
    '',
    ...anatomyTable.split('\n'),
    '',
    ...streamTable.split('\n'),
    ...(met.forward_mcb_stream_s === undefined
      ? []
      : [
          `target: all ${VIALS} vials received in ≤ ${TARGET_STREAM_S} s (slowest of ${STREAM_RUNS} runs after a warm-up run): ${yes(met.forward_mcb_stream_s)}`,
        ]),
  ];
  printResult('trace', figures, met, {
    headers: [
      'scenario',
      'via',
      'clients',
      'requests',
      'req/s',
      'p50',
      'p95',
      'p99',
      'max',
      'x raw',
      'p95 target',
      'met',
      'cpu',
    ],
    rows,
    notes,
  });
}

/**
 * Like bench-kit's emit, whose figures are numbers only: the last line is {"bench", "figures", "targets_met"},
 * the booleans beside the figures rather than among them.
 */
function printResult(
  name: string,
  figures: Figures,
  targetsMet: Record<string, boolean>,
  table: { headers: string[]; rows: Cell[][]; notes: string[] },
): void {
  const out = [`\n== bench ${name}`, ...table.notes.map((n) => `   ${n}`), ''];
  out.push(formatTable(table.headers, table.rows), '');
  out.push(JSON.stringify({ bench: name, figures, targets_met: targetsMet }));
  process.stdout.write(`${out.join('\n')}\n`);
}
