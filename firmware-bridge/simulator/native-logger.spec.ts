import { FixedClock } from '@lyotrace/domain';
import { WaveProfile } from './climate-profile.js';
import { DeviceClock } from './device-clock.js';
import { FrameReader } from './frame-reader.js';
import {
  NATIVE_RECORD_LENGTH,
  NakCode,
  type NativeFrame,
  NativeType,
  RecordFlag,
  encodeNativeFrame,
  recogniseNativeFrame,
} from './native-codec.js';
import { NativeLogger, type NativeLoggerOptions } from './native-logger.js';
import { SeededRandom } from './seeded-random.js';

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);

function setup(
  options: Partial<NativeLoggerOptions> = {},
  driftPpm = 0,
): { host: FixedClock; device: NativeLogger } {
  const host = new FixedClock(new Date(T0));
  const device = new NativeLogger({
    serial: 'LTN-0001',
    clock: new DeviceClock(host, { driftPpm, afterPowerLoss: 'reset' }),
    climate: new WaveProfile({ meanC: 5.25, amplitudeC: 0, jitterC: 0 }),
    random: new SeededRandom(3),
    ...options,
  });
  return { host, device };
}

let realMs = 0;
/** The device's answer to one request (live records pushed meanwhile are left out). */
function exchange(
  device: NativeLogger,
  type: number,
  payload: Buffer = Buffer.alloc(0),
  tag = 9,
): NativeFrame[] {
  realMs += 1000;
  const reader = new FrameReader(recogniseNativeFrame, 100);
  return reader
    .push(Buffer.concat(device.receive(encodeNativeFrame(type, tag, payload), realMs)), realMs)
    .filter((frame) => frame.type !== NativeType.liveRecord);
}

