import { ReadingFlag } from '@lyotrace/contracts';
import {
  DEFAULT_SKEW,
  skewOfExchange,
  skewOfPush,
  toIngestRecord,
  UNREADABLE_CALIBRATION,
} from './skew-policy.js';

const T0 = Date.parse('2026-03-01T10:00:00Z');

describe('clock skew policy (PROTOCOL.md §6)', () => {
  it('measures device − host at the midpoint of an exchange, and on receipt of a push', () => {
    expect(skewOfExchange(T0 + 5_000, T0, T0 + 40)).toBe(4_980);
    expect(skewOfExchange(T0 - 3_000, T0, T0 + 10)).toBe(-3_005);
    expect(skewOfPush(T0 + 61_000, T0)).toBe(61_000);
  });

  it('leaves times alone below the correction threshold, without flags', () => {
    const r = toIngestRecord({ seq: 1, deviceMs: T0, temperatureC: 5.25 }, 1_500, DEFAULT_SKEW);
    expect(r).toEqual({
      seq: 1,
      deviceTime: '2026-03-01T10:00:00.000Z',
      time: '2026-03-01T10:00:00.000Z',
      skewMs: 1_500,
      temperatureC: 5.25,
      flags: [],
    });
  });

  it('corrects by the delivering skew and says so; flags only beyond the flag threshold', () => {
    const fast = toIngestRecord({ seq: 2, deviceMs: T0, temperatureC: 4 }, 30_000, DEFAULT_SKEW);
    expect(fast.time).toBe('2026-03-01T09:59:30.000Z');
    expect(fast.deviceTime).toBe('2026-03-01T10:00:00.000Z');
    expect(fast.flags).toEqual([ReadingFlag.ClockCorrected]);

    const slow = toIngestRecord({ seq: 3, deviceMs: T0, temperatureC: 4 }, -3_600_000, DEFAULT_SKEW);
    expect(slow.time).toBe('2026-03-01T11:00:00.000Z');
    expect(slow.flags).toEqual([ReadingFlag.ClockSkew, ReadingFlag.ClockCorrected]);
  });

  it('corrects an unset device clock (counting from 1970 since power-on) and always flags it', () => {
    const bootedAt = T0 - 5_000_000;
    const r = toIngestRecord(
      { seq: 4, deviceMs: 86_400_000, temperatureC: 4, clockUnset: true },
      -bootedAt,
      DEFAULT_SKEW,
    );
    expect(r.time).toBe(new Date(bootedAt + 86_400_000).toISOString());
    expect(r.deviceTime).toBe('1970-01-02T00:00:00.000Z');
    expect(r.flags).toEqual([ReadingFlag.ClockSkew, ReadingFlag.ClockCorrected]);
    const small = toIngestRecord(
      { seq: 5, deviceMs: T0, temperatureC: 4, clockUnset: true },
      0,
      DEFAULT_SKEW,
    );
    expect(small.flags).toEqual([ReadingFlag.ClockSkew]);
  });

  it('turns a fault into a null temperature with sensor_fault, and marks readings after calibration due', () => {
    const fault = toIngestRecord(
      { seq: 5, deviceMs: T0, temperatureC: -127, sensorFault: true },
      0,
      DEFAULT_SKEW,
    );
    expect(fault.temperatureC).toBeNull();
    expect(fault.flags).toEqual([ReadingFlag.SensorFault]);

    const lastDay = toIngestRecord({ seq: 6, deviceMs: T0, temperatureC: 5 }, 0, DEFAULT_SKEW, '2026-03-01');
    expect(lastDay.flags).toEqual([]);
    const after = toIngestRecord({ seq: 7, deviceMs: T0, temperatureC: 5 }, 0, DEFAULT_SKEW, '2026-02-28');
    expect(after.flags).toEqual([ReadingFlag.Uncalibrated]);
    const unreadable = toIngestRecord(
      { seq: 8, deviceMs: T0, temperatureC: 5 },
      0,
      DEFAULT_SKEW,
      UNREADABLE_CALIBRATION,
    );
    expect(unreadable.flags).toEqual([ReadingFlag.Uncalibrated]);
  });

  it('keeps humidity when the device measures it', () => {
    expect(
      toIngestRecord({ seq: 8, deviceMs: T0, temperatureC: 5, humidityPct: 45.5 }, 0, DEFAULT_SKEW),
    ).toMatchObject({ humidityPct: 45.5 });
  });
});
