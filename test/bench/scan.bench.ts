import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { currentEnvironment } from '@lyotrace/config';
import { LocationKind, Role, SiteKind } from '@lyotrace/contracts';
import { formatElementString } from '@lyotrace/domain';
import type { ApiHarness } from '../support/api-harness.js';
import { FACTORY_PASSWORD, makeSite, makeUser, unique } from '../support/factories.js';
import { GenealogyFactory } from '../support/genealogy-factory.js';
import {
  BenchApi,
  contentionNotes,
  emit,
  idleCheck,
  type LoadRequest,
  machineNote,
  measure,
  type Measurement,
  progress,
  round,
  scenarioReport,
} from './bench-kit.js';

/**
 * Scans through the real HTTP API with authentication, the gate, the custody ledger, the audit trail and
 * EPCIS, against the same API's bare health endpoint measured in the same run:
 *   health  GET  /api/health                     no auth; pings PostgreSQL and Redis (the baseline)
 *   lookup  POST /api/scans {action: lookup}     parse + gate + a stored scan row (idempotency)
 *   move    POST /api/scans {action: move}       each client moves its own vial fridge A ↔ fridge B: every
 *                                                request closes a custody interval, opens the next, writes
 *                                                the audit event (hash chain) and the EPCIS event
 * Every request carries a fresh idempotency key (a new scan, never a replay). Closed loop, CLIENTS clients.
 * For profiling: BENCH_SCAN_SECONDS (measured seconds per scenario, default 10), BENCH_SCAN_CLIENTS (16) and
 * BENCH_SCAN_ONLY (a comma list of lookup, move: health, the baseline, always runs).
 */
const envInt = (name: string, fallback: number): number => {
  const raw = currentEnvironment()[name];
  const value = raw === undefined ? Number.NaN : Number(raw);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};
const WARMUP_MS = 2_000;
const DURATION_MS = envInt('BENCH_SCAN_SECONDS', 10) * 1_000;
const CLIENTS = envInt('BENCH_SCAN_CLIENTS', 16);
const ONLY = new Set((currentEnvironment().BENCH_SCAN_ONLY ?? 'lookup,move').split(',').map((s) => s.trim()));

interface Scenario {
  key: 'health' | 'lookup' | 'move';
  requests: LoadRequest[];
}

