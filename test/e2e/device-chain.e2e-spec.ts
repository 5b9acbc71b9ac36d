import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { currentEnvironment } from '@lyotrace/config';
import { LoggerProtocol, Role, SiteKind } from '@lyotrace/contracts';
import { BridgeCredentialService, type GapView } from '@lyotrace/services';
import {
  DeviceSimulator,
  ElitechLogger,
  ModbusProbe,
  NativeLogger,
  buildDeviceModel,
  parseDeviceSpec,
  realClock,
} from '../../firmware-bridge/simulator/index.js';
import { ApiHarness } from '../support/api-harness.js';
import { openTestDataSource } from '../support/database.js';
import { makeSite, makeUser } from '../support/factories.js';
import {
  childEnv,
  ENTRY,
  freePort,
  type ManagedProcess,
  pause,
  ProcessHarness,
  REPO_ROOT,
  waitFor,
} from '../support/process-harness.js';
import { createPtyPair, type PtyPair } from '../support/pty-pair.js';

/** A private build (a folder holding dist/ under the repository) when set; else the repository's dist/. */
const env = currentEnvironment();
const BUILD_ROOT = env.LYOTRACE_BUILD_ROOT ?? env.E2E_BUILD_ROOT ?? REPO_ROOT;

/** Native backlog: enough that a SIGKILL lands in the middle of its download. */
const NATIVE_BACKLOG = 20_000;
const ELITECH_BACKLOG = 2_000;

const hex = (bytes: number): string => randomBytes(bytes).toString('hex').toUpperCase();
const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

interface SimulatedDevice<M> {
  pair: PtyPair;
  sim: DeviceSimulator;
  model: M;
}

interface BridgeStatusFile {
  upload: { reachable: boolean | null } | null;
  spool: { pendingRecords: number };
  ports: {
    name: string;
    state: string;
    counters: {
      framesOk: number;
      garbageBytes: number;
      badChecksum: number;
      truncated: number;
      reconnects: number;
    };
  }[];
  events: { kind: string; message: string }[];
}

/**
 * Issue 5, end to end with nothing scripted: the device simulator (firmware-bridge/simulator, in this process,
 * real time) on socat ptys ↔ the BUILT bridge process ↔ the real API (ApiHarness on a fixed loopback port) ↔
 * PostgreSQL. Every check compares the device's own set of record identities with what PostgreSQL holds.
 * One bridge, one site, four ports: a native logger with a backlog, a native logger with a tiny ring, an
 * Elitech RC-5 with a mission to download, and a Modbus probe polled four times a second.
 */
