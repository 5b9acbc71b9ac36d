import { readFileSync } from 'node:fs';
import { LoggerProtocol } from '@lyotrace/contracts';
import { ConfigError } from '@lyotrace/config';
import { isCalendarDate } from '@lyotrace/domain';

/**
 * The devices a bridge serves: BRIDGE_DEVICES (inline JSON) or BRIDGE_DEVICES_FILE (a JSON file), an array
 * of ports. Validated once at boot; an error names the variable and the exact field, e.g.
 * `BRIDGE_DEVICES[1].probes[0].slave`.
 *
 *   [{ "name": "fridge-1", "protocol": "lyotrace-native", "path": "/dev/serial/by-id/usb-…" },
 *    { "name": "shipper", "protocol": "elitech-rc", "usb": { "vendorId": "10c4", "productId": "ea60" },
 *      "path": "/dev/ttyUSB0", "pollIntervalMs": 60000 },
 *    { "name": "rs485", "protocol": "modbus-rtu", "path": "/dev/ttyUSB1", "pollIntervalMs": 10000,
 *      "probes": [{ "slave": 1, "id": "room-2-probe", "model": "XY-MD02" }] }]
 */

export interface UsbMatch {
  /** 4 hex digits, e.g. "10c4" (CP210x) or "1a86" (CH340). */
  vendorId: string;
  productId: string;
  /** The USB serial number, when several identical adapters are plugged in. */
  serialNumber?: string;
}

export interface ModbusProbeConfig {
  slave: number;
  /** The probe's identity for the API (it has no serial number of its own). */
  id: string;
  model: string;
  calibrationDue?: string;
  /** Readings outside the sensor's rated range are faults, never temperatures (COLD-CHAIN.md). */
  ratedMinC: number;
  ratedMaxC: number;
  /** Read register 2 (RH) too. */
  humidity: boolean;
}

export interface PortConfig {
  name: string;
  protocol: LoggerProtocol;
  /** Fixed path (a /dev/serial/by-id link is best), or the fallback when USB listing is unavailable. */
  path?: string;
  usb?: UsbMatch;
  baudRate: number;
  /** Elitech: download every…; Modbus: poll every…; native: re-identify every… */
  pollIntervalMs: number;
  replyTimeoutMs: number;
  /** Elitech: the logger's calibration due date (the device does not report one). */
  calibrationDue?: string;
  probes: ModbusProbeConfig[];
}

const PROTOCOLS = new Set<string>(Object.values(LoggerProtocol));
const HEX4 = /^[0-9a-fA-F]{4}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

const DEFAULTS: Record<LoggerProtocol, { baudRate: number; pollIntervalMs: number; replyTimeoutMs: number }> =
  {
    // Native: re-identify well within the 60 s after which a device stops pushing live (PROTOCOL.md §3.8).
    [LoggerProtocol.Native]: { baudRate: 115_200, pollIntervalMs: 30_000, replyTimeoutMs: 1_000 },
    // A 500-record RC-5 page is 1 002 bytes: 87 ms on the wire, plus the logger's flash read.
    [LoggerProtocol.Elitech]: { baudRate: 115_200, pollIntervalMs: 60_000, replyTimeoutMs: 1_500 },
    [LoggerProtocol.ModbusRtu]: { baudRate: 9_600, pollIntervalMs: 10_000, replyTimeoutMs: 500 },
  };

type Json = Record<string, unknown>;

class Checker {
  constructor(private readonly variable: string) {}

  fail(field: string, message: string): never {
    throw new ConfigError([this.variable], `Invalid configuration:\n  ${this.variable}${field}: ${message}`);
  }

  object(value: unknown, field: string): Json {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      this.fail(field, 'must be an object');
    return value as Json;
  }

  only(value: Json, field: string, keys: string[]): void {
    for (const key of Object.keys(value))
      if (!keys.includes(key)) this.fail(`${field}.${key}`, 'unknown field');
  }

  string(value: unknown, field: string, pattern?: RegExp, hint?: string): string {
    if (typeof value !== 'string' || value.trim() === '') this.fail(field, 'must be a non-empty string');
    if (pattern && !pattern.test(value)) this.fail(field, hint ?? `must match ${pattern}`);
    return value;
  }

  int(value: unknown, field: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      this.fail(field, `must be an integer from ${min} to ${max}`);
    return value;
  }

  /**
   * The same calendar-date rule ingest applies to device.calibrationDue: a date it would refuse (2026-02-31)
   * must stop the bridge at boot, not send every batch of the device to the dead-letter queue.
   */
  date(value: unknown, field: string): string {
    if (!isCalendarDate(value))
      this.fail(field, 'must be a calendar date YYYY-MM-DD that exists, e.g. 2027-02-28');
    return value as string;
  }

  number(value: unknown, field: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(field, 'must be a number');
    return value;
  }
}

function usb(c: Checker, value: unknown, at: string): UsbMatch {
  const u = c.object(value, at);
  c.only(u, at, ['vendorId', 'productId', 'serialNumber']);
  const match: UsbMatch = {
    vendorId: c.string(u.vendorId, `${at}.vendorId`, HEX4, 'must be 4 hex digits, e.g. "10c4"').toLowerCase(),
    productId: c
      .string(u.productId, `${at}.productId`, HEX4, 'must be 4 hex digits, e.g. "ea60"')
      .toLowerCase(),
  };
  if (u.serialNumber !== undefined) match.serialNumber = c.string(u.serialNumber, `${at}.serialNumber`);
  return match;
}

