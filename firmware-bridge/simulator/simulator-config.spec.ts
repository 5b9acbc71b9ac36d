import { FixedClock } from '@lyotrace/domain';
import { ElitechLogger } from './elitech-logger.js';
import { FaultInjector, NO_FAULTS } from './faults.js';
import { NativeLogger } from './native-logger.js';
import { SeededRandom } from './seeded-random.js';
import { SpecError, buildDeviceModel, parseDeviceSpec } from './simulator-config.js';

describe('device specs (CLI flags and --config entries)', () => {
  it('applies defaults and coerces numeric strings from flags', () => {
    const spec = parseDeviceSpec(
      { device: 'native', interval: '30', prefill: '43200', driftPpm: '50' },
      '--',
    );
    expect(spec).toMatchObject({
      device: 'native',
      intervalS: 30,
      prefill: 43_200,
      driftPpm: 50,
      name: 'native-1',
    });
  });

  it.each([
    [{ device: 'fridge' }, /device: expected one of/],
    [{ device: 'native', interval: 0 }, /interval: expected a number/],
    [{ device: 'native', noise: 2 }, /noise: expected a number in \[0, 1\]/],
    [{ device: 'native', noiseKinds: 'garbage,sparks' }, /noiseKinds: "sparks"/],
    [{ device: 'elitech-rc4', serial: 'ELITECH-TOO-LONG' }, /serial: at most 10/],
    [{ device: 'modbus', intervall: 60 }, /intervall: unknown field/],
    [{ device: 'modbus', link: '/a', pair: '/b' }, /either link or pair/],
  ])('refuses %j naming the field', (raw, message) => {
    expect(() => parseDeviceSpec(raw, 'devices[0].')).toThrow(SpecError);
    expect(() => parseDeviceSpec(raw, 'devices[0].')).toThrow(message);
  });

  it('builds a prefilled device on the given clock', () => {
    const host = new FixedClock(new Date(Date.UTC(2026, 0, 1)));
    const native = buildDeviceModel(parseDeviceSpec({ device: 'native', prefill: 43_200 }), host);
    expect(native).toBeInstanceOf(NativeLogger);
    expect((native as NativeLogger).state).toMatchObject({ lowest: 1, next: 43_201 });
    const rc5 = buildDeviceModel(parseDeviceSpec({ device: 'elitech-rc5', prefill: 100 }), host);
    expect((rc5 as ElitechLogger).held.count).toBe(100);
  });

  it('firstSeq "clock": a native device simulated again continues its numbering (never reset)', () => {
    const spec = parseDeviceSpec({ device: 'native', interval: 60, prefill: 1440, firstSeq: 'clock' });
    const day1 = new FixedClock(new Date(Date.UTC(2026, 0, 1)));
    const first = (buildDeviceModel(spec, day1) as NativeLogger).state;
    const minutes = Date.UTC(2026, 0, 1) / 60_000;
    expect(first).toMatchObject({ lowest: minutes - 1439, next: minutes + 1 });
    // The same device again 90 minutes later: the records of the last 22.5 hours keep their sequences.
    day1.advance(90 * 60_000);
    const again = (buildDeviceModel(spec, day1) as NativeLogger).state;
    expect(again).toMatchObject({ lowest: first.lowest + 90, next: first.next + 90 });
    expect(parseDeviceSpec({ device: 'native', firstSeq: '7' }, '--').firstSeq).toBe(7);
    expect(() => parseDeviceSpec({ device: 'modbus', firstSeq: 'clock' }, 'x.')).toThrow(
      /x\.firstSeq: only for the native logger/,
    );
  });
});

describe('FaultInjector', () => {
  const host = new FixedClock(new Date(Date.UTC(2026, 0, 1)));
  const model = buildDeviceModel(parseDeviceSpec({ device: 'elitech-rc4' }), host);
  const frame = Buffer.from([0x55, 0xa5, 0xfa]);

  it.each([
    ['bad-check', (parts: Buffer) => expect(parts).toEqual(Buffer.from([0x55, 0xa5, 0xfb]))],
    ['truncated', (parts: Buffer) => expect(frame.subarray(0, parts.length)).toEqual(parts)],
    ['garbage', (parts: Buffer) => expect(parts.subarray(-3)).toEqual(frame)],
    ['long-line', (parts: Buffer) => expect(parts.length).toBe(4096 + 3)],
  ] as const)('%s', (kind, check) => {
    const faults = new FaultInjector({ ...NO_FAULTS }, new SeededRandom(5));
    faults.injectOnce(kind);
    const { noise, parts } = faults.plan(frame, model, true);
    expect(noise).toBe(kind);
    check(Buffer.concat(parts.map((p) => p.bytes)));
  });

  it('slow replies: a delay first, then pieces apart', () => {
    const faults = new FaultInjector(
      { ...NO_FAULTS, replyDelayMs: 300, chunkDelayMs: 20 },
      new SeededRandom(5),
    );
    const { parts } = faults.plan(Buffer.alloc(160, 1), model, true);
    expect(parts[0]?.delayMs).toBe(300);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    expect(parts.slice(1).every((p) => p.delayMs === 20)).toBe(true);
    expect(Buffer.concat(parts.map((p) => p.bytes))).toEqual(Buffer.alloc(160, 1));
  });
});
