import { FixedClock } from '@lyotrace/domain';
import { DeviceClock } from './device-clock.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

describe('DeviceClock', () => {
  it('drifts by ppm: +50 ppm gains 4.32 s a day', () => {
    const host = new FixedClock(new Date(T0));
    const clock = new DeviceClock(host, { driftPpm: 50, offsetMs: -2000, afterPowerLoss: 'stopped' });
    expect(clock.wallMs()).toBe(T0 - 2000);
    host.advance(DAY);
    expect(clock.wallMs() - (T0 + DAY)).toBeCloseTo(4320 - 2000, 6);
    expect(clock.hostAt(clock.oscillatorMs())).toBeCloseTo(T0 + DAY, 6);
  });

  it('SET_CLOCK moves the wall clock, not the oscillator', () => {
    const host = new FixedClock(new Date(T0));
    const clock = new DeviceClock(host, { afterPowerLoss: 'kept' });
    const before = clock.oscillatorMs();
    clock.setWall(T0 + 3_600_000);
    expect(clock.wallMs()).toBe(T0 + 3_600_000);
    expect(clock.oscillatorMs()).toBe(before);
  });

  it.each([
    ['stopped', T0 + 1000],
    ['kept', T0 + 61_000],
    ['reset', 0],
  ] as const)('after a 60 s power loss a "%s" clock reads %d', (mode, expected) => {
    const host = new FixedClock(new Date(T0));
    const clock = new DeviceClock(host, { afterPowerLoss: mode });
    host.advance(1000);
    clock.powerOff();
    host.advance(60_000);
    expect(clock.powered).toBe(false);
    clock.powerOn();
    expect(clock.wallMs()).toBe(expected);
    host.advance(500);
    expect(clock.wallMs()).toBe(expected + 500);
  });
});
