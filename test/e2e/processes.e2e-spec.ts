import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  childEnv,
  ENTRY,
  freePort,
  http,
  ProcessHarness,
  waitForHttp,
  type Env,
  type HttpResult,
  type ManagedProcess,
} from '../support/process-harness.js';
import { TEST_JWT_SECRET, testServices } from '../support/test-env.js';

const DEMO_PASSWORD = 'demo-password-2026';

interface LogLine {
  level?: number;
  msg?: string;
}

/**
 * The built api, worker, CLI and bridge as separate processes on the test database and test Redis, spoken to
 * over loopback HTTP: what `npm start` runs, minus the wrapper script.
 */
describe('api + worker + bridge + cli as real processes', () => {
  const procs = new ProcessHarness();
  let tmp: string;
  let env: Env;
  let base: string;
  let api: ManagedProcess;
  let worker: ManagedProcess;
  let bridge: ManagedProcess;

  const login = async (username: string): Promise<string> => {
    const res = await http(`${base}/api/auth/login`, { body: { username, password: DEMO_PASSWORD } });
    if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${JSON.stringify(res.body)}`);
    return (res.body as { accessToken: string }).accessToken;
  };

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'lyotrace-e2e-processes-'));
    const { databaseUrl, redisUrl } = testServices();
    env = childEnv({
      NODE_ENV: 'test',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      LOGIN_RATE_LIMIT: '1000',
      AUDIT_VERIFY_CRON: '',
    });
    const tokenFile = join(tmp, 'bridge.token');
    const migrated = await procs.runCli(['migrate'], env);
    expect(migrated).toMatchObject({ code: 0 });
    const seeded = await procs.runCli(['seed:demo', '--bridge-token-file', tokenFile], env);
    expect(seeded).toMatchObject({ code: 0 });
    const bridgeToken = (await readFile(tokenFile, 'utf8')).trim();
    expect(bridgeToken).toMatch(/^lyb_/);

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = procs.node('api', ENTRY.api, { ...env, PORT: String(port) });
    worker = procs.node('worker', ENTRY.worker, env);
    await waitForHttp(`${base}/api/health`, (r) => r.status === 200, 30_000, { watch: [api, worker] });
    bridge = procs.node(
      'bridge',
      ENTRY.bridge,
      childEnv({
        BRIDGE_API_URL: base,
        BRIDGE_TOKEN: bridgeToken,
        BRIDGE_SPOOL_DIR: join(tmp, 'spool'),
        LOG_LEVEL: 'info',
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await procs.killAll();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('answers /api/health with postgres and redis up', async () => {
    const res = await http(`${base}/api/health`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      info: { postgres: { status: 'up' }, redis: { status: 'up' } },
    });
  });

  it('logs the demo qa user in', async () => {
    const res = await http(`${base}/api/auth/login`, { body: { username: 'qa', password: DEMO_PASSWORD } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accessToken: expect.any(String) });
  });

  it('queues an audit verification that the worker process completes as intact', async () => {
    const token = await login('qa');
    const queued = await http(`${base}/api/audit/verifications`, { method: 'POST', token });
    expect(queued.status).toBe(202);
    expect(queued.body).toMatchObject({ id: expect.any(String), status: 'queued' });
    const { id } = queued.body as { id: string };
    const done = await waitForHttp(
      `${base}/api/audit/verifications/${id}`,
      (r) =>
        r.status === 200 && !['queued', 'running'].includes((r.body as { status?: string }).status ?? ''),
      15_000,
      { token, watch: [api, worker] },
    );
    expect(done.body).toMatchObject({ id, status: 'intact', eventsChecked: expect.any(Number) });
    await worker.waitForLine(/audit chain intact/, 5_000);
  }, 30_000);

  it('lets the bridge authenticate with the seeded token', async () => {
    await bridge.waitForLine(/bridge: connected to .* as /, 15_000, { stream: 'stdout' });
    const token = (await readFile(join(tmp, 'bridge.token'), 'utf8')).trim();
    const me = await http(`${base}/api/bridge/whoami`, { token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ credentialId: expect.any(String), siteId: expect.any(String) });
  }, 20_000);

  describe('refusals, answered and on record in the api log', () => {
    /** Sends a request with our own X-Request-Id, so its log line can be found without guessing. */
    const refused = async (
      path: string,
      token: string | undefined,
    ): Promise<{ res: HttpResult; requestId: string }> => {
      const requestId = `e2e-${randomBytes(6).toString('hex')}`;
      const res = await http(`${base}${path}`, { token, headers: { 'x-request-id': requestId } });
      return { res, requestId };
    };

    /** The api's JSON log line (warn) for that request, with its status and problem code. */
    const expectLogged = async (requestId: string, status: number, code: string): Promise<void> => {
      const raw = await api.waitForLine(new RegExp(`→ ${status} ${code} .*request ${requestId}\\)`), 5_000, {
        stream: 'stdout',
      });
      const line = JSON.parse(raw) as LogLine;
      expect(line.level).toBe(40);
      expect(line.msg).toContain(`→ ${status} ${code}`);
    };

    it('401 without a token', async () => {
      const { res, requestId } = await refused('/api/sites', undefined);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
      await expectLogged(requestId, 401, 'UNAUTHENTICATED');
    });

    it('403 for qa asking for the user list (admin only)', async () => {
      const { res, requestId } = await refused('/api/users', await login('qa'));
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      await expectLogged(requestId, 403, 'FORBIDDEN');
    });

    it("404 for clinic-a asking for CLINIC-B's site by id", async () => {
      const sites = await http(`${base}/api/sites`, { token: await login('admin') });
      expect(sites.status).toBe(200);
      const clinicB = (sites.body as { id: string; code: string }[]).find((s) => s.code === 'CLINIC-B');
      expect(clinicB).toBeDefined();
      const { res, requestId } = await refused(`/api/sites/${clinicB!.id}`, await login('clinic-a'));
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ status: 404, code: 'NOT_FOUND' });
      await expectLogged(requestId, 404, 'NOT_FOUND');
      // …while its own site is visible to it.
      const own = await http(`${base}/api/sites`, { token: await login('clinic-a') });
      expect((own.body as { code: string }[]).map((s) => s.code)).toEqual(['CLINIC-A']);
    });
  });

  it('stops each process with exit code 0 within 10 s of its signal', async () => {
    const [apiExit, workerExit, bridgeExit] = await Promise.all([
      api.stop('SIGINT', 10_000),
      worker.stop('SIGTERM', 10_000),
      bridge.stop('SIGTERM', 10_000),
    ]);
    const summary = { api: apiExit, worker: workerExit, bridge: bridgeExit };
    const failures = Object.entries(summary).filter(([, e]) => e.code !== 0 || e.ms > 10_000);
    if (failures.length > 0) throw new Error(`unclean stop: ${JSON.stringify(summary)}\n${procs.tails(15)}`);
    expect(bridge.lines('stdout').some((l) => /bridge: stopped/.test(l))).toBe(true);
  }, 30_000);
});
