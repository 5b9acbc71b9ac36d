import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BridgeApiClient } from '../../firmware-bridge/src/api-client.js';
import { Bridge } from '../../firmware-bridge/src/bridge.js';
import { createBridgeLog } from '../../firmware-bridge/src/bridge-log.js';
import { DEFAULT_SKEW } from '../../firmware-bridge/src/clock/skew-policy.js';
import { parseDeviceList } from '../../firmware-bridge/src/config/device-config.js';
import {
  ElitechPeer,
  ModbusBusPeer,
  PtyPair,
  range,
  RecordingApi,
  until,
} from '../support/bridge-devices.js';

/** Elitech and Modbus RTU drivers over real ptys, each against a scripted device written from the spec. */
describe('bridge ↔ Elitech logger and Modbus probes over ptys', () => {
  let dir: string;
  let pty: PtyPair;
  let api: RecordingApi;
  let stop: AbortController;
  let running: Promise<void> | undefined;
  let lines: string[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lyo-bridge-em-'));
    pty = new PtyPair(join(dir, 'A'), join(dir, 'B'));
    await pty.start();
    api = new RecordingApi();
    await api.start();
    stop = new AbortController();
    lines = [];
  });

  afterEach(async () => {
    stop.abort();
    await running;
    await pty.stop();
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function start(ports: object[]): Bridge {
    const bridge = new Bridge({
      spoolDir: join(dir, 'spool'),
      spoolMaxBytes: 16 * 1024 * 1024,
      ports: parseDeviceList(JSON.stringify(ports)),
      api: new BridgeApiClient(api.url, 'lyb_test'),
      apiUrl: api.url,
      uploadMaxRecords: 1000,
      skew: DEFAULT_SKEW,
      log: createBridgeLog('debug', (l) => lines.push(l)),
      supervisor: { minBackoffMs: 100, maxBackoffMs: 400 },
      uploadBackoffMs: { min: 50, max: 200 },
    });
    running = bridge.run(stop.signal);
    return bridge;
  }

  it('Elitech: pages, timeline from start + index × interval, skew corrected, only new records next poll', async () => {
    const peer = new ElitechPeer('EL-000042', 40, 300);
    for (let i = 0; i < 250; i++) peer.values.push(2 + (i % 60) / 10);
    peer.values[7] = -99.9; // outside the RC-4's rated −30…60 °C: a fault, not a temperature
    peer.clockOffsetMs = 120_000;
    peer.corruptNext = 2; // handshake (its checksum is not needed) and device info: counted, retried
    peer.attach(pty.b);
    const bridge = start([
      {
        name: 'shipper',
        protocol: 'elitech-rc',
        path: pty.a,
        pollIntervalMs: 300,
        calibrationDue: '2099-01-01',
      },
    ]);
    const mission = new Date(peer.startMs).toISOString();
    const key = (i: number) => `EL-000042|${mission}|${i}`;
    await until('first download', () => api.stored.size === 250, 15_000);
    const r = api.stored.get(key(10))!;
    expect(r.deviceTime).toBe(new Date(peer.startMs + 10 * 300_000).toISOString());
    expect(Date.parse(r.deviceTime) - Date.parse(r.time)).toBeGreaterThan(118_000);
    expect(r.flags).toEqual(['clock_skew', 'clock_corrected']);
    expect(r.temperatureC).toBeCloseTo(3.0, 5);
    expect(api.stored.get(key(7))).toMatchObject({
      temperatureC: null,
      flags: expect.arrayContaining(['sensor_fault']),
    });
    expect(api.calls[0]!.batch).toMatchObject({
      device: { protocol: 'elitech-rc', serial: 'EL-000042', model: 'RC-4' },
      live: false,
    });

    for (let i = 0; i < 30; i++) peer.values.push(5);
    await until('next poll adds only the new records', () => api.stored.size === 280, 10_000);
    expect(api.duplicates).toBe(0);
    const status = bridge.status().ports[0]!;
    expect(status.counters.badChecksum).toBeGreaterThanOrEqual(1);
    expect(status.devices[0]).toMatchObject({ serial: 'EL-000042', online: true });
    expect([...api.stored.keys()].map((k) => Number(k.split('|')[2])).sort((a, b) => a - b)).toEqual(
      range(0, 279),
    );
    // Its clock says far more intervals have passed than it holds records: a hole it cannot place.
    expect(lines.some((l) => /EL-000042 holds 2\d\d records but \d+ intervals passed/.test(l))).toBe(true);
    peer.detach();
  }, 30_000);

  it('Elitech loop recording: a full logger that drops its oldest records stays one mission, no re-numbering', async () => {
    const peer = new ElitechPeer('EL-LOOP-1', 40, 60);
    for (let i = 0; i < 16_000; i++) peer.values.push(4 + (i % 10) / 10);
    peer.attach(pty.b);
    start([{ name: 'loop', protocol: 'elitech-rc', path: pty.a, pollIntervalMs: 300 }]);
    const mission = new Date(peer.startMs).toISOString();
    await until('the full memory', () => api.stored.size === 16_000 || undefined, 20_000);

    // 25 new samples: the 25 oldest are overwritten and the start moves 25 intervals on.
    peer.values.splice(0, 25);
    for (let i = 0; i < 25; i++) peer.values.push(9.9);
    peer.startMs += 25 * 60_000;
    await until('the 25 new records', () => api.stored.size === 16_025 || undefined, 10_000);
    expect(api.duplicates).toBe(0);
    expect(api.calls.every((c) => c.batch.mission === mission)).toBe(true);
    const newest = api.stored.get(`EL-LOOP-1|${mission}|16024`)!;
    expect(newest.temperatureC).toBe(9.9);
    expect(newest.deviceTime).toBe(new Date(Date.parse(mission) + 16_024 * 60_000).toISOString());
    peer.detach();
  }, 40_000);

  it('Modbus: polls each probe, survives noise and truncated replies, marks an absent probe offline', async () => {
    const bus = new ModbusBusPeer();
    bus.slaves.set(1, [30.5, 41.2]);
    bus.slaves.set(3, [-20.5, 55]);
    bus.attach(pty.b);
    const bridge = start([
      {
        name: 'rs485',
        protocol: 'modbus-rtu',
        path: pty.a,
        pollIntervalMs: 150,
        replyTimeoutMs: 150,
        probes: [
          { slave: 1, id: 'room-probe' },
          { slave: 2, id: 'missing-probe' },
          { slave: 3, id: 'cold-probe' },
        ],
      },
    ]);
    await until(
      'readings from both present probes',
      () => (api.seqs('room-probe').length >= 2 && api.seqs('cold-probe').length >= 2) || undefined,
      10_000,
    );
    const first = [...api.stored.entries()].find(([k]) => k.startsWith('room-probe|'))![1];
    expect(first).toMatchObject({ temperatureC: 30.5, flags: [] });
    expect((first as { humidityPct?: number }).humidityPct).toBe(41.2);
    expect([...api.stored.entries()].find(([k]) => k.startsWith('cold-probe|'))![1].temperatureC).toBe(-20.5);

    bus.script = [Buffer.from([0x00, 0xff, 0x01, 0x04]), 'truncate', Buffer.from('noise')];
    bus.slaves.set(1, [-127, 0]); // a broken thermocouple's sentinel: out of the rated range
    const before = api.seqs('room-probe').length;
    await until(
      'readings continue after the noise',
      () => api.seqs('room-probe').length >= before + 3 || undefined,
      10_000,
    );
    const fault = [...api.stored.entries()]
      .filter(([k]) => k.startsWith('room-probe|'))
      .map(([, v]) => v)
      .find((v) => v.temperatureC === null);
    expect(fault?.flags).toContain('sensor_fault');
    const status = bridge.status().ports[0]!;
    expect(status.counters.garbageBytes).toBeGreaterThan(0);
    expect(status.devices.find((d) => d.serial === 'missing-probe')).toBeUndefined();
    expect(status.devices.find((d) => d.serial === 'room-probe')).toMatchObject({ online: true });
    expect(status.counters.timeouts).toBeGreaterThan(0);
    // Seqs of a probe are the bridge's poll counter, from 0, without holes.
    const seqs = api.seqs('room-probe');
    expect(seqs).toEqual(range(0, seqs.length - 1));
    expect(api.calls[0]!.batch.mission).toMatch(/^bridge-run-/);

    bus.slaves.delete(3);
    await until(
      'offline after repeated silence',
      () => lines.some((l) => /device offline: modbus-rtu\/cold-probe/.test(l)),
      10_000,
    );
    bus.detach();
  }, 30_000);
});
