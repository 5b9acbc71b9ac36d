import type { Clock } from '@lyotrace/domain';
import { WaveProfile } from './climate-profile.js';
import { DeviceClock } from './device-clock.js';
import { DEVICE_KINDS, type DeviceKind, type DeviceModel } from './device-model.js';
import { ElitechLogger, type ElitechVariant } from './elitech-logger.js';
import { type FaultSettings, NOISE_KINDS, type NoiseKind } from './faults.js';
import { ModbusProbe } from './modbus-probe.js';
import { NativeLogger } from './native-logger.js';
import { SeededRandom } from './seeded-random.js';

/** One simulated device, as the CLI flags or one entry of a --config file describe it. */
export interface DeviceSpec {
  /** Short name: the pair's link names in --pair mode, the label in logs. */
  name: string;
  device: DeviceKind;
  serial: string;
  /** Open this existing pty path (the device end). */
  link?: string;
  /** Make a socat pair in this folder (links <name>-device and <name>-host). */
  pair?: string;
  intervalS: number;
  prefill: number;
  capacity?: number;
  whenFull: 'stop' | 'wrap';
  driftPpm: number;
  offsetS: number;
  temperatureC: number;
  amplitudeC: number;
  periodS: number;
  jitterC: number;
  humidityPct: number;
  station: number;
  slave: number;
  batteryPct: number;
  missRate: number;
  powerLossEveryS: number;
  powerLossForS: number;
  seed: number;
  faults: FaultSettings;
  /**
   * Native only: the sequence of the first record. `clock`: the number of whole intervals since the epoch at
   * that record, so that a device simulated again (npm start, once more) goes on numbering where the last run
   * stopped instead of starting at 1 again: PROTOCOL.md §3.0, a sequence is never reset.
   */
  firstSeq?: number | 'clock';
}

export class SpecError extends Error {}

type Raw = Record<string, unknown>;

