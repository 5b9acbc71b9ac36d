import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentEnvironment } from '@lyotrace/config';
import { NativeLoggerPeer, pause, PtyPair, range, RecordingApi, until } from '../support/bridge-devices.js';
import {
  childEnv,
  ENTRY,
  type ManagedProcess,
  ProcessHarness,
  REPO_ROOT,
} from '../support/process-harness.js';

/**
 * The built bridge process (dist/firmware-bridge/src/main.js) on a real pty, killed with SIGKILL in the middle
 * of a bulk download, again and again, then restarted: nothing may be lost and nothing stored twice.
 * LYOTRACE_BUILD_ROOT points at another build folder (one holding dist/ and node_modules) when set.
 */
describe('bridge process: kill -9 mid-download', () => {
  const root = currentEnvironment().LYOTRACE_BUILD_ROOT ?? REPO_ROOT;
  const procs = new ProcessHarness();
  let dir: string;
  let pty: PtyPair;
  let api: RecordingApi;
  let peer: NativeLoggerPeer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lyo-bridge-e2e-'));
    pty = new PtyPair(join(dir, 'A'), join(dir, 'B'));
    await pty.start();
    api = new RecordingApi();
    await api.start();
    peer = new NativeLoggerPeer('LT-CRASH-01', 100_000);
    peer.attach(pty.b);
  });

  afterAll(async () => {
    await procs.killAll();
    peer.detach();
    await pty.stop();
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const bridge = (name: string): ManagedProcess =>
    procs.node(
      name,
      ENTRY.bridge,
      childEnv({
        BRIDGE_API_URL: api.url,
        BRIDGE_TOKEN: 'lyb_test',
        BRIDGE_SPOOL_DIR: join(dir, 'spool'),
        BRIDGE_DEVICES: JSON.stringify([{ name: 'fridge', protocol: 'lyotrace-native', path: pty.a }]),
        BRIDGE_UPLOAD_MAX_RECORDS: '700',
        LOG_LEVEL: 'info',
      }),
      { cwd: root },
    );

  // The API here is a recording server: this proves the bridge's side (spool, ACKs, re-upload bounded per kill).
  // That the real API and PostgreSQL store it exactly once across a SIGKILL: device-chain.e2e-spec.ts.
  it('loses no record and re-sends at most a batch per kill across repeated SIGKILLs, then stops cleanly', async () => {
    const TOTAL = 12_000;
    peer.log(TOTAL, false);
    const kills: { acked: number; stored: number }[] = [];
    for (const threshold of [1_500, 4_000, 7_000]) {
      const p = bridge(`bridge-${threshold}`);
      await until(`device acked past ${threshold}`, () => peer.acked >= threshold || undefined, 30_000).catch(
        (error: Error) => {
          throw new Error(`${error.message}\n${p.tail()}`);
        },
      );
      p.kill();
      await p.exited;
      kills.push({ acked: peer.acked, stored: api.stored.size });
      await pause(50);
    }
    // Every kill landed in the middle of the download.
    for (const k of kills) expect(k.acked).toBeLessThan(TOTAL);

    const last = bridge('bridge-final');
    await until('every record stored', () => api.stored.size >= TOTAL || undefined, 60_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}\n${last.tail()}`);
      },
    );
    await until('device fully acknowledged', () => peer.acked === TOTAL || undefined, 10_000);
    expect(api.seqs(peer.serial)).toEqual(range(1, TOTAL));
    // A replayed upload (killed between the API's commit and the spool's) is absorbed by the API's identity;
    // at most one batch per kill can be sent twice.
    expect(api.duplicates).toBeLessThanOrEqual(kills.length * 700);
    const temps = api.seqs(peer.serial).map((s) => api.stored.get(`${peer.serial}||${s}`)!.temperatureC);
    expect(temps.every((t, i) => t === (400 + ((i + 1) % 300)) / 100)).toBe(true);

    await until('status file shows an empty spool', () => {
      const status = JSON.parse(readFileSync(join(dir, 'spool', 'status.json'), 'utf8')) as {
        spool: { pendingRecords: number };
      };
      return status.spool.pendingRecords === 0 || undefined;
    });
    const exit = await last.stop('SIGTERM', 10_000);
    expect(exit).toMatchObject({ code: 0 });
    expect(last.lines('stdout').some((l) => /bridge: stopped/.test(l))).toBe(true);
  }, 120_000);

  it('a second bridge process on the same port reports the lock clearly', async () => {
    const first = bridge('bridge-a');
    await first.waitForLine(/device online: lyotrace-native\/LT-CRASH-01/, 15_000);
    const second = procs.node(
      'bridge-b',
      ENTRY.bridge,
      childEnv({
        BRIDGE_SPOOL_DIR: join(dir, 'spool-b'),
        BRIDGE_DEVICES: JSON.stringify([{ name: 'fridge', protocol: 'lyotrace-native', path: pty.a }]),
        BRIDGE_TOKEN: undefined,
      }),
      { cwd: root },
    );
    const line = await second.waitForLine(/is locked by another process/, 15_000);
    expect(line).toMatch(
      /ERROR: fridge: cannot open .*A is locked by another process \(is a second bridge using this port\?\)/,
    );
    // …and the same spool twice is refused outright.
    const third = procs.node(
      'bridge-c',
      ENTRY.bridge,
      childEnv({ BRIDGE_SPOOL_DIR: join(dir, 'spool'), BRIDGE_TOKEN: undefined }),
      { cwd: root },
    );
    expect(await third.exited).toMatchObject({ code: 1 });
    expect(third.lines('stderr').join('\n')).toMatch(/spool .* is in use by another bridge \(pid \d+\)/);
    await Promise.all([first.stop('SIGTERM'), second.stop('SIGTERM')]);
  }, 40_000);
});
