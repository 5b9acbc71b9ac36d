import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BridgeApiClient } from '../../firmware-bridge/src/api-client.js';
import { Bridge, type BridgeOptions } from '../../firmware-bridge/src/bridge.js';
import { createBridgeLog } from '../../firmware-bridge/src/bridge-log.js';
import { DEFAULT_SKEW } from '../../firmware-bridge/src/clock/skew-policy.js';
import { parseDeviceList } from '../../firmware-bridge/src/config/device-config.js';
import {
  NativeLoggerPeer,
  nativeFrame,
  pause,
  peerTemperature,
  PtyPair,
  range,
  RecordingApi,
  until,
} from '../support/bridge-devices.js';

/**
 * The bridge on real ptys (socat), against a scripted native logger written from PROTOCOL.md and a
 * recording stand-in for the ingest API. No PostgreSQL, no Redis: the bridge never touches them.
 */

interface RunningBridge {
  bridge: Bridge;
  lines: string[];
  stop(): Promise<void>;
}

function startBridge(
  spoolDir: string,
  api: RecordingApi,
  ports: object[],
  overrides: Partial<BridgeOptions> = {},
): RunningBridge {
  const lines: string[] = [];
  const bridge = new Bridge({
    spoolDir,
    spoolMaxBytes: 64 * 1024 * 1024,
    ports: parseDeviceList(JSON.stringify(ports)),
    api: new BridgeApiClient(api.url, 'lyb_test'),
    apiUrl: api.url,
    uploadMaxRecords: 500,
    skew: DEFAULT_SKEW,
    log: createBridgeLog('debug', (line) => lines.push(line)),
    supervisor: { minBackoffMs: 100, maxBackoffMs: 400 },
    uploadBackoffMs: { min: 50, max: 200 },
    statusIntervalMs: 200,
    ...overrides,
  });
  const stop = new AbortController();
  const running = bridge.run(stop.signal);
  return {
    bridge,
    lines,
    stop: async () => {
      stop.abort();
      await running;
    },
  };
}

const port0 = (b: RunningBridge) => b.bridge.status().ports[0]!;