function reply(device: NativeLogger, type: number, payload?: Buffer): Buffer {
  const frames = exchange(device, type, payload);
  expect(frames).toHaveLength(1);
  expect(frames[0]?.type).toBe(0x80 | type);
  expect(frames[0]?.tag).toBe(9);
  return frames[0]!.payload;
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const download = (from: number, max: number): Buffer => Buffer.concat([u32(from), Buffer.from([max])]);

describe('NativeLogger (PROTOCOL.md v1)', () => {
  it('IDENTIFY reports serial, interval, clock, lowest/next and capacity', () => {
    const { device } = setup({ capacity: 500 });
    device.prefill(10);
    const id = reply(device, NativeType.identify);
    expect(id).toHaveLength(66);
    expect(id.subarray(0, 16).toString('latin1').replace(/\0+$/, '')).toBe('LTN-0001');
    expect(id.readUInt32LE(36)).toBe(60);
    expect(id[41]).toBe(1);
    expect(Number(id.readBigInt64LE(46))).toBe(T0);
    expect([id.readUInt32LE(54), id.readUInt32LE(58), id.readUInt32LE(62)]).toEqual([1, 11, 500]);
  });

  it('DOWNLOAD returns consecutive records from max(from, lowest) with device times', () => {
    const { device } = setup();
    device.prefill(100);
    const body = reply(device, NativeType.download, download(41, 64));
    expect([body.readUInt32LE(0), body.readUInt32LE(4), body[8]]).toEqual([1, 101, 60]);
    const first = body.subarray(9, 9 + NATIVE_RECORD_LENGTH);
    expect(first.readUInt32LE(0)).toBe(41);
    expect(first.readUInt32LE(4)).toBe((T0 - 59 * 60_000) / 1000);
    expect(first.readInt16LE(8)).toBe(525);
    expect(first.readUInt16LE(10)).toBe(0xffff);
    expect(body.length).toBe(9 + 60 * NATIVE_RECORD_LENGTH);
    expect(reply(device, NativeType.download, download(101, 64))[8]).toBe(0);
  });

  it('ring wrap loses the oldest unacknowledged records and reports the new lowest', () => {
    const { device } = setup({ capacity: 1000 });
    device.prefill(43_200);
    const body = reply(device, NativeType.download, download(1, 1));
    expect([body.readUInt32LE(0), body.readUInt32LE(4)]).toEqual([42_201, 43_201]);
    expect(body.readUInt32LE(9)).toBe(42_201);
  });

  it('ACK frees records, never decreases, and refuses upTo ≥ next with NAK 3', () => {
    const { device } = setup();
    device.prefill(20);
    const ack = reply(device, NativeType.ack, u32(15));
    expect([ack.readUInt32LE(0), ack.readUInt32LE(4)]).toEqual([15, 16]);
    const again = reply(device, NativeType.ack, u32(3));
    expect([again.readUInt32LE(0), again.readUInt32LE(4)]).toEqual([15, 16]);
    const [nak] = exchange(device, NativeType.ack, u32(21));
    expect(nak).toMatchObject({
      type: NativeType.nak,
      tag: 9,
      payload: Buffer.from([NativeType.ack, NakCode.badArgument]),
    });
  });

  it('pushes live records while a host is connected, and stops 60 s after its last request', () => {
    const { host, device } = setup();
    reply(device, NativeType.identify);
    host.advance(60_000);
    const live = new FrameReader(recogniseNativeFrame, 100).push(Buffer.concat(device.tick()), 0);
    // Record 1 was taken before the host first spoke: only record 2 is pushed.
    expect(live).toHaveLength(1);
    expect(live[0]?.type).toBe(NativeType.liveRecord);
    expect(live[0]?.tag).toBe(0);
    expect(Number(live[0]?.payload.readBigInt64LE(0))).toBe(T0 + 60_000);
    expect(live[0]?.payload.readUInt32LE(8)).toBe(2);
    host.advance(10 * 60_000);
    expect(device.tick()).toHaveLength(0);
  });

  it('SET_CLOCK replies before/after and flags the next record (bit1)', () => {
    const { host, device } = setup({}, 100);
    host.advance(3_600_000);
    const set = Buffer.alloc(8);
    set.writeBigInt64LE(BigInt(T0 + 3_600_000));
    const body = reply(device, NativeType.setClock, set);
    expect(Number(body.readBigInt64LE(0)) - (T0 + 3_600_000)).toBe(360);
    expect(Number(body.readBigInt64LE(8))).toBe(T0 + 3_600_000);
    host.advance(60_000);
    const records = device.records();
    expect(records.at(-1)?.flags).toBe(RecordFlag.clockSet);
    expect(records.at(-2)?.flags).toBe(0);
  });

  it('power loss: silent, keeps records and sequence, clock restarts at 1970 with bit3 until set', () => {
    const { host, device } = setup();
    host.advance(5 * 60_000);
    device.powerOff();
    expect(device.receive(encodeNativeFrame(NativeType.identify, 1), 0)).toEqual([]);
    host.advance(60 * 60_000);
    device.powerOn();
    host.advance(2 * 60_000);
    const records = device.records();
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(records.at(-1)?.timeS).toBeLessThan(1000);
    expect(records.at(-1)?.flags).toBe(RecordFlag.clockUnset);
    expect(records[5]?.flags).toBe(0);
  });

  it('missed samples leave a hole in time, not in sequence', () => {
    const { host, device } = setup();
    host.advance(2 * 60_000);
    device.missSamples(3);
    host.advance(5 * 60_000);
    const times = device.records().map((r) => r.timeS - T0 / 1000);
    expect(times).toEqual([0, 60, 120, 360, 420]);
  });

  it('MISSION_STOP/START and SET_INTERVAL; unknown types and short payloads get NAK 1 / 2', () => {
    const { host, device } = setup();
    expect(reply(device, NativeType.missionStop)[0]).toBe(0);
    host.advance(600_000);
    expect(device.state.next).toBe(2);
    expect(reply(device, NativeType.setInterval, u32(10)).readUInt32LE(0)).toBe(10);
    expect(reply(device, NativeType.missionStart)[0]).toBe(1);
    host.advance(30_000);
    expect(device.state.next).toBe(6);
    expect(exchange(device, 0x30)[0]?.payload).toEqual(Buffer.from([0x30, NakCode.unknownType]));
    expect(exchange(device, NativeType.ack, Buffer.from([1]))[0]?.payload).toEqual(
      Buffer.from([NativeType.ack, NakCode.badLength]),
    );
    expect(exchange(device, NativeType.setInterval, u32(0))[0]?.payload).toEqual(
      Buffer.from([NativeType.setInterval, NakCode.badArgument]),
    );
  });
});
