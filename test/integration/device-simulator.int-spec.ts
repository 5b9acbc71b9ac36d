import { FixedClock } from '@lyotrace/domain';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeviceSimulator,
  NativeType,
  SimulatorFleet,
  buildDeviceModel,
  crc16Modbus,
  elitechChecksum,
  parseDeviceSpec,
  withElitechChecksum,
} from '../../firmware-bridge/simulator/index.js';
import { type PtyPair, TtyEnd, createPtyPair } from '../support/pty-pair.js';

/*
 * The simulator on real ptys (socat): a test plays the host, writes raw request bytes to the other end and
 * checks the bytes that come back. Request frames are written out by hand here, not with the simulator's
 * encoders, so that the test reads the wire independently of the code under test.
 */

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);

interface Rig {
  pair: PtyPair;
  host: TtyEnd;
  sim: DeviceSimulator;
  clock: FixedClock;
}

const rigs: Rig[] = [];

async function rig(raw: Record<string, unknown>, options: { tickEveryMs?: number } = {}): Promise<Rig> {
  const pair = await createPtyPair();
  const clock = new FixedClock(new Date(T0));
  const spec = parseDeviceSpec({ jitter: 0, amplitude: 0, ...raw });
  const sim = new DeviceSimulator({
    model: buildDeviceModel(spec, clock),
    path: pair.devicePath,
    faults: spec.faults,
    seed: 11,
    ...(options.tickEveryMs ? { tickEveryMs: options.tickEveryMs } : {}),
  });
  await sim.start();
  const host = new TtyEnd(pair.hostPath);
  const made = { pair, host, sim, clock };
  rigs.push(made);
  return made;
}

afterEach(async () => {
  for (const { pair, host, sim } of rigs.splice(0)) {
    host.close();
    await sim.stop();
    await pair.close();
  }
});