describe('bridge ↔ native logger over a pty', () => {
  let dir: string;
  let pty: PtyPair;
  let api: RecordingApi;
  let peer: NativeLoggerPeer;
  let running: RunningBridge[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lyo-bridge-int-'));
    pty = new PtyPair(join(dir, 'A'), join(dir, 'B'));
    await pty.start();
    api = new RecordingApi();
    await api.start();
    peer = new NativeLoggerPeer();
    peer.attach(pty.b);
    running = [];
  });

  afterEach(async () => {
    for (const r of running) await r.stop();
    peer.detach();
    await pty.stop();
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const native = (name = 'fridge-1') => ({
    name,
    protocol: 'lyotrace-native',
    path: pty.a,
    pollIntervalMs: 500,
  });
  const start = (overrides: Partial<BridgeOptions> = {}, spool = join(dir, 'spool')): RunningBridge => {
    const r = startBridge(spool, api, [native()], overrides);
    running.push(r);
    return r;
  };

  it('downloads the backlog, then takes live records: everything uploaded once, ACKed only after spooling', async () => {
    peer.log(300, false);
    const b = start();
    await until('backlog uploaded', () => api.seqs(peer.serial).length === 300);
    peer.log(40);
    await until('live records uploaded', () => api.seqs(peer.serial).length === 340, 10_000);
    expect(api.seqs(peer.serial)).toEqual(range(1, 340));
    expect(api.duplicates).toBe(0);
    const stored = api.stored.get(`${peer.serial}||17`)!;
    expect(stored.temperatureC).toBe(peerTemperature(17) / 100);
    expect(stored.time).toBe(stored.deviceTime);
    // The device freed everything, and only what the bridge had spooled.
    await until('device acked', () => peer.acked === 340 || undefined);
    expect(peer.records).toHaveLength(0);
    expect(api.calls.some((c) => c.batch.live)).toBe(true);
    expect(api.calls.find((c) => c.batch.records[0]!.seq === 1)!.batch).toMatchObject({
      device: { protocol: 'lyotrace-native', serial: peer.serial, model: 'LYO-T1' },
      mission: '',
      live: false,
    });
    const status = port0(b);
    expect(status.devices[0]).toMatchObject({ serial: peer.serial, online: true, batteryPct: 90 });
    expect(b.lines.some((l) => /device online: lyotrace-native\/LT-TEST-0001/.test(l))).toBe(true);
  }, 30_000);

  it('corrects and flags a device clock that is off, then sets it once nothing is left on the device', async () => {
    peer.clockOffsetMs = -3_600_000;
    peer.log(5, false);
    const b = start();
    await until('uploaded', () => api.seqs(peer.serial).length === 5);
    const r = api.stored.get(`${peer.serial}||1`)!;
    expect(Date.parse(r.time) - Date.parse(r.deviceTime)).toBeGreaterThan(3_599_000);
    expect(r.flags).toEqual(['clock_skew', 'clock_corrected']);

    await until('clock set', () => peer.clockSets === 1 || undefined);
    expect(Math.abs(peer.clockOffsetMs)).toBeLessThan(1_000);
    peer.log(3);
    await until('records after the set', () => api.seqs(peer.serial).length === 8);
    const after = api.stored.get(`${peer.serial}||6`)!;
    expect(after.flags).toEqual([]);
    expect(after.time).toBe(after.deviceTime);
    expect(b.lines.some((l) => /clock of LT-TEST-0001 set to host time: .* off by -3600\.\d s/.test(l))).toBe(
      true,
    );
    expect(port0(b).devices[0]!.skewMs).toBeLessThan(1_000);
  }, 20_000);

  it('survives noise: each corruption is counted and skipped, the next good frame is read, nothing lost', async () => {
    peer.log(10, false);
    const b = start();
    await until('backlog', () => api.seqs(peer.serial).length === 10);
    const counters = () => port0(b).counters;

    peer.raw(Buffer.from('garbage \x00\x01\x02 bytes \xa5\xa5 between frames'));
    peer.log(1);
    const badCrc = peer.liveFrame({ seq: 999_999, timeS: 1, centiC: 0 });
    badCrc[badCrc.length - 1] = badCrc[badCrc.length - 1]! ^ 0xff;
    peer.raw(badCrc);
    peer.log(1);
    peer.raw(peer.liveFrame({ seq: 999_998, timeS: 1, centiC: 0 }).subarray(0, 12)); // truncated
    peer.log(1);
    peer.raw(Buffer.alloc(20_000, 0x41)); // a long line without any delimiter
    peer.log(1);
    peer.raw(nativeFrame(0xc7, 0, Buffer.from([1, 2, 3]))); // well formed, unknown type
    peer.log(1);

    await until('live records through the noise', () => api.seqs(peer.serial).length === 15, 10_000);
    expect(api.seqs(peer.serial)).toEqual(range(1, 15));
    await until(
      'counters',
      () => (counters().badChecksum >= 1 && counters().unknownMessages >= 1) || undefined,
    );
    const c = counters();
    expect(c.garbageBytes).toBeGreaterThan(20_000);
    expect(c.badChecksum).toBeGreaterThanOrEqual(1);
    expect(c.unknownMessages).toBe(1);
    expect(b.lines.some((l) => /garbage skipped: 67 61 72 62 61 67 65/.test(l))).toBe(true);
    expect(api.stored.has(`${peer.serial}||999999`)).toBe(false);
  }, 30_000);

  it('unplug/replug: offline and online events, reconnect, records logged meanwhile arrive, no loss', async () => {
    peer.log(20, false);
    const b = start();
    await until('first records', () => api.seqs(peer.serial).length === 20);

    peer.detach();
    await pty.stop();
    await until('offline event', () =>
      b.lines.some((l) => /device offline: lyotrace-native\/LT-TEST-0001/.test(l)),
    );
    expect(port0(b).devices[0]!.online).toBe(false);
    peer.log(30, false); // the logger keeps logging on its own while unplugged

    await pty.start();
    peer.attach(pty.b);
    await until('back online', () => port0(b).devices[0]?.online === true || undefined, 15_000);
    await until('records from the unplugged time', () => api.seqs(peer.serial).length === 50, 15_000);
    peer.log(5);
    await until('live again', () => api.seqs(peer.serial).length === 55, 10_000);
    expect(api.seqs(peer.serial)).toEqual(range(1, 55));
    expect(api.duplicates).toBe(0);
    const events = b.bridge.status().events.map((e) => e.kind);
    expect(events.filter((k) => k === 'online').length).toBeGreaterThanOrEqual(2);
    expect(events).toContain('offline');
    expect(port0(b).counters.reconnects).toBeGreaterThanOrEqual(1);
  }, 45_000);

  it('API down: the spool grows and the device is still ACKed; once up, it drains with no loss', async () => {
    api.down = true;
    peer.log(100, false);
    const b = start();
    await until('spooled', () => b.bridge.spool.stats().pendingRecords === 100 || undefined);
    await until('device acked from the spool', () => peer.acked === 100 || undefined);
    peer.log(25);
    await until('live spooled too', () => b.bridge.spool.stats().pendingRecords === 125 || undefined);
    expect(b.bridge.status().upload).toMatchObject({ reachable: false });
    expect(api.stored.size).toBe(0);

    api.down = false;
    await until('drained', () => b.bridge.spool.stats().pendingRecords === 0 || undefined, 15_000);
    expect(api.seqs(peer.serial)).toEqual(range(1, 125));
    // Live first: the 25 live records were uploaded before the 100 of the backlog had all gone.
    const firstLive = api.calls.findIndex((c) => c.batch.live);
    const lastBacklog = api.calls.map((c) => c.batch.live).lastIndexOf(false);
    expect(firstLive).toBeGreaterThanOrEqual(0);
    expect(firstLive).toBeLessThan(lastBacklog);
  }, 30_000);

  it('spool full: stops ACKing (the device keeps its data), raises an alarm, resumes when drained', async () => {
    api.down = true;
    peer.log(400, false);
    const b = start({ spoolMaxBytes: 16 * 1024 });
    await until('spool full alarm', () => b.lines.some((l) => /ALARM: spool full/.test(l)));
    await until('driver stalled', () => port0(b).stalled === 'spool full' || undefined);
    const held = b.bridge.spool.stats().pendingRecords;
    expect(held).toBeLessThan(400);
    expect(peer.acked).toBe(held);
    expect(peer.records.length).toBe(400 - held);
    expect(port0(b).stalled).toBe('spool full');

    api.down = false;
    await until('all uploaded', () => api.seqs(peer.serial).length === 400 || undefined, 30_000);
    expect(api.seqs(peer.serial)).toEqual(range(1, 400));
    await until('device emptied', () => peer.acked === 400 || undefined);
  }, 45_000);

  it('a second bridge on the same port fails with a clear message; the first keeps working', async () => {
    const first = start();
    peer.log(3, false);
    await until('first online', () => port0(first).devices[0]?.online === true || undefined);
    const second = start({}, join(dir, 'spool-2'));
    await until('second locked', () => port0(second).state === 'locked' || undefined);
    expect(port0(second).lastError).toMatch(
      /is locked by another process \(is a second bridge using this port\?\)/,
    );
    expect(
      second.lines.some((l) => /ERROR: fridge-1: cannot open .* is locked by another process/.test(l)),
    ).toBe(true);
    peer.log(4);
    await until('first still uploads', () => api.seqs(peer.serial).length === 7);
    expect(port0(second).devices).toHaveLength(0);
  }, 20_000);

  it('stops cleanly: the spool is closed, the lock released, the status file written', async () => {
    const b = start();
    peer.log(5, false);
    await until('uploaded', () => api.seqs(peer.serial).length === 5);
    await b.stop();
    running = running.filter((r) => r !== b);
    const files = readdirSync(join(dir, 'spool'));
    expect(files).toContain('status.json');
    expect(files).not.toContain('spool.lock');
    await pause(10);
  }, 20_000);
});
