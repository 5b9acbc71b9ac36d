import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { currentEnvironment } from '@lyotrace/config';
import { INGEST_BATCH_VERSION, type IngestBatch, LoggerProtocol } from '@lyotrace/contracts';
import pg from 'pg';
import {
  childEnv,
  ENTRY,
  freePorts,
  http,
  parseEnvFile,
  ProcessHarness,
  REPO_ROOT,
  waitFor,
  waitForHttp,
  type Env,
  type ManagedProcess,
} from '../support/process-harness.js';
import { TEST_JWT_SECRET } from '../support/test-env.js';

/** Where the built dist/ is: the repository (npm test builds it), or E2E_BUILD_ROOT for a private build. */
const BUILD_ROOT = currentEnvironment().E2E_BUILD_ROOT ?? REPO_ROOT;
const BATCHES = 24;
const RECORDS = 1_000;
/** Redis is killed once this many batches have been answered. */
const KILL_AFTER = 8;
const START = Date.parse('2026-01-05T00:00:00Z');

function batchOf(serial: string, index: number): IngestBatch {
  const records = Array.from({ length: RECORDS }, (_, i) => {
    const seq = index * RECORDS + i + 1;
    const time = new Date(START + seq * 60_000).toISOString();
    return { seq, deviceTime: time, time, skewMs: 0, temperatureC: 4 + (seq % 20) / 10, flags: [] };
  });
  return {
    version: INGEST_BATCH_VERSION,
    batchId: randomUUID(),
    device: { protocol: LoggerProtocol.Native, serial, model: 'LT-1' },
    mission: '',
    live: false,
    records,
  };
}

/**
 * Issue 5, acceptance: Redis killed (SIGKILL) in the middle of a stream of uploads. Every batch is still
 * answered 200 and committed to PostgreSQL; the evaluation jobs Redis never got are queued again by the
 * worker's sweep once Redis is back, and all get done. The real api and worker processes on a PRIVATE
 * PostgreSQL + Redis (scripts/services.sh in local mode), so that killing Redis disturbs nobody else.
 */
