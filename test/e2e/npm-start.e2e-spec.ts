import {
  childEnv,
  ENTRY,
  freePort,
  http,
  listProcesses,
  processEnvironment,
  ProcessHarness,
  REPO_ROOT,
  waitFor,
  waitForHttp,
  type ManagedProcess,
  type ProcInfo,
} from '../support/process-harness.js';

const APP_ENTRIES = [ENTRY.api, ENTRY.worker, ENTRY.bridge];

/**
 * The README's first command, as someone types it: `npm start` (scripts/start.sh) in a terminal, then Ctrl-C.
 * It runs in its own process group, like a shell job, and Ctrl-C is SIGINT to that whole group. It reuses the
 * PostgreSQL and Redis that `npm test` brought up (start.sh only stops services it started itself) and the
 * development database `lyotrace`.
 */
describe('npm start (scripts/start.sh) from start to Ctrl-C, twice', () => {
  const procs = new ProcessHarness();
  let port: number;

  beforeAll(async () => {
    port = await freePort();
  });

  afterAll(() => procs.killAll());

  /** api, worker and bridge processes serving this run's port: by process group, or by PORT in their env. */
  const appProcesses = (group: number): ProcInfo[] =>
    listProcesses().filter(
      (p) =>
        APP_ENTRIES.some((entry) => p.cmdline.includes(entry)) &&
        (p.pgid === group || processEnvironment(p.pid).PORT === String(port)),
    );

  const startAndStop = async (run: number): Promise<void> => {
    const start: ManagedProcess = procs.spawn(`npm-start#${run}`, 'bash', ['scripts/start.sh'], {
      cwd: REPO_ROOT,
      env: childEnv({ PORT: String(port) }),
      group: true,
    });
    const base = `http://127.0.0.1:${port}`;

    await waitForHttp(`${base}/api/health`, (r) => r.status === 200, 120_000, { watch: [start] });
    await start.waitForLine(/lyotrace is running/, 30_000, { stream: 'stderr' });

    const login = await http(`${base}/api/auth/login`, {
      body: { username: 'qa', password: 'demo-password-2026' },
    });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ accessToken: expect.any(String) });

    // The three programs run, each in the job's process group.
    const running = await waitFor(
      'api, worker and bridge running',
      () => {
        const found = appProcesses(start.pid);
        return APP_ENTRIES.every((e) => found.some((p) => p.cmdline.includes(e))) ? found : undefined;
      },
      10_000,
    );
    expect(running.every((p) => p.pgid === start.pid)).toBe(true);

    // Ctrl-C. (Its exit status is not asserted: concurrently answers 1 when its children end by a signal.)
    const exit = await start.stop('SIGINT', 20_000);
    if (exit.signal === 'SIGKILL' || exit.ms >= 20_000)
      throw new Error(
        `npm start did not stop within 20 s of Ctrl-C: ${JSON.stringify(exit)}\n${start.tail(30)}`,
      );

    // Nothing of this run survives: neither the pids seen above, nor anything else of the group or the port.
    const survivors = await waitFor(
      'no leftover api/worker/bridge',
      () => {
        const alive = listProcesses();
        const left = alive.filter(
          (p) =>
            p.pgid === start.pid ||
            running.some((r) => r.pid === p.pid && r.cmdline === p.cmdline) ||
            (APP_ENTRIES.some((e) => p.cmdline.includes(e)) &&
              processEnvironment(p.pid).PORT === String(port)),
        );
        return left.length === 0 ? [] : undefined;
      },
      2_000,
    ).catch((error: Error) => {
      const left = listProcesses().filter(
        (p) => p.pgid === start.pid || running.some((r) => r.pid === p.pid),
      );
      throw new Error(`${error.message}: ${JSON.stringify(left)}\n${start.tail(30)}`);
    });
    expect(survivors).toEqual([]);
    const closed = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(3_000) }).then(
      () => 'answering',
      (e: Error) => (e.name === 'TimeoutError' ? 'hanging' : 'closed'),
    );
    expect(closed).toBe('closed');
  };

  it('serves the API with the banner, logs in the demo user, and leaves nothing behind after Ctrl-C', async () => {
    await startAndStop(1);
  }, 150_000);

  it('starts again on the same port and stops the same way', async () => {
    await startAndStop(2);
  }, 150_000);
});
