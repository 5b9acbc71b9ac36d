import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { appConfigFrom, currentEnvironment, type AppConfig } from '@lyotrace/config';
import { createDataSource, runMigrations } from '@lyotrace/persistence';
import { createApiApp } from '../../apps/api/src/create-api-app.js';
import type { LoadOptions, LoadRequest, LoadResult } from './load.js';

export type { LoadRequest, LoadResult } from './load.js';

/** The figures of one benchmark: flat, numeric, stable keys (they end up in the final JSON line). */
export type Figures = Record<string, number>;

/** Progress goes to stderr, so that stdout holds only the tables and the JSON lines. */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/**
 * Where the benchmark services are. scripts/bench.sh recreates the database `lyotrace_bench`, flushes Redis
 * db 2 and exports both URLs; nothing here ever falls back to the dev or test services.
 */
export function benchServices(): { databaseUrl: string; redisUrl: string } {
  const env = currentEnvironment();
  const databaseUrl = env.BENCH_DATABASE_URL;
  const redisUrl = env.BENCH_REDIS_URL;
  if (!databaseUrl || !redisUrl) {
    throw new Error(
      'BENCH_DATABASE_URL and BENCH_REDIS_URL are not set: run the benchmarks with `npm run bench`, which prepares them',
    );
  }
  return { databaseUrl, redisUrl };
}

/** Applies the real migrations to the bench database (idempotent, under the migration advisory lock). */
export async function migrateBenchDatabase(databaseUrl: string): Promise<void> {
  const ds = createDataSource({ databaseUrl, poolSize: 2, applicationName: 'lyotrace-bench-migrate' });
  await ds.initialize();
  try {
    await runMigrations(ds);
  } finally {
    await ds.destroy();
  }
}

export interface BenchResponse<T> {
  status: number;
  body: T;
}

/** The real API (createApiApp, as production builds it) on a loopback port, on the bench services. */
export class BenchApi {
  private constructor(
    readonly app: NestFastifyApplication,
    readonly config: AppConfig,
    readonly baseUrl: string,
  ) {}

  /**
   * Migrates, then starts the API with LOG_LEVEL silent and a login rate limit no benchmark reaches. A fresh
   * random JWT secret per run: tokens from one run mean nothing in the next.
   */
  static async start(
    overrides: Partial<Record<keyof AppConfig, string | number | boolean>> = {},
  ): Promise<BenchApi> {
    const { databaseUrl, redisUrl } = benchServices();
    await migrateBenchDatabase(databaseUrl);
    const config = appConfigFrom({
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      JWT_SECRET: randomBytes(48).toString('base64url'),
      LOG_LEVEL: 'silent',
      LOGIN_RATE_LIMIT: 1_000_000_000,
      ...overrides,
    });
    const app = await createApiApp(config);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    if (!address || typeof address === 'string') {
      await app.close();
      throw new Error('the API did not bind a TCP port');
    }
    return new BenchApi(app, config, `http://127.0.0.1:${address.port}`);
  }