describe('simulated devices → bridge process → API → PostgreSQL', () => {
  const procs = new ProcessHarness();
  const simLog: string[] = [];
  let dir: string;
  let port: number;
  let api: ApiHarness;
  let ds: DataSource;
  let adminToken: string;
  let bridgeToken: string;
  let native: SimulatedDevice<NativeLogger>;
  let ring: SimulatedDevice<NativeLogger>;
  let elitech: SimulatedDevice<ElitechLogger>;
  let modbus: SimulatedDevice<ModbusProbe>;
  let probeId: string;
  /** Valid Modbus replies the probe sent since the second bridge started: each is a reading to keep. */
  let answered = 0;
  let bridge: ManagedProcess;
  /** The prefilled records as the device holds them before anyone reads them: seq → temperature. */
  const backlog = new Map<number, number>();

  async function simulate<M>(raw: Record<string, unknown>): Promise<SimulatedDevice<M>> {
    const pair = await createPtyPair();
    const spec = parseDeviceSpec({ jitter: 0, ...raw });
    const model = buildDeviceModel(spec, realClock);
    const sim = new DeviceSimulator({
      model,
      path: pair.devicePath,
      faults: spec.faults,
      seed: spec.seed,
      tickEveryMs: 100,
      log: (line) => simLog.push(`${new Date().toISOString()} ${line}`),
    });
    await sim.start();
    return { pair, sim, model: model as M };
  }

  const startBridge = (name: string): ManagedProcess =>
    procs.node(
      name,
      join(BUILD_ROOT, ENTRY.bridge),
      childEnv({
        BRIDGE_API_URL: `http://127.0.0.1:${port}`,
        BRIDGE_TOKEN: bridgeToken,
        BRIDGE_SPOOL_DIR: join(dir, 'spool'),
        BRIDGE_UPLOAD_MAX_RECORDS: '700',
        BRIDGE_DEVICES: JSON.stringify([
          { name: 'fridge', protocol: 'lyotrace-native', path: native.pair.hostPath, pollIntervalMs: 2_000 },
          { name: 'ring', protocol: 'lyotrace-native', path: ring.pair.hostPath, pollIntervalMs: 2_000 },
          { name: 'shipper', protocol: 'elitech-rc', path: elitech.pair.hostPath, pollIntervalMs: 1_000 },
          {
            name: 'rs485',
            protocol: 'modbus-rtu',
            path: modbus.pair.hostPath,
            pollIntervalMs: 250,
            // The simulator shares this process's event loop with the API: a reply late by a busy moment must
            // still count as the answer it is (a stall beyond this would make "answered" ≠ "stored").
            replyTimeoutMs: 1_000,
            probes: [{ slave: 1, id: probeId }],
          },
        ]),
        LOG_LEVEL: 'info',
      }),
    );

  const why = (): string =>
    `\n${bridge?.tail(40) ?? ''}\n  simulator:\n${simLog
      .slice(-15)
      .map((l) => `    ${l}`)
      .join('\n')}`;

  /** Waits with the bridge's and the simulator's last lines in the error. */
  const eventually = <T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 20_000) =>
    waitFor(what, check, ms, 100).catch((error: Error) => {
      throw new Error(`${error.message}${why()}`);
    });

  const loggerId = async (protocol: LoggerProtocol, serial: string): Promise<string | undefined> =>
    (
      await ds.query<
        {
          id: string;
        }[]
      >('SELECT id FROM logger WHERE protocol = $1 AND serial = $2', [protocol, serial])
    )[0]?.id;

  /** The stored sequences of a device (one mission, or the only one), ascending, as numbers. */
  const storedSeqs = async (protocol: LoggerProtocol, serial: string, mission?: string): Promise<number[]> =>
    (
      await ds.query<{ seq: number }[]>(
        `SELECT r.seq::int AS seq FROM reading r
           JOIN logger l ON l.id = r.logger_id JOIN reading_stream s ON s.id = r.stream_id
          WHERE l.protocol = $1 AND l.serial = $2 AND ($3::text IS NULL OR s.mission = $3)
          ORDER BY r.seq`,
        [protocol, serial, mission ?? null],
      )
    ).map((r) => r.seq);

  /** The newest stream of a device (a Modbus probe's numbering starts again with each bridge run). */
  const latestMission = async (protocol: LoggerProtocol, serial: string): Promise<string | undefined> =>
    (
      await ds.query<{ mission: string }[]>(
        `SELECT s.mission FROM reading_stream s JOIN logger l ON l.id = s.logger_id
          WHERE l.protocol = $1 AND l.serial = $2 ORDER BY s.created_at DESC, s.id DESC LIMIT 1`,
        [protocol, serial],
      )
    )[0]?.mission;

  const probeSeqs = async (): Promise<number[]> =>
    storedSeqs(LoggerProtocol.ModbusRtu, probeId, await latestMission(LoggerProtocol.ModbusRtu, probeId));

  const status = (): BridgeStatusFile =>
    JSON.parse(readFileSync(join(dir, 'spool', 'status.json'), 'utf8')) as BridgeStatusFile;

  /** Native exactly-once: everything the device numbered is stored once, nothing else, all acknowledged. */
  const nativeSettled = async (device: SimulatedDevice<NativeLogger>): Promise<number[] | undefined> => {
    const { next, acked } = device.model.state;
    const seqs = await storedSeqs(LoggerProtocol.Native, device.model.serial);
    const produced = next - 1;
    return acked === produced && seqs.length > 0 && seqs[seqs.length - 1] === produced ? seqs : undefined;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lyo-chain-'));
    port = await freePort();
    api = await ApiHarness.start({}, { port });
    ds = await openTestDataSource();
    const site = await makeSite(api.app, SiteKind.Warehouse);
    const admin = await makeUser(api.app, Role.Admin);
    adminToken = await api.login(admin.username, admin.password);
    bridgeToken = (
      await api.app
        .get(BridgeCredentialService)
        .issue({ actor: { kind: 'system', name: 'device-chain e2e' } }, site.id, `chain-${hex(3)}`)
    ).token;

    native = await simulate<NativeLogger>({
      device: 'native',
      serial: `LTN-${hex(5)}`,
      interval: 1,
      prefill: NATIVE_BACKLOG,
      capacity: 50_000,
    });
    for (const r of native.model.records()) backlog.set(r.seq, r.centiC / 100);
    // Three records of memory: an unplug of a few seconds overwrites records the bridge never read.
    ring = await simulate<NativeLogger>({
      device: 'native',
      serial: `LTR-${hex(5)}`,
      interval: 1,
      capacity: 3,
    });
    elitech = await simulate<ElitechLogger>({
      device: 'elitech-rc5',
      serial: `E${hex(4)}`.slice(0, 9),
      interval: 60,
      prefill: ELITECH_BACKLOG,
      temperature: 4.5,
      amplitude: 0,
    });
    // Nothing more is logged during the test: the mission downloaded is exactly the prefill.
    elitech.model.setMissRate(1);
    modbus = await simulate<ModbusProbe>({ device: 'modbus', serial: 'MD02-CHAIN', temperature: 5 });
    probeId = `chain-probe-${hex(3).toLowerCase()}`;
    modbus.sim.on('sent', (frame, noise) => {
      if (frame[1] === 0x04 && noise === null) answered += 1;
    });
  }, 60_000);

  afterAll(async () => {
    // Every step even if one fails: no bridge, socat or open port may outlive the test.
    const steps: (() => Promise<unknown>)[] = [() => procs.killAll()];
    for (const d of [native, ring, elitech, modbus])
      if (d)
        steps.push(
          () => d.sim.stop(),
          () => d.pair.close(),
        );
    if (ds) steps.push(() => ds.destroy());
    if (api) steps.push(() => api.close());
    for (const step of steps) await step().catch((error: Error) => console.error(error.message));
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('native backlog (bridge killed with SIGKILL mid-download), live records, Elitech download, Modbus polls: each reading stored exactly once', async () => {
    const first = startBridge('bridge-1');
    bridge = first;
    // Polled tightly: the download runs at thousands of records a second.
    await waitFor(
      'the native logger acknowledged part of its backlog',
      () => (native.model.state.acked >= 1_500 ? true : undefined),
      20_000,
      5,
    );
    first.kill();
    await first.exited;
    const ackedAtKill = native.model.state.acked;
    expect(ackedAtKill).toBeLessThan(NATIVE_BACKLOG);
    // A Modbus reply in flight when the bridge died is nobody's reading: count from a quiet line.
    await pause(300);
    answered = 0;

    bridge = startBridge('bridge-2');
    await bridge.waitForLine(/torn tail|device online: lyotrace-native/, 15_000);
    await eventually(
      'the whole native backlog stored',
      async () => {
        const seqs = await storedSeqs(LoggerProtocol.Native, native.model.serial);
        return seqs.length >= NATIVE_BACKLOG + 3 ? seqs : undefined;
      },
      40_000,
    );
    // Live records arrived as live batches, not only by download.
    const nativeId = (await loggerId(LoggerProtocol.Native, native.model.serial))!;
    const liveBatches = await ds.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM ingest_batch WHERE logger_id = $1 AND live',
      [nativeId],
    );
    expect(liveBatches[0]!.n).toBeGreaterThan(0);

    // Quiet the device (it misses its samples from now on) and compare: the device's set == the stored set.
    native.model.setMissRate(1);
    const seqs = await eventually('native: every record stored and acknowledged', () =>
      nativeSettled(native),
    );
    expect(seqs).toEqual(range(1, native.model.state.next - 1));
    const rows = await ds.query<{ seq: number; t: number }[]>(
      'SELECT seq::int AS seq, temperature_c AS t FROM reading WHERE logger_id = $1 AND seq <= $2',
      [nativeId, NATIVE_BACKLOG],
    );
    expect(rows).toHaveLength(NATIVE_BACKLOG);
    expect(rows.filter((r) => backlog.get(r.seq) !== r.t)).toEqual([]);
    native.model.setMissRate(0);

    // Elitech: the mission's indexes 0…count−1, once each, at the logged temperature.
    const { count, startMs } = elitech.model.held;
    expect(count).toBe(ELITECH_BACKLOG);
    // The logger's clock has whole seconds: the mission start it reports (the identity namespace) is truncated.
    const mission = new Date(Math.floor(startMs! / 1000) * 1000).toISOString();
    const elitechSeqs = await eventually('the Elitech mission stored', async () => {
      const s = await storedSeqs(LoggerProtocol.Elitech, elitech.model.serial, mission);
      return s.length >= count ? s : undefined;
    });
    expect(elitechSeqs).toEqual(range(0, count - 1));
    const [temps] = await ds.query<{ lo: number; hi: number; first: Date }[]>(
      `SELECT min(temperature_c) AS lo, max(temperature_c) AS hi, min(device_time) AS first
         FROM reading r JOIN logger l ON l.id = r.logger_id WHERE l.serial = $1`,
      [elitech.model.serial],
    );
    expect(temps).toMatchObject({ lo: 4.5, hi: 4.5 });
    expect(temps!.first.toISOString()).toBe(mission);

    // Modbus: one reading per answered poll of this bridge run, none twice, no holes (it answered every one).
    modbus.model.setMissRate(1);
    await pause(600);
    const polls = await eventually('every answered Modbus poll stored', async () => {
      const s = await probeSeqs();
      return answered >= 5 && s.length === answered ? s : undefined;
    });
    expect(new Set(polls).size).toBe(polls.length);
    modbus.model.setMissRate(0);
  }, 90_000);

  it('noise on the line is counted and skipped; the next good frame is read and nothing is lost', async () => {
    const before = status().ports.find((p) => p.name === 'fridge')!.counters;
    for (const kind of ['garbage', 'bad-check', 'truncated', 'long-line'] as const) {
      native.sim.injectNoise(kind);
      await pause(1_300);
    }
    const after = await eventually('the noise counted', () => {
      const c = status().ports.find((p) => p.name === 'fridge')!.counters;
      // A long line is 4 KiB without a frame start, all of it skipped as garbage.
      return c.badChecksum > before.badChecksum &&
        c.truncated > before.truncated &&
        c.garbageBytes > before.garbageBytes + 4_000
        ? c
        : undefined;
    });
    expect(after.framesOk).toBeGreaterThan(before.framesOk);
    native.model.setMissRate(1);
    const seqs = await eventually('native: nothing lost to the noise', () => nativeSettled(native));
    expect(seqs).toEqual(range(1, native.model.state.next - 1));
    native.model.setMissRate(0);
  }, 30_000);

  it('unplug and replug: offline/online events, reconnect, no loss; records the device overwrote and polls the probe missed become gaps', async () => {
    const since = Date.now();
    const gapsOf = async (id: string): Promise<GapView[]> => {
      const res = await api.request<GapView[]>('GET', `/api/loggers/${id}/gaps?open=false`, {
        token: adminToken,
      });
      expect(res.status).toBe(200);
      return res.body;
    };
    await eventually('the ring logger read live', async () =>
      (await storedSeqs(LoggerProtocol.Native, ring.model.serial)).length >= 2 ? true : undefined,
    );
    const before = await probeSeqs();
    const missedBefore = range(before[0]!, before[before.length - 1]!).filter((s) => !before.includes(s));
    await Promise.all([native.pair.unplug(), ring.pair.unplug()]);
    // The probe misses its next two reads: one poll (tried twice) without an answer, a hole in the poll count.
    modbus.model.missSamples(2);
    for (const d of [native, ring])
      await bridge.waitForLine(new RegExp(`device offline: lyotrace-native/${d.model.serial}`), 10_000, {
        since,
      });
    await pause(6_000); // six samples or more each: the big ring keeps them, the small one overwrites the oldest
    await Promise.all([native.pair.replug(), ring.pair.replug()]);
    for (const d of [native, ring])
      await bridge.waitForLine(new RegExp(`device online: lyotrace-native/${d.model.serial}`), 25_000, {
        since,
      });

    // The big logger: no loss across the unplug.
    native.model.setMissRate(1);
    const seqs = await eventually('native: the unplugged minutes downloaded', () => nativeSettled(native));
    expect(seqs).toEqual(range(1, native.model.state.next - 1));
    native.model.setMissRate(0);
    // status.json is rewritten every second: wait for the one written after the reconnect.
    const after = await eventually('the reconnect in the status file', () => {
      const s = status();
      return s.ports.find((p) => p.name === 'fridge')!.counters.reconnects >= 1 ? s : undefined;
    });
    const unplugged = after.events.filter((e) => e.message.includes(native.model.serial)).map((e) => e.kind);
    expect(unplugged.slice(-2)).toEqual(['offline', 'online']);

    // The small ring: what it still held is stored; what it overwrote is exactly the API's gap record(s).
    ring.model.setMissRate(1);
    const ringSeqs = await eventually('ring: everything it still held stored', async () => {
      const { next, acked } = ring.model.state;
      const s = await storedSeqs(LoggerProtocol.Native, ring.model.serial);
      return acked === next - 1 && s[s.length - 1] === next - 1 ? s : undefined;
    });
    // From its first stored record: what the ring overwrote before the bridge ever read it is no gap to the
    // API (nothing below a stream's first record is missing), only to the bridge's log.
    const produced = range(ringSeqs[0]!, ring.model.state.next - 1);
    const lost = produced.filter((s) => !ringSeqs.includes(s));
    expect(lost.length).toBeGreaterThanOrEqual(2);
    const ringGaps = await gapsOf((await loggerId(LoggerProtocol.Native, ring.model.serial))!);
    const open = ringGaps.filter((g) => g.closedAt === null);
    expect(open.flatMap((g) => range(g.fromSeq, g.toSeq))).toEqual(lost);
    await bridge.waitForLine(/lost records \d+–\d+ \(ring wrapped before download\)/, 5_000, { since });

    // The probe: the polls it did not answer are gaps; every poll it answered is stored once.
    const mission = (await latestMission(LoggerProtocol.ModbusRtu, probeId))!;
    const probeLoggerId = (await loggerId(LoggerProtocol.ModbusRtu, probeId))!;
    const { polls, missing } = await eventually('the missed polls followed by an answered one', async () => {
      const stored = await probeSeqs();
      const holes = range(stored[0]!, stored[stored.length - 1]!).filter((s) => !stored.includes(s));
      return holes.length > missedBefore.length ? { polls: stored, missing: holes } : undefined;
    });
    const probeGaps = (await gapsOf(probeLoggerId)).filter(
      (g) => g.mission === mission && g.closedAt === null,
    );
    expect(probeGaps.flatMap((g) => range(g.fromSeq, g.toSeq))).toEqual(missing);
    expect(new Set(polls).size).toBe(polls.length);
  }, 60_000);

  it('API down for a while: the spool grows, then drains when the API is back; no loss', async () => {
    await api.close();
    const grown = await eventually('the spool holding readings while the API is away', () => {
      const s = status();
      return s.upload?.reachable === false && s.spool.pendingRecords >= 8 ? s : undefined;
    });
    expect(grown.spool.pendingRecords).toBeGreaterThanOrEqual(8);
    await pause(2_000);
    expect(status().spool.pendingRecords).toBeGreaterThan(grown.spool.pendingRecords);

    api = await ApiHarness.start({}, { port });
    await eventually(
      'the spool drained',
      () => {
        const s = status();
        return s.upload?.reachable === true && s.spool.pendingRecords <= 5 ? true : undefined;
      },
      30_000,
    );
    native.model.setMissRate(1);
    modbus.model.setMissRate(1);
    const seqs = await eventually('native: nothing lost to the outage', () => nativeSettled(native));
    expect(seqs).toEqual(range(1, native.model.state.next - 1));
    await pause(600);
    const polls = await eventually('Modbus: every answered poll stored', async () => {
      const s = await probeSeqs();
      return s.length === answered ? s : undefined;
    });
    expect(new Set(polls).size).toBe(answered);
    native.model.setMissRate(0);
    modbus.model.setMissRate(0);
  }, 60_000);

  it('a second bridge on the same port fails with a clear message; the first stops cleanly', async () => {
    const second = procs.node(
      'bridge-second',
      join(BUILD_ROOT, ENTRY.bridge),
      childEnv({
        BRIDGE_SPOOL_DIR: join(dir, 'spool-second'),
        BRIDGE_DEVICES: JSON.stringify([
          { name: 'fridge', protocol: 'lyotrace-native', path: native.pair.hostPath },
        ]),
        BRIDGE_TOKEN: undefined,
      }),
    );
    expect(await second.waitForLine(/is locked by another process/, 15_000)).toMatch(
      /ERROR: fridge: cannot open .* is locked by another process \(is a second bridge using this port\?\)/,
    );
    await second.stop('SIGTERM');
    const exit = await bridge.stop('SIGTERM', 10_000);
    expect(exit).toMatchObject({ code: 0 });
  }, 30_000);
});