function probe(c: Checker, value: unknown, at: string): ModbusProbeConfig {
  const p = c.object(value, at);
  c.only(p, at, ['slave', 'id', 'model', 'calibrationDue', 'ratedMinC', 'ratedMaxC', 'humidity']);
  const out: ModbusProbeConfig = {
    slave: c.int(p.slave, `${at}.slave`, 1, 247),
    id: c.string(p.id, `${at}.id`, NAME, 'must be 1–64 letters, digits or ._:- (the probe identity)'),
    model: p.model === undefined ? 'XY-MD02' : c.string(p.model, `${at}.model`),
    // XY-MD02 / SHT20 family: rated about −40…+60 °C (COLD-CHAIN.md); a site can narrow it.
    ratedMinC: p.ratedMinC === undefined ? -40 : c.number(p.ratedMinC, `${at}.ratedMinC`),
    ratedMaxC: p.ratedMaxC === undefined ? 60 : c.number(p.ratedMaxC, `${at}.ratedMaxC`),
    humidity: p.humidity === undefined ? true : p.humidity === true,
  };
  if (p.humidity !== undefined && typeof p.humidity !== 'boolean')
    c.fail(`${at}.humidity`, 'must be true or false');
  if (p.calibrationDue !== undefined) out.calibrationDue = c.date(p.calibrationDue, `${at}.calibrationDue`);
  if (out.ratedMinC >= out.ratedMaxC) c.fail(`${at}.ratedMinC`, 'must be below ratedMaxC');
  return out;
}

function port(c: Checker, value: unknown, at: string): PortConfig {
  const p = c.object(value, at);
  c.only(p, at, [
    'name',
    'protocol',
    'path',
    'usb',
    'baudRate',
    'pollIntervalMs',
    'replyTimeoutMs',
    'calibrationDue',
    'probes',
  ]);
  const protocol = c.string(p.protocol, `${at}.protocol`);
  if (!PROTOCOLS.has(protocol)) c.fail(`${at}.protocol`, `must be one of ${[...PROTOCOLS].join(', ')}`);
  const proto = protocol as LoggerProtocol;
  const d = DEFAULTS[proto];
  const out: PortConfig = {
    name: c.string(p.name, `${at}.name`, NAME, 'must be 1–64 letters, digits or ._:-'),
    protocol: proto,
    baudRate: p.baudRate === undefined ? d.baudRate : c.int(p.baudRate, `${at}.baudRate`, 300, 4_000_000),
    pollIntervalMs:
      p.pollIntervalMs === undefined
        ? d.pollIntervalMs
        : c.int(p.pollIntervalMs, `${at}.pollIntervalMs`, 100, 86_400_000),
    replyTimeoutMs:
      p.replyTimeoutMs === undefined
        ? d.replyTimeoutMs
        : c.int(p.replyTimeoutMs, `${at}.replyTimeoutMs`, 10, 60_000),
    probes: [],
  };
  if (p.path !== undefined) out.path = c.string(p.path, `${at}.path`);
  if (p.usb !== undefined) out.usb = usb(c, p.usb, `${at}.usb`);
  if (!out.path && !out.usb)
    c.fail(at, 'needs a "path" or a "usb" match (or both: the path is the fallback)');
  if (p.calibrationDue !== undefined) {
    if (proto !== LoggerProtocol.Elitech)
      c.fail(`${at}.calibrationDue`, 'only for elitech-rc (native loggers report theirs; Modbus: per probe)');
    out.calibrationDue = c.date(p.calibrationDue, `${at}.calibrationDue`);
  }
  if (proto === LoggerProtocol.ModbusRtu) {
    if (!Array.isArray(p.probes) || p.probes.length === 0)
      c.fail(`${at}.probes`, 'must list at least one probe');
    out.probes = (p.probes as unknown[]).map((q, i) => probe(c, q, `${at}.probes[${i}]`));
    const slaves = new Set<number>();
    out.probes.forEach((q, i) => {
      if (slaves.has(q.slave))
        c.fail(`${at}.probes[${i}].slave`, `slave ${q.slave} is listed twice on this bus`);
      slaves.add(q.slave);
    });
  } else if (p.probes !== undefined) c.fail(`${at}.probes`, 'only for modbus-rtu');
  return out;
}

/** Parses and checks the device list; throws ConfigError naming the variable and the field. */
export function parseDeviceList(text: string, variable = 'BRIDGE_DEVICES'): PortConfig[] {
  const c = new Checker(variable);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    c.fail('', `is not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(value)) c.fail('', 'must be a JSON array of ports');
  const ports = (value as unknown[]).map((p, i) => port(c, p, `[${i}]`));
  const names = new Set<string>();
  const ids = new Set<string>();
  ports.forEach((p, i) => {
    if (names.has(p.name)) c.fail(`[${i}].name`, `"${p.name}" is used twice`);
    names.add(p.name);
    p.probes.forEach((q, j) => {
      if (ids.has(q.id)) c.fail(`[${i}].probes[${j}].id`, `"${q.id}" is used twice`);
      ids.add(q.id);
    });
  });
  return ports;
}

/** BRIDGE_DEVICES_FILE wins over BRIDGE_DEVICES when both are set. */
export function loadDeviceList(config: {
  BRIDGE_DEVICES: string;
  BRIDGE_DEVICES_FILE?: string;
}): PortConfig[] {
  if (config.BRIDGE_DEVICES_FILE) {
    let text: string;
    try {
      text = readFileSync(config.BRIDGE_DEVICES_FILE, 'utf8');
    } catch (error) {
      throw new ConfigError(
        ['BRIDGE_DEVICES_FILE'],
        `Invalid configuration:\n  BRIDGE_DEVICES_FILE: cannot read ${config.BRIDGE_DEVICES_FILE} (${(error as Error).message})`,
      );
    }
    return parseDeviceList(text, 'BRIDGE_DEVICES_FILE');
  }
  return parseDeviceList(config.BRIDGE_DEVICES);
}