  /** One request outside the measurement (setup, sanity checks); JSON in, JSON out. */
  async request<T = unknown>(
    method: 'GET' | 'POST',
    path: string,
    options: { token?: string; body?: unknown } = {},
  ): Promise<BenchResponse<T>> {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body: payload });
    const text = await res.text();
    const body: unknown = /json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : text;
    return { status: res.status, body: body as T };
  }

  async login(username: string, password: string): Promise<string> {
    const res = await this.request<{ accessToken?: string }>('POST', '/api/auth/login', {
      body: { username, password },
    });
    if (res.status !== 200 || !res.body.accessToken) {
      throw new Error(`login of ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return res.body.accessToken;
  }

  /** Closes the HTTP server, the database pool and the Redis connections (Nest shutdown hooks). */
  close(): Promise<void> {
    return this.app.close();
  }
}

export interface LoadPlan {
  baseUrl: string;
  requests: LoadRequest[];
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  timeoutMs?: number;
  maxRequests?: number;
}

/**
 * Runs closedLoop (load.ts) on a worker thread and hands back its result. Bounded three ways: the duration,
 * a per-request timeout, and a cap on the number of requests; a worker that overstays all of them is
 * terminated and the run fails.
 */
export function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const options: LoadOptions = {
    timeoutMs: 10_000,
    maxRequests: 2_000_000,
    ...plan,
  };
  const deadlineMs = options.warmupMs + options.durationMs + options.timeoutMs + 15_000;
  return new Promise<LoadResult>((resolve, reject) => {
    const worker = new Worker(new URL('./load-worker.js', import.meta.url), { workerData: options });
    let result: LoadResult | undefined;
    let failure: Error | undefined;
    const guard = setTimeout(() => {
      failure = new Error(`the load worker did not finish within ${deadlineMs} ms: terminated`);
      void worker.terminate();
    }, deadlineMs);
    worker.once('message', (message: LoadResult) => (result = message));
    worker.once('error', (error) => (failure ??= error));
    worker.once('exit', (code) => {
      clearTimeout(guard);
      if (failure) reject(failure);
      else if (code !== 0 || !result)
        reject(new Error(`the load worker exited with code ${code}, no result`));
      else resolve(result);
    });
  });
}

export interface Summary {
  /** Requests completed in the measured window. */
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  errors: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function summarize(result: LoadResult): Summary {
  const sorted = Float64Array.from(result.latenciesMs).sort();
  return {
    requests: sorted.length,
    rps: sorted.length / (result.measuredMs / 1000),
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    errors: result.errors,
  };
}

/** Fails loudly unless every request was a 2xx, the run was not cut short, and something was measured. */
export function assertClean(label: string, result: LoadResult): void {
  if (result.errors > 0) {
    throw new Error(
      `${label}: ${result.errors} failed request(s) (by status: ${JSON.stringify(result.statusCounts)}); ` +
        `first: ${result.firstError ?? '?'}`,
    );
  }
  if (result.capped)
    throw new Error(`${label}: hit the request cap before the time was up; raise maxRequests`);
  if (result.latenciesMs.length === 0)
    throw new Error(`${label}: no request completed in the measured window`);
}

export interface Measurement extends Summary, CpuShare {
  label: string;
  concurrency: number;
}

/** Above this share of the machine taken by other processes during a scenario, its figures are suspect. */
export const FOREIGN_CPU_LIMIT_PCT = 10;

/** runLoad + assertClean + summarize, with the CPU split of the scenario (warm-up included). */
export async function measure(label: string, plan: LoadPlan): Promise<Measurement> {
  const cpu = cpuSnapshot();
  const result = await runLoad(plan);
  const share = cpuSince(cpu);
  assertClean(label, result);
  if (share.foreignPct > FOREIGN_CPU_LIMIT_PCT) {
    progress(
      `WARNING: ${label}: other processes took ${share.foreignPct.toFixed(0)}% of the machine meanwhile`,
    );
  }
  return { label, concurrency: plan.concurrency, ...summarize(result), ...share };
}

/** Notes for the table: one line per scenario that shared the machine with something else. */
export function contentionNotes(measurements: Measurement[]): string[] {
  return measurements
    .filter((m) => m.foreignPct > FOREIGN_CPU_LIMIT_PCT)
    .map(
      (m) =>
        `WARNING: during ${m.label} other processes took ${m.foreignPct.toFixed(0)}% of the machine: not comparable`,
    );
}

/** "api+load / db+redis / other" CPU, in % of the machine, for a table cell. */
export const cpuCell = (m: CpuShare): string =>
  [m.procPct, m.servicesPct, m.foreignPct].map((v) => (Number.isNaN(v) ? '?' : v.toFixed(0))).join('/');

/** Rounds for display and for the JSON line: 1 decimal for rates, 2 for milliseconds, 3 for ratios. */
export const round = (value: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
};

export type Cell = string | number;

/** A plain-text table: text columns left-aligned, numbers right-aligned. */
export function formatTable(headers: string[], rows: Cell[][]): string {
  const cells = [headers, ...rows.map((row) => row.map((c) => String(c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number'));
  const line = (row: string[]): string =>
    row
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n');
}

export interface Table {
  headers: string[];
  rows: Cell[][];
}

/**
 * Prints the benchmark's result on stdout: a title, optional notes, the table (the figures themselves when
 * none is given), and then, as the very last line, exactly one JSON object {"bench": name, "figures": {...}}.
 */
export function emit(
  name: string,
  figures: Figures,
  options: { table?: Table; notes?: string[] } = {},
): void {
  const table = options.table ?? {
    headers: ['figure', 'value'],
    rows: Object.entries(figures).map(([k, v]) => [k, v]),
  };
  const out = [`\n== bench ${name}`, ...(options.notes ?? []).map((n) => `   ${n}`), ''];
  out.push(formatTable(table.headers, table.rows), '');
  out.push(JSON.stringify({ bench: name, figures }));
  process.stdout.write(`${out.join('\n')}\n`);
}

export interface CpuSnapshot {
  busyMs: number;
  totalMs: number;
  proc: NodeJS.CpuUsage;
  /** CPU ms of each PostgreSQL and Redis process by pid (null: no /proc). */
  services: ReadonlyMap<number, number> | null;
  wallNs: bigint;
}

/** Linux USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every Linux Node supports). */
const CLOCK_TICK_MS = 10;
const SERVICE_COMMANDS = new Set(['postgres', 'redis-server']);

/**
 * CPU time (ms) of every PostgreSQL and Redis process on this host, by pid, from /proc; null where there is no /proc.
 * By command name: another checkout's idle servers count too, but they cost next to nothing.
 */
function servicesCpuMs(): Map<number, number> | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const byPid = new Map<number, number>();
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const close = stat.lastIndexOf(')');
    if (!SERVICE_COMMANDS.has(stat.slice(stat.indexOf('(') + 1, close))) continue;
    // After "pid (comm) ": state is field 3, utime field 14, stime field 15.
    const fields = stat.slice(close + 2).split(' ');
    byPid.set(Number(pid), (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS);
  }
  return byPid;
}

export function cpuSnapshot(): CpuSnapshot {
  let busyMs = 0;
  let totalMs = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    totalMs += all;
    busyMs += all - times.idle;
  }
  return {
    busyMs,
    totalMs,
    proc: process.cpuUsage(),
    services: servicesCpuMs(),
    wallNs: process.hrtime.bigint(),
  };
}

export interface CpuShare {
  /** Everything that ran on the machine. */
  hostPct: number;
  /** This process: the API, the load worker, libuv's pool (argon2). */
  procPct: number;
  /** PostgreSQL and Redis (NaN without /proc). */
  servicesPct: number;
  /** The rest: other people's builds, tests, linters. Much above 0 and the figures are not comparable. */
  foreignPct: number;
}

/** CPU use since `from`, each part as a percentage of the whole machine (all cores). */
export function cpuSince(from: CpuSnapshot): CpuShare {
  const now = cpuSnapshot();
  const hostPct =
    now.totalMs > from.totalMs ? (100 * (now.busyMs - from.busyMs)) / (now.totalMs - from.totalMs) : 0;
  const capacityMs = (Number(now.wallNs - from.wallNs) / 1e6) * cpus().length;
  const pct = (ms: number): number => (capacityMs > 0 ? (100 * ms) / capacityMs : 0);
  const procPct = pct((now.proc.user - from.proc.user + now.proc.system - from.proc.system) / 1000);
  // Per process, so that another server's backends ending meanwhile take nothing away from ours. A backend that
  // exits within the window takes its time with it: services are a slight underestimate.
  let servicesMs = 0;
  for (const [pid, ms] of now.services ?? []) servicesMs += Math.max(0, ms - (from.services?.get(pid) ?? 0));
  const servicesPct = now.services === null || from.services === null ? Number.NaN : pct(servicesMs);
  const foreignPct = Math.max(0, hostPct - procPct - (Number.isNaN(servicesPct) ? 0 : servicesPct));
  return { hostPct, procPct, servicesPct, foreignPct };
}

/**
 * How busy the machine is before we start, over `ms`: a benchmark measured while something else (a test
 * run, a linter) takes the CPUs is not comparable with one that was not. Warns, does not refuse.
 */
export async function idleCheck(
  ms = 1_000,
  limitPct = 25,
): Promise<{ busyPct: number; warning: string | null }> {
  const from = cpuSnapshot();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const busyPct = cpuSince(from).hostPct;
  if (busyPct <= limitPct) return { busyPct, warning: null };
  const warning = `the machine was ${busyPct.toFixed(0)}% busy before the run: figures are not comparable`;
  progress(`WARNING: ${warning}`);
  return { busyPct, warning };
}

/** One line describing the machine, for the notes of a table. */
export function machineNote(): string {
  const list = cpus();
  return `node ${process.version}, ${list.length} CPU(s) ${list[0]?.model.trim() ?? ''}`.trimEnd();
}

/** Extra per-scenario columns and figures a benchmark adds to the common ones. */
export interface ScenarioExtras {
  headers: string[];
  cells: (m: Measurement) => Cell[];
  figures: (m: Measurement) => Figures;
}

/** A scenario's throughput and latencies as table cells: req/s, then p50, p95, p99 and max in ms. */
export function latencyCells(m: Pick<Measurement, 'rps' | 'p50' | 'p95' | 'p99' | 'max'>): Cell[] {
  return [round(m.rps, 1), round(m.p50, 2), round(m.p95, 2), round(m.p99, 2), round(m.max, 2)];
}

/**
 * The figures and table every closed-loop HTTP benchmark reports: per scenario req/s, p50/p95/p99, errors and
 * the ratio to the baseline scenario measured in the same run, the CPU split, plus the run's conditions
 * (foreign CPU, how busy the machine was before).
 */
export function scenarioReport(
  measured: Measurement[],
  baselineLabel: string,
  busyBeforePct: number,
  extras?: ScenarioExtras,
): { figures: Figures; table: Table } {
  const baseline = measured.find((m) => m.label === baselineLabel)!.rps;
  const figures: Figures = {};
  for (const m of measured) {
    figures[`${m.label}_rps`] = round(m.rps, 1);
    figures[`${m.label}_p50_ms`] = round(m.p50, 2);
    figures[`${m.label}_p95_ms`] = round(m.p95, 2);
    figures[`${m.label}_p99_ms`] = round(m.p99, 2);
    figures[`${m.label}_errors`] = m.errors;
    Object.assign(figures, extras?.figures(m));
    if (m.label !== baselineLabel)
      figures[`${m.label}_to_${baselineLabel}_ratio`] = round(m.rps / baseline, 3);
  }
  // Not performance figures but the conditions they were taken in: compare runs only where these are low.
  figures.foreign_cpu_max_pct = round(Math.max(...measured.map((m) => m.foreignPct)), 1);
  figures.busy_before_pct = round(busyBeforePct, 1);
  const headers = ['scenario', 'clients', 'requests', 'req/s', 'p50', 'p95', 'p99', 'max', 'errors'];
  const table: Table = {
    headers: [...headers, `x ${baselineLabel}`, 'cpu', ...(extras?.headers ?? [])],
    rows: measured.map((m) => [
      m.label,
      m.concurrency,
      m.requests,
      ...latencyCells(m),
      m.errors,
      round(m.rps / baseline, 3),
      cpuCell(m),
      ...(extras?.cells(m) ?? []),
    ]),
  };
  return { figures, table };
}