async function prepare(api: BenchApi): Promise<Scenario[]> {
  progress('scan: seeding a released lot, a depot with two fridges and a warehouse user…');
  // The genealogy factory drives the production API; BenchApi offers the same request/login/app surface.
  const f = await GenealogyFactory.create(api as unknown as ApiHarness);
  const chain = await f.chain(CLIENTS);
  const released = await f.release(chain.lotA, 'release');
  if (released.status !== 200)
    throw new Error(`release: ${released.status} ${JSON.stringify(released.body)}`);
  const depot = await makeSite(api.app, SiteKind.Warehouse);
  const admin = await makeUser(api.app, Role.Admin);
  const wh = await makeUser(api.app, Role.Warehouse, { siteId: depot.id });
  const adminToken = await api.login(admin.username, FACTORY_PASSWORD);
  const token = await api.login(wh.username, FACTORY_PASSWORD);
  const fridges: string[] = [];
  for (const name of ['A', 'B']) {
    const res = await api.request<{ id: string }>('POST', '/api/locations', {
      token: adminToken,
      body: {
        siteId: depot.id,
        code: unique(`FRIDGE-${name}`),
        name: `Fridge ${name}`,
        kind: LocationKind.Fridge,
        minTempC: 2,
        maxTempC: 8,
        alarmDelayS: 1800,
        hysteresisC: 0.5,
      },
    });
    if (res.status !== 201) throw new Error(`location: ${res.status} ${JSON.stringify(res.body)}`);
    fridges.push(res.body.id);
  }
  const raws = chain.vialsA.map(
    (v) =>
      `]d2${formatElementString({ gtin: v.gtin, lot: chain.lotA.code, expiry: v.expiry, serial: v.serial })}`,
  );
  let n = 0;
  const scan = async (raw: string, action: string, context: Record<string, unknown> = {}) => {
    const res = await api.request<{ outcome?: string }>('POST', '/api/scans', {
      token,
      body: { raw, action, context, idempotencyKey: `bench-setup-${(n += 1)}-${unique('k')}` },
    });
    if (res.status !== 200) throw new Error(`${action}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  for (const raw of raws) {
    await scan(raw, 'receive');
    await scan(raw, 'putaway', { locationId: fridges[0] });
  }
  const moveCheck = await scan(raws[0]!, 'move', { locationId: fridges[1] });
  if (moveCheck.outcome !== 'done') throw new Error(`move: ${JSON.stringify(moveCheck)}`);
  await scan(raws[0]!, 'move', { locationId: fridges[0] });

  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const body = (raw: string, action: string, context: Record<string, unknown> = {}) =>
    JSON.stringify({ raw, action, context });
  return [
    { key: 'health', requests: [{ method: 'GET', path: '/api/health' }] },
    {
      key: 'lookup',
      requests: raws.map((raw) => ({
        method: 'POST' as const,
        path: '/api/scans',
        headers,
        body: body(raw, 'lookup'),
        freshIdempotencyKey: true,
      })),
    },
    {
      key: 'move',
      // Client i owns vial i: B, A, B, A… so every scan is a real move (now in A after the checks above).
      requests: raws.map((raw) => ({
        method: 'POST' as const,
        path: '/api/scans',
        headers,
        bodies: [
          body(raw, 'move', { locationId: fridges[1] }),
          body(raw, 'move', { locationId: fridges[0] }),
        ],
        freshIdempotencyKey: true,
      })),
    },
  ];
}

/**
 * The API's main thread as the Linux scheduler saw it (/proc/<pid>/task/<pid>/schedstat): ns on a CPU and ns
 * runnable but waiting for one; null where there is no /proc. A busy event loop that waits for a CPU a large
 * share of the time is starved by the other processes (PostgreSQL, the load), not slow by itself.
 */
function mainThreadSchedstat(): { cpuNs: number; waitNs: number } | null {
  try {
    const [cpuNs, waitNs] = readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    return cpuNs === undefined || waitNs === undefined ? null : { cpuNs, waitNs };
  } catch {
    return null;
  }
}

export async function run(): Promise<void> {
  const busyWarning = await idleCheck();
  const api = await BenchApi.start();
  const measured: Measurement[] = [];
  // The API's event loop (this thread; the load runs on a worker thread): busy share over each scenario.
  const loopBusy = new Map<string, number>();
  // How much of each scenario the main thread spent waiting for a CPU (runnable, not running), in % of wall time.
  const runqWait = new Map<string, number>();
  try {
    for (const s of await prepare(api)) {
      if (s.key !== 'health' && !ONLY.has(s.key)) continue;
      progress(
        `scan: ${s.key} (${CLIENTS} clients, ${WARMUP_MS / 1000} s warm-up + ${DURATION_MS / 1000} s)…`,
      );
      const loop = performance.eventLoopUtilization();
      const sched = mainThreadSchedstat();
      const wallStart = performance.now();
      measured.push(
        await measure(s.key, {
          baseUrl: api.baseUrl,
          requests: s.requests,
          concurrency: CLIENTS,
          warmupMs: WARMUP_MS,
          durationMs: DURATION_MS,
        }),
      );
      loopBusy.set(s.key, performance.eventLoopUtilization(loop).utilization * 100);
      const schedEnd = mainThreadSchedstat();
      if (sched && schedEnd) {
        const wallNs = (performance.now() - wallStart) * 1e6;
        runqWait.set(s.key, ((schedEnd.waitNs - sched.waitNs) / wallNs) * 100);
      }
    }
  } finally {
    await api.close();
  }
  // CPU time per request (ms), whole machine, warm-up included: comparable across runs on a busy machine.
  const msPerRequest = (m: Measurement, pct: number): number => (pct / 100) * cpus().length * (1000 / m.rps);
  const loopPct = (m: Measurement): number => loopBusy.get(m.label) ?? Number.NaN;
  const runqPct = (m: Measurement): number => runqWait.get(m.label) ?? Number.NaN;
  const { figures, table } = scenarioReport(measured, 'health', busyWarning.busyPct, {
    headers: ['loop', 'runq', 'ms/req'],
    cells: (m) => [
      `${loopPct(m).toFixed(0)}%`,
      Number.isNaN(runqPct(m)) ? '-' : `${runqPct(m).toFixed(0)}%`,
      `${msPerRequest(m, m.procPct).toFixed(2)}/${msPerRequest(m, m.servicesPct).toFixed(2)}`,
    ],
    figures: (m) => ({
      [`${m.label}_api_loop_pct`]: round(loopPct(m), 1),
      [`${m.label}_api_runq_wait_pct`]: round(runqPct(m), 1),
      [`${m.label}_cpu_ms_api`]: round(msPerRequest(m, m.procPct), 3),
      [`${m.label}_cpu_ms_db`]: round(msPerRequest(m, m.servicesPct), 3),
    }),
  });
  emit('scan', figures, {
    notes: [
      machineNote(),
      `closed loop, ${CLIENTS} clients, ${WARMUP_MS / 1000} s warm-up + ${DURATION_MS / 1000} s measured per scenario`,
      'targets (issue 4): move ≥ 1000 scans/s sustained, p95 ≤ 20 ms, p99 ≤ 50 ms; x health = req/s / health req/s',
      'cpu = % of the whole machine taken by this process (API + load) / PostgreSQL + Redis / anything else',
      'loop = how busy the API’s event loop was (one thread: near 100 % it is the bottleneck)',
      'runq = share of the time the API’s main thread was ready to run but waited for a CPU (Linux schedstat)',
      'ms/req = CPU time per request, API + load / PostgreSQL + Redis (warm-up included)',
      ...(busyWarning.warning ? [`WARNING: ${busyWarning.warning}`] : []),
      ...contentionNotes(measured),
    ],
    table,
  });
}
