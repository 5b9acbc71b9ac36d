import { join } from 'node:path';
import { currentEnvironment } from '@lyotrace/config';
import type { LoggerProtocol } from '@lyotrace/contracts';
import { DEMO_LOGGERS } from '@lyotrace/services';
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

const SIMULATOR = 'dist/firmware-bridge/simulator/main.js';
const APP_ENTRIES = [ENTRY.api, ENTRY.worker, ENTRY.bridge, SIMULATOR];
const env = currentEnvironment();
/** A private build (a folder holding dist/, inside the repository) when set: start.sh builds and runs it. */
const BUILD_ROOT = env.LYOTRACE_BUILD_ROOT ?? env.E2E_BUILD_ROOT ?? REPO_ROOT;
/** Where start.sh keeps its data, and the simulator its ptys (scripts/lib.sh). */
const DATA_DIR = env.LYOTRACE_DATA_DIR ?? join(REPO_ROOT, '.data');
const SIM_DIR = join(DATA_DIR, 'demo-bridges', 'sim');

interface LoggerRow {
  id: string;
  protocol: LoggerProtocol;
  serial: string;
  approved: boolean;
}

/**
 * The README's first command, as someone types it: `npm start` (scripts/start.sh) in a terminal, then Ctrl-C.
 * It runs in its own process group, like a shell job, and Ctrl-C is SIGINT to that whole group. It reuses the
 * PostgreSQL and Redis that `npm test` brought up (start.sh only stops services it started itself) and the
 * development database `lyotrace`. The simulated loggers (one per demo location and one in the demo shipper)
 * must reach PostgreSQL through their site's bridge, in both runs, and leave no socat behind.
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
    const startedAt = new Date();
    const start: ManagedProcess = procs.spawn(`npm-start#${run}`, 'bash', ['scripts/start.sh'], {
      cwd: REPO_ROOT,
      env: childEnv({
        PORT: String(port),
        LYOTRACE_DIST_DIR: BUILD_ROOT === REPO_ROOT ? undefined : join(BUILD_ROOT, 'dist'),
      }),
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

    // Every simulated logger is registered, approved, in its place, and sends readings during this run.
    const admin = await http(`${base}/api/auth/login`, {
      body: { username: 'admin', password: 'demo-password-2026' },
    });
    const token = (admin.body as { accessToken: string }).accessToken;
    const loggers = await waitFor(
      'readings of every demo logger received in this run',
      async () => {
        const list = (await http(`${base}/api/loggers?limit=1000`, { token })).body as LoggerRow[];
        const demo = DEMO_LOGGERS.map((d) =>
          list.find((l) => l.protocol === d.protocol && l.serial === d.serial),
        );
        if (demo.some((l) => !l)) return undefined;
        for (const l of demo) {
          const detail = (await http(`${base}/api/loggers/${l!.id}`, { token })).body as {
            streams: { lastReceivedAt: string | null }[];
          };
          if (!detail.streams.some((st) => st.lastReceivedAt && new Date(st.lastReceivedAt) >= startedAt))
            return undefined;
        }
        return demo as LoggerRow[];
      },
      // A native demo logger samples once a minute: a second run may have to wait for its next record.
      90_000,
      1_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${start.tail(40)}`);
    });
    const places: { locationId: string | null; containerId: string | null }[] = [];
    for (const l of loggers) {
      expect(l.approved).toBe(true);
      const assignments = (await http(`${base}/api/loggers/${l.id}/assignments`, { token })).body as {
        to: string | null;
        locationId: string | null;
        containerId: string | null;
      }[];
      const open = assignments.filter((a) => a.to === null);
      expect(open).toHaveLength(1);
      places.push(open[0]!);
      const from = new Date(Date.now() - 8 * 86_400_000).toISOString();
      const to = new Date(Date.now() + 3_600_000).toISOString();
      const readings = await http(`${base}/api/loggers/${l.id}/readings?from=${from}&to=${to}&limit=5`, {
        token,
      });
      expect(readings.status).toBe(200);
      expect((readings.body as { items: unknown[] }).items.length).toBeGreaterThan(0);
    }
    // Five locations and the shipper, one logger each.
    expect(new Set(places.map((p) => p.locationId ?? p.containerId)).size).toBe(DEMO_LOGGERS.length);
    expect(places.filter((p) => p.containerId !== null)).toHaveLength(1);

    // The programs run, each in the job's process group: api, worker, the simulator, a bridge per site, and a
    // socat pty pair per simulated logger.
    const running = await waitFor(
      'api, worker, simulator and bridges running',
      () => {
        const found = appProcesses(start.pid);
        return APP_ENTRIES.every((e) => found.some((p) => p.cmdline.includes(e))) ? found : undefined;
      },
      10_000,
    );
    expect(running.every((p) => p.pgid === start.pid)).toBe(true);
    const demoSites = new Set(DEMO_LOGGERS.map((d) => d.site));
    expect(running.filter((p) => p.cmdline.includes(ENTRY.bridge))).toHaveLength(demoSites.size);
    const socats = listProcesses().filter(
      (p) => p.cmdline.startsWith('socat') && p.cmdline.includes(SIM_DIR),
    );
    expect(socats).toHaveLength(DEMO_LOGGERS.length);
    expect(socats.every((p) => p.pgid === start.pid)).toBe(true);

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
            (p.cmdline.startsWith('socat') && p.cmdline.includes(SIM_DIR)) ||
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
