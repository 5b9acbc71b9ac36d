import { FixedClock } from '@lyotrace/domain';
import { WaveProfile } from './climate-profile.js';
import { DeviceClock } from './device-clock.js';
import { decodeElitechDateTime, elitechChecksum, withElitechChecksum } from './elitech-codec.js';
import { ElitechLogger, type ElitechLoggerOptions } from './elitech-logger.js';
import { SeededRandom } from './seeded-random.js';

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function logger(
  options: Partial<ElitechLoggerOptions> = {},
  clockOptions: { driftPpm?: number; offsetMs?: number } = {},
): { host: FixedClock; device: ElitechLogger } {
  const host = new FixedClock(new Date(T0));
  const device = new ElitechLogger({
    variant: 'rc4',
    serial: 'EL00000001',
    clock: new DeviceClock(host, { ...clockOptions, afterPowerLoss: 'stopped' }),
    climate: new WaveProfile({ meanC: 4, amplitudeC: 0, jitterC: 0 }),
    random: new SeededRandom(7),
    ...options,
  });
  return { host, device };
}

let realMs = 0;
function ask(device: ElitechLogger, request: Buffer): Buffer[] {
  realMs += 1000;
  return device.receive(request, realMs);
}

function page(device: ElitechLogger, n: number): number[] {
  const [reply] = ask(device, withElitechChecksum([0x33, 0x01, 0x02, n]));
  if (!reply) throw new Error('no reply');
  expect(reply[reply.length - 1]).toBe(elitechChecksum(reply, reply.length - 1));
  const values: number[] = [];
  for (let i = 1; i < reply.length - 1; i += 2) values.push(reply.readInt16BE(i));
  return values;
}

describe('ElitechLogger', () => {
  it('answers the handshake and device info', () => {
    const { device } = logger();
    expect(ask(device, hex('CC 00 0A 00 D6'))).toEqual([hex('55 A5 FA')]);
    const [info] = ask(device, hex('CC 00 06 00 D2'));
    expect(info).toHaveLength(160);
    expect(info?.[3]).toBe(40);
    expect(info?.[19]).toBe(1);
    expect(info?.subarray(138, 148).toString('latin1')).toBe('EL00000001');
  });

  it('prefill: N one-per-minute records ending now, paged 100 per page, start = now − (N − 1) min', () => {
    const { device } = logger();
    device.prefill(250);
    const [header] = ask(device, hex('33 01 01 00 35'));
    expect(header?.readUInt16BE(1)).toBe(250);
    expect(decodeElitechDateTime(header!, 3)).toBe(T0 - 249 * 60_000);
    expect(page(device, 0)).toHaveLength(100);
    expect(page(device, 2)).toHaveLength(50);
    expect(page(device, 3)).toEqual([]);
    expect(page(device, 0)[0]).toBe(40);
  });

  it('memory full: stops by default, or wraps with start moving forward one interval per lost record', () => {
    const stopped = logger({ capacity: 1000 }).device;
    stopped.prefill(43_200);
    expect(stopped.held).toMatchObject({ count: 1000, status: 2, startMs: T0 - 43_199 * 60_000 });

    const wrapping = logger({ capacity: 1000, whenFull: 'wrap' }).device;
    wrapping.prefill(43_200);
    expect(wrapping.held).toMatchObject({ count: 1000, status: 1, startMs: T0 - 999 * 60_000 });
  });

  it('samples on a drifting oscillator: a +500 ppm device takes its 1440th sample early', () => {
    const { host, device } = logger({}, { driftPpm: 500 });
    host.advance(1439 * 60_000 - 43_000);
    expect(device.held.count).toBe(1440);
    const [info] = ask(device, hex('CC 00 06 00 D2'));
    const deviceNow = decodeElitechDateTime(info!, 31)!;
    // The device clock is ahead of the host by ~500 ppm of the elapsed time (43 s a day).
    expect(deviceNow - host.now().getTime()).toBeGreaterThanOrEqual(42_000);
  });

  it('keeps records over a power loss; its clock stops, so the index timeline falls short', () => {
    const { host, device } = logger();
    host.advance(10 * 60_000);
    device.powerOff();
    host.advance(30 * 60_000);
    expect(ask(device, hex('CC 00 0A 00 D6'))).toEqual([]);
    device.powerOn();
    host.advance(10 * 60_000);
    const held = device.held;
    expect(held.count).toBe(21);
    const [info] = ask(device, hex('CC 00 06 00 D2'));
    expect(decodeElitechDateTime(info!, 31)).toBe(T0 + 20 * 60_000);
  });

  it('missed samples leave fewer records than the elapsed time implies', () => {
    const { host, device } = logger();
    device.missSamples(5);
    host.advance(59 * 60_000);
    expect(device.held.count).toBe(55);
  });

  it('set clock changes the clock only; other stations and bad checksums get silence', () => {
    const { device } = logger();
    const set = withElitechChecksum(hex('33 01 07 00 07 EA 06 01 00 00 00'));
    expect(ask(device, set)).toEqual([hex('55 A3 F8')]);
    const [info] = ask(device, hex('CC 00 06 00 D2'));
    expect(decodeElitechDateTime(info!, 31)).toBe(Date.UTC(2026, 5, 1));
    expect(decodeElitechDateTime(info!, 20)).toBe(T0);
    expect(ask(device, withElitechChecksum(hex('33 02 01 00')))).toEqual([]);
    expect(ask(device, hex('33 01 01 00 36'))).toEqual([]);
  });

  it('RC-4HC pages are 200 T/RH pairs', () => {
    const { device } = logger({ variant: 'rc4hc' });
    device.prefill(250);
    const values = page(device, 0);
    expect(values).toHaveLength(400);
    expect(values.slice(0, 2)).toEqual([40, expect.any(Number)]);
    expect(page(device, 1)).toHaveLength(100);
  });
});