/** A native frame built by hand from PROTOCOL.md §1 (CRC-16/CCITT-FALSE computed bit by bit here). */
function nativeRequest(type: number, tag: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.from([0xa5, 0x01, type, tag, payload.length & 0xff, payload.length >> 8, 0]);
  header[6] = ~(1 + type + tag + (payload.length & 0xff) + (payload.length >> 8)) & 0xff;
  const body = Buffer.concat([header, payload]);
  let crc = 0xffff;
  for (const byte of body.subarray(1)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return Buffer.concat([body, Buffer.from([crc & 0xff, crc >> 8])]);
}

/** Reads one native frame (SOF … CRC) off the host end, skipping nothing. */
async function readNative(
  host: TtyEnd,
  timeoutMs = 2000,
): Promise<{ type: number; tag: number; payload: Buffer }> {
  const header = await host.read(7, timeoutMs);
  expect(header[0]).toBe(0xa5);
  const length = header.readUInt16LE(4);
  const rest = await host.read(length + 2, timeoutMs);
  return { type: header[2] ?? 0, tag: header[3] ?? 0, payload: rest.subarray(0, length) };
}

describe('simulated devices on a socat pty pair', () => {
  it('Elitech RC-4: handshake, device info, header and every page of a prefilled logger', async () => {
    const { host } = await rig({
      device: 'elitech-rc4',
      serial: 'EL00004242',
      prefill: 250,
      temperature: -18.5,
    });
    host.write(hex('CC 00 0A 00 D6'));
    expect(await host.read(3)).toEqual(hex('55 A5 FA'));

    host.write(hex('CC 00 06 00 D2'));
    const info = await host.read(160);
    expect(info[159]).toBe(elitechChecksum(info, 159));
    expect(info[3]).toBe(40);
    expect(info.readUInt16BE(29)).toBe(250);
    expect(info.subarray(138, 148).toString('latin1')).toBe('EL00004242');

    host.write(hex('33 01 01 00 35'));
    const header = await host.read(11);
    expect(header.readUInt16BE(1)).toBe(250);
    const start = Date.UTC(
      header.readUInt16BE(3),
      (header[5] ?? 0) - 1,
      header[6],
      header[7],
      header[8],
      header[9],
    );
    expect(start).toBe(T0 - 249 * 60_000);

    const values: number[] = [];
    for (let page = 0; page < 3; page++) {
      host.write(withElitechChecksum([0x33, 0x01, 0x02, page]));
      const n = Math.min(100, 250 - page * 100);
      const reply = await host.read(2 + n * 2);
      expect(reply[reply.length - 1]).toBe(elitechChecksum(reply, reply.length - 1));
      for (let i = 0; i < n; i++) values.push(reply.readInt16BE(1 + i * 2));
    }
    expect(values).toHaveLength(250);
    expect(new Set(values)).toEqual(new Set([-185]));
  });

  it('Modbus probe: the documented request gets the documented reply; an illegal register gets exception 02', async () => {
    const { host, sim } = await rig({ device: 'modbus' });
    sim.model.setTemperature(30.5);
    host.write(hex('01 04 00 01 00 01 60 0A'));
    expect(await host.read(7)).toEqual(hex('01 04 02 01 31 79 74'));
    sim.model.setTemperature(-20.5);
    host.write(hex('01 04 00 01 00 01 60 0A'));
    expect(await host.read(7)).toEqual(hex('01 04 02 FF 33 B8 D5'));

    const bad = hex('01 04 00 09 00 01');
    host.write(Buffer.concat([bad, Buffer.from([crc16Modbus(bad) & 0xff, crc16Modbus(bad) >> 8])]));
    const exception = await host.read(5);
    expect(exception.subarray(0, 3)).toEqual(hex('01 84 02'));
    expect(exception.readUInt16LE(3)).toBe(crc16Modbus(exception, 3));
  });

  it('native logger: 43 200 prefilled records download in order, ACK frees them, live records follow', async () => {
    const { host, sim, clock } = await rig({ device: 'native', serial: 'LTN-0042', prefill: 43_200 });
    host.write(nativeRequest(NativeType.identify, 1));
    const id = await readNative(host);
    expect(id).toMatchObject({ type: 0x81, tag: 1 });
    expect(id.payload.subarray(0, 8).toString('latin1')).toBe('LTN-0042');
    expect([id.payload.readUInt32LE(54), id.payload.readUInt32LE(58)]).toEqual([1, 43_201]);

    let cursor = 1;
    let tag = 2;
    let lastTime = 0;
    while (cursor < 43_201) {
      const request = Buffer.alloc(5);
      request.writeUInt32LE(cursor, 0);
      request[4] = 64;
      host.write(nativeRequest(NativeType.download, tag, request));
      const reply = await readNative(host);
      expect(reply).toMatchObject({ type: 0x83, tag });
      const count = reply.payload[8] ?? 0;
      for (let i = 0; i < count; i++) {
        const record = reply.payload.subarray(9 + i * 14, 23 + i * 14);
        expect(record.readUInt32LE(0)).toBe(cursor);
        expect(record.readUInt32LE(4) - lastTime).toBe(lastTime === 0 ? record.readUInt32LE(4) : 60);
        lastTime = record.readUInt32LE(4);
        cursor++;
      }
      tag = (tag % 255) + 1;
    }
    expect(lastTime).toBe(T0 / 1000);

    const upTo = Buffer.alloc(4);
    upTo.writeUInt32LE(43_200);
    host.write(nativeRequest(NativeType.ack, 99, upTo));
    const ack = await readNative(host);
    expect([ack.payload.readUInt32LE(0), ack.payload.readUInt32LE(4)]).toEqual([43_200, 43_201]);

    clock.advance(60_000);
    sim.tick();
    const live = await readNative(host);
    expect([live.type, live.tag, live.payload.readUInt32LE(8)]).toEqual([0xc0, 0, 43_201]);
    expect(Number(live.payload.readBigInt64LE(0))).toBe(T0 + 60_000);
    // PROTOCOL.md §3.8: a host silent for more than 60 s is no longer pushed to.
    clock.advance(60_000);
    sim.tick();
    expect(await host.readUntilQuiet(300)).toHaveLength(0);
  }, 60_000);

  it('noise: garbage before a reply, a bad checksum, a truncated reply, a long line without a frame start', async () => {
    const { host, sim } = await rig({ device: 'elitech-rc4' });
    const handshake = hex('CC 00 0A 00 D6');

    sim.injectNoise('garbage');
    host.write(handshake);
    const noisy = await host.until((b) => b.length >= 4 && b.subarray(-3).equals(hex('55 A5 FA')));
    expect(noisy.length).toBeGreaterThan(3);
    host.discard();

    sim.injectNoise('bad-check');
    host.write(handshake);
    expect(await host.read(3)).toEqual(hex('55 A5 FB'));

    sim.injectNoise('truncated');
    host.write(handshake);
    const cut = await host.readUntilQuiet(200);
    expect(cut.length).toBeGreaterThanOrEqual(1);
    expect(cut.length).toBeLessThan(3);
    expect(hex('55 A5 FA').subarray(0, cut.length)).toEqual(cut);

    sim.injectNoise('long-line');
    host.write(handshake);
    const flood = await host.until((b) => b.length >= 4099);
    expect(flood.subarray(0, 4096).includes(0x55)).toBe(false);
    expect(flood.subarray(4096, 4099)).toEqual(hex('55 A5 FA'));
  });

  it('slow replies arrive late; power loss is silence until power returns', async () => {
    const { host, sim } = await rig({ device: 'modbus', replyDelayMs: 400, chunkDelayMs: 30 });
    const started = Date.now();
    host.write(hex('01 04 00 01 00 01 60 0A'));
    await expect(host.read(7, 250)).rejects.toThrow(/no 7 bytes/);
    await host.read(7, 2000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);

    sim.setFaults({ replyDelayMs: 0, chunkDelayMs: 0 });
    sim.powerOff();
    host.write(hex('01 04 00 01 00 01 60 0A'));
    expect(await host.readUntilQuiet(300)).toHaveLength(0);
    sim.powerOn();
    host.write(hex('01 04 00 01 00 01 60 0A'));
    expect((await host.read(7)).subarray(0, 2)).toEqual(hex('01 04'));
  });

  it.each(['SIGTERM', 'SIGKILL'] as const)(
    'unplug (socat killed with %s) and replug: the simulator reattaches to the same name',
    async (signal) => {
      const made = await rig({ device: 'elitech-rc5' });
      const { pair, sim } = made;
      made.host.write(hex('CC 00 0A 00 D6'));
      expect(await made.host.read(3)).toEqual(hex('55 A5 FA'));

      const detached = new Promise<void>((resolve) => sim.once('detached', () => resolve()));
      await pair.unplug(signal);
      await made.host.hangUp();
      await detached;
      expect(sim.attached).toBe(false);
      made.host.close();
      await sleep(200);

      await pair.replug();
      await sim.whenAttached(3000);
      made.host = new TtyEnd(pair.hostPath);
      made.host.write(hex('CC 00 06 00 D2'));
      const info = await made.host.read(160);
      expect(info[3]).toBe(50);
      expect(sim.counters.attaches).toBe(2);
    },
  );

  it('a fleet from a config file: one pair per device, a manifest of the paths the bridge opens', async () => {
    const pair = await createPtyPair();
    const fleet = await SimulatorFleet.start(
      {
        pairDir: pair.dir,
        specs: [
          parseDeviceSpec({ name: 'freezer-1', device: 'elitech-rc5', temperature: -20 }, '', 0),
          parseDeviceSpec({ name: 'fridge-1', device: 'modbus' }, '', 1),
          parseDeviceSpec({ name: 'shipper-1', device: 'native', prefill: 10 }, '', 2),
        ],
      },
      { clock: new FixedClock(new Date(T0)) },
    );
    try {
      const manifest = fleet.manifest();
      expect(manifest.map((m) => [m.name, m.path])).toEqual([
        ['freezer-1', `${pair.dir}/freezer-1-host`],
        ['fridge-1', `${pair.dir}/fridge-1-host`],
        ['shipper-1', `${pair.dir}/shipper-1-host`],
      ]);
      const fridge = new TtyEnd(manifest[1]!.path);
      const rh = hex('01 04 00 02 00 01');
      fridge.write(Buffer.concat([rh, Buffer.from([crc16Modbus(rh) & 0xff, crc16Modbus(rh) >> 8])]));
      expect((await fridge.read(7)).subarray(0, 3)).toEqual(hex('01 04 02'));
      fridge.close();
    } finally {
      await fleet.stop();
      await pair.close();
    }
  });
});
