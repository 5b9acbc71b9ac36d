import { chmod, mkdtemp, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  childEnv,
  ENTRY,
  freePorts,
  http,
  parseEnvFile,
  ProcessHarness,
  REPO_ROOT,
  waitForHttp,
  type Env,
  type HttpResult,
  type ManagedProcess,
} from '../support/process-harness.js';
import { TEST_JWT_SECRET } from '../support/test-env.js';

interface Health {
  status?: string;
  info?: Record<string, { status?: string }>;
  error?: Record<string, { status?: string }>;
}

const health = (r: HttpResult): Health => (r.body !== null && typeof r.body === 'object' ? r.body : {});

/**
 * PostgreSQL and Redis go away under a running api and worker and come back: the processes report it,
 * refuse what needs the missing service quickly, and recover by themselves. A PRIVATE PostgreSQL + Redis
 * (scripts/services.sh in local mode, own data dir and ports), so that stopping them disturbs nobody else.
 */
describe('outage of PostgreSQL and Redis under running processes', () => {
  const procs = new ProcessHarness();
  const username = 'outage-qa';
  const password = 'outage-password-2026';
  let tmp: string;
  let servicesEnv: Env;
  let servicesUp = false;
  let env: Env;
  let base: string;
  let api: ManagedProcess;
  let worker: ManagedProcess;

  /** `bash scripts/services.sh <command>` on the private instance; fails with its output if it fails. */
  const services = async (command: string): Promise<void> => {
    const res = await procs.run('bash', [join(REPO_ROOT, 'scripts/services.sh'), command], {
      env: servicesEnv,
      timeoutMs: 90_000,
    });
    if (res.code !== 0) throw new Error(`services.sh ${command} exited ${res.code}:\n${res.stderr}`);
  };

  const login = async (): Promise<string> => {
    const res = await http(`${base}/api/auth/login`, { body: { username, password } });
    if (res.status !== 200) throw new Error(`login: ${res.status} ${JSON.stringify(res.body)}`);
    return (res.body as { accessToken: string }).accessToken;
  };

  const expectStillRunning = (pids: { api: number; worker: number }): void => {
    expect({ api: api.alive, worker: worker.alive }).toEqual({ api: true, worker: true });
    expect({ api: api.pid, worker: worker.pid }).toEqual(pids);
  };

  /** Queues a chain check and waits (bounded) for the worker to finish it. */
  const verifyThroughWorker = async (token: string, timeoutMs: number): Promise<void> => {
    const queued = await http(`${base}/api/audit/verifications`, { method: 'POST', token });
    expect(queued.status).toBe(202);
    const { id } = queued.body as { id: string };
    const done = await waitForHttp(
      `${base}/api/audit/verifications/${id}`,
      (r) =>
        r.status === 200 && !['queued', 'running'].includes((r.body as { status?: string }).status ?? ''),
      timeoutMs,
      { token, watch: [api, worker] },
    );
    expect(done.body).toMatchObject({ id, status: 'intact' });
  };

  beforeAll(async () => {
    // World-searchable: as root, services.sh runs PostgreSQL as another user, who must reach the cluster.
    tmp = await mkdtemp(join(tmpdir(), 'lyotrace-e2e-outage-'));
    await chmod(tmp, 0o755);
    const [pgPort, redisPort] = await freePorts(2);
    servicesEnv = childEnv({
      LYOTRACE_SERVICES: 'local',
      LYOTRACE_DATA_DIR: join(tmp, 'data'),
      LYOTRACE_PG_PORT: String(pgPort),
      LYOTRACE_REDIS_PORT: String(redisPort),
      // Nothing of the shared instance may leak into the private one.
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
      TEST_DATABASE_URL: undefined,
      TEST_REDIS_URL: undefined,
      SERVICES_MODE: undefined,
      SERVICES_STARTED_BY_US: undefined,
    });
    servicesUp = true; // from here on, afterAll runs `down` (harmless if `up` got nowhere)
    await services('up');
    const urls = parseEnvFile(join(tmp, 'data', 'services.env'));
    expect(urls).toMatchObject({ SERVICES_MODE: 'local', SERVICES_STARTED_BY_US: '1' });
    expect(urls.DATABASE_URL).toContain(`:${pgPort}/`);
    expect(urls.REDIS_URL).toContain(`:${redisPort}`);

    env = childEnv({
      NODE_ENV: 'test',
      DATABASE_URL: urls.DATABASE_URL,
      REDIS_URL: urls.REDIS_URL,
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      LOGIN_RATE_LIMIT: '1000',
      AUDIT_VERIFY_CRON: '',
    });
    await procs.cli(['migrate'], env);
    await procs.cli(['user:create', '--username', username, '--password', password, '--role', 'qa'], env);

    const [port] = await freePorts(1);
    base = `http://127.0.0.1:${port}`;
    api = procs.node('api', ENTRY.api, { ...env, PORT: String(port) });
    worker = procs.node('worker', ENTRY.worker, env);
    await waitForHttp(`${base}/api/health`, (r) => r.status === 200, 30_000, { watch: [api, worker] });
    await worker.waitForLine(/worker ready/, 15_000);
  }, 90_000);

  afterAll(async () => {
    await procs.killAll();
    if (servicesUp) {
      try {
        await services('down');
      } catch (error) {
        console.error(`could not stop the private services: ${(error as Error).message}`);
      }
    }
    if (tmp) {
      // services.sh puts the cluster under /var/tmp/lyotrace-<hash> (symlinked from data/pg) when the data
      // dir is unsuitable for it; remove that too.
      const cluster = await readlink(join(tmp, 'data', 'pg')).catch(() => undefined);
      if (cluster && /^\/var\/tmp\/lyotrace-[0-9a-f]+\/pg$/.test(cluster))
        await rm(dirname(cluster), { recursive: true, force: true });
      await rm(tmp, { recursive: true, force: true });
    }
  }, 60_000);

  it('works before anything breaks: health 200, a queued check completes', async () => {
    const res = await http(`${base}/api/health`);
    expect(res.status).toBe(200);
    await verifyThroughWorker(await login(), 15_000);
  }, 30_000);

  describe('Redis', () => {
    let token: string;
    let pids: { api: number; worker: number };

    beforeAll(async () => {
      token = await login();
      pids = { api: api.pid, worker: worker.pid };
    });

    it('stopped: health answers 503 naming redis (postgres still up) within 10 s', async () => {
      await services('redis-stop');
      const res = await waitForHttp(`${base}/api/health`, (r) => r.status === 503, 10_000, {
        watch: [api, worker],
      });
      expect(health(res)).toMatchObject({
        error: { redis: { status: 'down' } },
        info: { postgres: { status: 'up' } },
      });
      expect(health(res).error).not.toHaveProperty('postgres');
    }, 30_000);

    it('stopped: queueing a verification answers 503 QUEUE_UNAVAILABLE in under 3 s', async () => {
      const res = await http(`${base}/api/audit/verifications`, { method: 'POST', token, timeoutMs: 10_000 });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 503, code: 'QUEUE_UNAVAILABLE' });
      expect(res.ms).toBeLessThan(3_000);
    }, 15_000);

    it('restarted: health is 200 again within 15 s, same processes, and the worker takes jobs again', async () => {
      await services('redis-start');
      const res = await waitForHttp(`${base}/api/health`, (r) => r.status === 200, 15_000, {
        watch: [api, worker],
      });
      expect(health(res)).toMatchObject({ info: { postgres: { status: 'up' }, redis: { status: 'up' } } });
      expectStillRunning(pids);
      await verifyThroughWorker(token, 15_000);
      expectStillRunning(pids);
    }, 45_000);
  });

  describe('PostgreSQL', () => {
    let pids: { api: number; worker: number };

    beforeAll(() => {
      pids = { api: api.pid, worker: worker.pid };
    });

    it('stopped: health answers 503 naming postgres within 10 s', async () => {
      await services('pg-stop');
      const res = await waitForHttp(`${base}/api/health`, (r) => r.status === 503, 10_000, {
        watch: [api, worker],
      });
      expect(health(res)).toMatchObject({ error: { postgres: { status: 'down' } } });
      expect(health(res).info).toMatchObject({ redis: { status: 'up' } });
    }, 30_000);

    it('restarted: health is 200 again within 20 s, same processes, and login works', async () => {
      await services('pg-start');
      await waitForHttp(`${base}/api/health`, (r) => r.status === 200, 20_000, { watch: [api, worker] });
      expectStillRunning(pids);
      const res = await http(`${base}/api/auth/login`, { body: { username, password } });
      expect(res.status).toBe(200);
      expectStillRunning(pids);
    }, 45_000);
  });
});