describe('Redis killed mid-ingest', () => {
  const procs = new ProcessHarness();
  let tmp: string;
  let dataDir: string;
  let servicesEnv: Env;
  let servicesUp = false;
  let env: Env;
  let base: string;
  let token: string;
  let api: ManagedProcess;
  let worker: ManagedProcess;
  let db: pg.Client;

  const services = async (command: string): Promise<void> => {
    const res = await procs.run('bash', [join(REPO_ROOT, 'scripts/services.sh'), command], {
      env: servicesEnv,
      timeoutMs: 90_000,
    });
    if (res.code !== 0) throw new Error(`services.sh ${command} exited ${res.code}:\n${res.stderr}`);
  };
  const cli = async (args: string[]): Promise<string> => {
    const res = await procs.run(process.execPath, [join(BUILD_ROOT, ENTRY.cli), ...args], { env });
    if (res.code !== 0)
      throw new Error(`cli ${args.join(' ')} exited ${res.code}:\n${res.stdout}\n${res.stderr}`);
    return res.stdout;
  };
  const count = async (sql: string, params: unknown[] = []): Promise<number> =>
    Number((await db.query<{ n: string }>(sql, params)).rows[0]!.n);

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'lyotrace-e2e-ingest-'));
    await chmod(tmp, 0o755);
    dataDir = join(tmp, 'data');
    const [pgPort, redisPort] = await freePorts(2);
    servicesEnv = childEnv({
      LYOTRACE_SERVICES: 'local',
      LYOTRACE_DATA_DIR: dataDir,
      LYOTRACE_PG_PORT: String(pgPort),
      LYOTRACE_REDIS_PORT: String(redisPort),
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
      TEST_DATABASE_URL: undefined,
      TEST_REDIS_URL: undefined,
      SERVICES_MODE: undefined,
      SERVICES_STARTED_BY_US: undefined,
    });
    servicesUp = true;
    await services('up');
    const urls = parseEnvFile(join(dataDir, 'services.env'));
    env = childEnv({
      NODE_ENV: 'test',
      DATABASE_URL: urls.DATABASE_URL,
      REDIS_URL: urls.REDIS_URL,
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      AUDIT_VERIFY_CRON: '',
      // Sweep every second anything a second old: the test needs no minute-long wait.
      INGEST_SWEEP_INTERVAL_MS: '1000',
      INGEST_SWEEP_AGE_MS: '1000',
    });
    await cli(['migrate']);
    await cli(['site:create', '--code', 'E2E-DEPOT', '--name', 'E2E depot', '--kind', 'warehouse']);
    const issued = await cli(['bridge:create', '--site', 'E2E-DEPOT']);
    token = /^BRIDGE_TOKEN=(\S+)$/m.exec(issued)![1]!;

    const [port] = await freePorts(1);
    base = `http://127.0.0.1:${port}`;
    api = procs.node('api', join(BUILD_ROOT, ENTRY.api), { ...env, PORT: String(port) });
    worker = procs.node('worker', join(BUILD_ROOT, ENTRY.worker), env);
    await waitForHttp(`${base}/api/health`, (r) => r.status === 200, 30_000, { watch: [api, worker] });
    await worker.waitForLine(/worker ready/, 15_000);
    db = new pg.Client({ connectionString: urls.DATABASE_URL });
    await db.connect();
  }, 120_000);

  afterAll(async () => {
    await db?.end().catch(() => undefined);
    await procs.killAll();
    if (servicesUp) {
      try {
        await services('down');
      } catch (error) {
        console.error(`could not stop the private services: ${(error as Error).message}`);
      }
    }
    if (tmp) {
      const cluster = await readlink(join(tmp, 'data', 'pg')).catch(() => undefined);
      if (cluster && /^\/var\/tmp\/lyotrace-[0-9a-f]+\/pg$/.test(cluster))
        await rm(dirname(cluster), { recursive: true, force: true });
      await rm(tmp, { recursive: true, force: true });
    }
  }, 60_000);

  it('commits every batch while Redis is dead, then the sweep re-creates the lost evaluation jobs', async () => {
    const pids = { api: api.pid, worker: worker.pid };
    const serial = `E2E-${randomUUID().slice(0, 8)}`;
    const answers: { status: number; accepted?: number; ms: number }[] = [];
    for (let i = 0; i < BATCHES; i += 1) {
      if (i === KILL_AFTER) {
        // SIGKILL, not a clean shutdown: whatever Redis had not yet written to its AOF is gone too.
        const pid = Number(readFileSync(join(dataDir, 'redis', 'redis.pid'), 'utf8').trim());
        process.kill(pid, 'SIGKILL');
        await waitFor(
          'redis to be dead',
          () => {
            try {
              process.kill(pid, 0);
              return undefined;
            } catch {
              return true;
            }
          },
          10_000,
        );
      }
      const res = await http(`${base}/api/ingest/readings`, {
        token,
        body: batchOf(serial, i),
        timeoutMs: 20_000,
      });
      answers.push({
        status: res.status,
        accepted: (res.body as { accepted?: number }).accepted,
        ms: res.ms,
      });
    }
    // Every batch answered and stored, Redis or not.
    expect(answers.map((a) => [a.status, a.accepted])).toEqual(answers.map(() => [200, RECORDS]));
    expect(Math.max(...answers.slice(KILL_AFTER).map((a) => a.ms))).toBeLessThan(5_000);
    expect(
      await count(
        `SELECT count(*) AS n FROM reading r JOIN logger l ON l.id = r.logger_id WHERE l.serial = $1`,
        [serial],
      ),
    ).toBe(BATCHES * RECORDS);
    const outbox = `SELECT count(*) AS n FROM ingest_outbox o JOIN logger l ON l.id = o.logger_id WHERE l.serial = $1`;
    expect(await count(outbox, [serial])).toBe(BATCHES);
    // While Redis is dead, the evaluations of the batches since are not done (their jobs were never queued).
    const pending = await count(`${outbox} AND o.evaluated_at IS NULL`, [serial]);
    expect(pending).toBeGreaterThanOrEqual(BATCHES - KILL_AFTER);

    await services('redis-start');
    await waitForHttp(`${base}/api/health`, (r) => r.status === 200, 20_000, { watch: [api, worker] });
    await waitFor(
      'every evaluation done after Redis came back',
      async () => ((await count(`${outbox} AND o.evaluated_at IS NULL`, [serial])) === 0 ? true : undefined),
      60_000,
      500,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${worker.tail(40)}`);
    });
    expect(worker.lines().some((l) => /ingest outbox sweep: \d+ evaluation\(s\) queued again/.test(l))).toBe(
      true,
    );
    expect({ api: api.pid, worker: worker.pid }).toEqual(pids);
    expect({ api: api.alive, worker: worker.alive }).toEqual({ api: true, worker: true });
  }, 180_000);
});