function num(raw: Raw, key: string, where: string, fallback: number, min: number, max: number): number {
  const value = raw[key];
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) {
    throw new SpecError(
      `${where}${key}: expected a number in [${min}, ${max}], got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function str(raw: Raw, key: string, where: string): string | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0)
    throw new SpecError(`${where}${key}: expected a non-empty string`);
  return value;
}

const KNOWN_KEYS = new Set([
  'name',
  'device',
  'serial',
  'link',
  'pair',
  'interval',
  'prefill',
  'capacity',
  'full',
  'driftPpm',
  'offsetS',
  'temperature',
  'amplitude',
  'periodS',
  'jitter',
  'humidity',
  'station',
  'slave',
  'battery',
  'missRate',
  'powerLossEveryS',
  'powerLossForS',
  'seed',
  'noise',
  'noiseKinds',
  'replyDelayMs',
  'chunkDelayMs',
  'firstSeq',
]);

/**
 * Validates one device description (camelCase keys, the CLI flags' names; numbers may be strings). Every error
 * names the field; unknown fields are refused so a typo does not silently run a default.
 */
export function parseDeviceSpec(raw: unknown, where = '', index = 0): DeviceSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new SpecError(`${where}: expected an object`);
  const r = raw as Raw;
  for (const key of Object.keys(r))
    if (!KNOWN_KEYS.has(key)) throw new SpecError(`${where}${key}: unknown field`);
  const device = r.device;
  if (typeof device !== 'string' || !(DEVICE_KINDS as readonly string[]).includes(device)) {
    throw new SpecError(
      `${where}device: expected one of ${DEVICE_KINDS.join(', ')}, got ${JSON.stringify(device)}`,
    );
  }
  const kind = device as DeviceKind;
  const name = str(r, 'name', where) ?? `${kind}-${index + 1}`;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new SpecError(`${where}name: letters, digits, . _ - only`);
  const serial = str(r, 'serial', where) ?? defaultSerial(kind, index);
  const serialMax = kind === 'native' ? 16 : 10;
  if (serial.length > serialMax || !/^[\x20-\x7e]+$/.test(serial)) {
    throw new SpecError(`${where}serial: at most ${serialMax} printable ASCII characters for ${kind}`);
  }
  const full = r.full ?? 'stop';
  if (full !== 'stop' && full !== 'wrap') throw new SpecError(`${where}full: expected "stop" or "wrap"`);
  const kinds = parseNoiseKinds(r.noiseKinds, where);
  const link = str(r, 'link', where);
  const pair = str(r, 'pair', where);
  if (link && pair) throw new SpecError(`${where}link: give either link or pair, not both`);
  const capacity = r.capacity === undefined ? undefined : num(r, 'capacity', where, 0, 1, 10_000_000);
  let firstSeq: number | 'clock' | undefined;
  if (r.firstSeq !== undefined) {
    if (kind !== 'native') throw new SpecError(`${where}firstSeq: only for the native logger`);
    firstSeq = r.firstSeq === 'clock' ? 'clock' : num(r, 'firstSeq', where, 1, 1, 0xffffffff);
  }
  return {
    name,
    device: kind,
    serial,
    ...(link ? { link } : {}),
    ...(pair ? { pair } : {}),
    intervalS: num(r, 'interval', where, 60, 1, 86_400),
    prefill: num(r, 'prefill', where, 0, 0, 10_000_000),
    ...(capacity !== undefined ? { capacity } : {}),
    whenFull: full,
    driftPpm: num(r, 'driftPpm', where, 0, -100_000, 100_000),
    offsetS: num(r, 'offsetS', where, 0, -1e9, 1e9),
    temperatureC: num(r, 'temperature', where, 5, -200, 200),
    amplitudeC: num(r, 'amplitude', where, 0.5, 0, 100),
    periodS: num(r, 'periodS', where, 2400, 0, 1e9),
    jitterC: num(r, 'jitter', where, 0.05, 0, 100),
    humidityPct: num(r, 'humidity', where, 45, 0, 100),
    station: num(r, 'station', where, 1, 0, 255),
    slave: num(r, 'slave', where, 1, 1, 247),
    batteryPct: num(r, 'battery', where, 100, 0, 100),
    missRate: num(r, 'missRate', where, 0, 0, 1),
    powerLossEveryS: num(r, 'powerLossEveryS', where, 0, 0, 1e7),
    powerLossForS: num(r, 'powerLossForS', where, 5, 0, 1e7),
    seed: num(r, 'seed', where, index + 1, 0, 2 ** 32 - 1),
    faults: {
      noise: num(r, 'noise', where, 0, 0, 1),
      noiseKinds: kinds,
      replyDelayMs: num(r, 'replyDelayMs', where, 0, 0, 600_000),
      chunkDelayMs: num(r, 'chunkDelayMs', where, 0, 0, 600_000),
    },
    ...(firstSeq !== undefined ? { firstSeq } : {}),
  };
}

function parseNoiseKinds(value: unknown, where: string): NoiseKind[] {
  if (value === undefined) return [...NOISE_KINDS];
  const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value;
  if (!Array.isArray(list) || list.length === 0) throw new SpecError(`${where}noiseKinds: expected a list`);
  return list.map((kind) => {
    if (typeof kind !== 'string' || !(NOISE_KINDS as readonly string[]).includes(kind)) {
      throw new SpecError(
        `${where}noiseKinds: ${JSON.stringify(kind)} is not one of ${NOISE_KINDS.join(', ')}`,
      );
    }
    return kind as NoiseKind;
  });
}

function defaultSerial(kind: DeviceKind, index: number): string {
  const n = String(index + 1).padStart(4, '0');
  if (kind === 'native') return `LTN-SIM-${n}`;
  if (kind === 'modbus') return `MD02-${n}`;
  return `EL${kind.slice(-3).toUpperCase()}${n}`.slice(0, 10);
}

/** Builds the device model a spec describes, on the given host clock (real for the CLI, virtual in tests). */
export function buildDeviceModel(spec: DeviceSpec, host: Clock): DeviceModel {
  const random = new SeededRandom(spec.seed);
  const climate = new WaveProfile({
    meanC: spec.temperatureC,
    amplitudeC: spec.amplitudeC,
    periodS: spec.periodS,
    jitterC: spec.jitterC,
    humidityPct: spec.humidityPct,
    seed: spec.seed,
  });
  const clockOptions = { driftPpm: spec.driftPpm, offsetMs: spec.offsetS * 1000 };
  if (spec.device === 'modbus') {
    return new ModbusProbe({
      serial: spec.serial,
      clock: new DeviceClock(host, { ...clockOptions, afterPowerLoss: 'kept' }),
      climate,
      random,
      address: spec.slave,
      missRate: spec.missRate,
    });
  }
  if (spec.device === 'native') {
    const intervalMs = spec.intervalS * 1000;
    const firstSeq =
      spec.firstSeq === 'clock'
        ? Math.max(
            1,
            Math.floor((host.now().getTime() + spec.offsetS * 1000) / intervalMs) -
              Math.max(0, spec.prefill - 1),
          )
        : spec.firstSeq;
    const logger = new NativeLogger({
      serial: spec.serial,
      clock: new DeviceClock(host, { ...clockOptions, afterPowerLoss: 'reset' }),
      climate,
      random,
      intervalS: spec.intervalS,
      batteryPct: spec.batteryPct,
      missRate: spec.missRate,
      ...(spec.capacity !== undefined ? { capacity: spec.capacity } : {}),
      ...(firstSeq !== undefined ? { firstSeq } : {}),
    });
    if (spec.prefill > 0) logger.prefill(spec.prefill);
    return logger;
  }
  const variant = spec.device.replace('elitech-', '') as ElitechVariant;
  const logger = new ElitechLogger({
    variant,
    serial: spec.serial,
    clock: new DeviceClock(host, { ...clockOptions, afterPowerLoss: 'stopped' }),
    climate,
    random,
    station: spec.station,
    intervalS: spec.intervalS,
    whenFull: spec.whenFull,
    missRate: spec.missRate,
    ...(spec.capacity !== undefined ? { capacity: spec.capacity } : {}),
  });
  if (spec.prefill > 0) logger.prefill(spec.prefill);
  return logger;
}
