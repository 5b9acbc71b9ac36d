import { isCalendarDate } from '@lyotrace/domain';
import { UNREADABLE_CALIBRATION } from '../clock/skew-policy.js';
import { crc16Ccitt } from '../codec/checksums.js';

/** Framing constants of PROTOCOL.md §1. */
export const SOF = 0xa5;
export const NATIVE_VERSION = 0x01;
export const HEADER_BYTES = 7;
export const FRAME_OVERHEAD = 9;
export const MAX_PAYLOAD = 1024;
export const MAX_FRAME = MAX_PAYLOAD + FRAME_OVERHEAD;
export const RECORD_BYTES = 14;
/** PROTOCOL.md §3.3: at most 64 records per DOWNLOAD reply. */
export const MAX_DOWNLOAD = 64;
/** PROTOCOL.md §3.0: temperature sentinel for a sensor fault; RH sentinel for "not measured". */
export const TEMP_FAULT = -32768;
export const RH_NONE = 0xffff;

/** Message types (PROTOCOL.md §3): plain numbers, since they are compared with bytes off the wire. */
export const NativeType = {
  Identify: 0x01,
  SetClock: 0x02,
  Download: 0x03,
  Ack: 0x04,
  MissionStart: 0x05,
  MissionStop: 0x06,
  SetInterval: 0x07,
  LiveRecord: 0xc0,
  Nak: 0xff,
} as const;
export const REPLY_BIT = 0x80;

/** Record flag bits (PROTOCOL.md §3.0). */
export const RecordFlag = {
  SensorFault: 0x01,
  ClockSet: 0x02,
  BatteryLow: 0x04,
  ClockUnset: 0x08,
} as const;

export const NAK_REASONS: Readonly<Record<number, string>> = {
  1: 'unknown type',
  2: 'bad payload length',
  3: 'bad argument',
  4: 'busy',
  5: 'unsupported version',
  6: 'internal error',
};

export interface NativeFrame {
  version: number;
  type: number;
  tag: number;
  /** A view into the parser's buffer: decode it before the next push. */
  payload: Buffer;
}

/** The header check byte: ~(VER + TYPE + TAG + LEN_lo + LEN_hi). */
export function headerCheck(version: number, type: number, tag: number, length: number): number {
  return ~(version + type + tag + (length & 0xff) + (length >>> 8)) & 0xff;
}

export function encodeFrame(type: number, tag: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  if (payload.length > MAX_PAYLOAD)
    throw new RangeError(`payload of ${payload.length} bytes > ${MAX_PAYLOAD}`);
  const frame = Buffer.allocUnsafe(payload.length + FRAME_OVERHEAD);
  frame[0] = SOF;
  frame[1] = NATIVE_VERSION;
  frame[2] = type;
  frame[3] = tag;
  frame.writeUInt16LE(payload.length, 4);
  frame[6] = headerCheck(NATIVE_VERSION, type, tag, payload.length);
  frame.set(payload, HEADER_BYTES);
  frame.writeUInt16LE(crc16Ccitt(frame, 1, HEADER_BYTES + payload.length), HEADER_BYTES + payload.length);
  return frame;
}

/** A well-formed frame whose payload does not fit its type. */
export class MalformedPayloadError extends Error {
  constructor(type: number, expected: number, actual: number) {
    super(`type 0x${type.toString(16)}: payload of ${actual} bytes, at least ${expected} expected`);
    this.name = 'MalformedPayloadError';
  }
}

function need(type: number, payload: Buffer, bytes: number): void {
  if (payload.length < bytes) throw new MalformedPayloadError(type, bytes, payload.length);
}

// ---- requests (host → device) ----

export const identifyRequest = (tag: number): Buffer => encodeFrame(NativeType.Identify, tag);

export function downloadRequest(tag: number, from: number, max: number = MAX_DOWNLOAD): Buffer {
  const p = Buffer.alloc(5);
  p.writeUInt32LE(from, 0);
  p.writeUInt8(Math.max(1, Math.min(MAX_DOWNLOAD, max)), 4);
  return encodeFrame(NativeType.Download, tag, p);
}

export function ackRequest(tag: number, upTo: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32LE(upTo, 0);
  return encodeFrame(NativeType.Ack, tag, p);
}

export function setClockRequest(tag: number, hostMs: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeBigInt64LE(BigInt(Math.round(hostMs)), 0);
  return encodeFrame(NativeType.SetClock, tag, p);
}

// ---- replies and pushes (device → host) ----

export interface NativeRecord {
  seq: number;
  /** Device clock at sampling, ms since the epoch (the wire carries whole seconds). */
  timeMs: number;
  /** °C, or null for the fault sentinel. */
  temperatureC: number | null;
  /** %RH, or null when not measured. */
  humidityPct: number | null;
  flags: number;
}

export function decodeRecord(bytes: Buffer, offset: number): NativeRecord {
  const raw = bytes.readInt16LE(offset + 8);
  const rh = bytes.readUInt16LE(offset + 10);
  const flags = bytes[offset + 12]!;
  const fault = raw === TEMP_FAULT || (flags & RecordFlag.SensorFault) !== 0;
  return {
    seq: bytes.readUInt32LE(offset),
    timeMs: bytes.readUInt32LE(offset + 4) * 1000,
    // Fixed-point on the wire; divide once here and never round again (COLD-CHAIN.md: no rounding before sums).
    temperatureC: fault ? null : raw / 100,
    humidityPct: rh === RH_NONE ? null : rh / 100,
    flags: fault ? flags | RecordFlag.SensorFault : flags,
  };
}

export interface NativeIdentity {
  serial: string;
  model: string;
  firmware: string;
  intervalS: number;
  /** 0–100, or null when unknown. */
  batteryPct: number | null;
  missionRunning: boolean;
  /** `YYYY-MM-DD`, null when the device does not know, UNREADABLE_CALIBRATION when it sent no real date. */
  calibrationDue: string | null;
  deviceMs: number;
  lowest: number;
  next: number;
  capacity: number;
}

const IDENTIFY_BYTES = 66;

function ascii(bytes: Buffer, offset: number, length: number): string {
  const raw = bytes.subarray(offset, offset + length);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul === -1 ? length : nul).toString('latin1');
}

export function decodeIdentify(payload: Buffer): NativeIdentity {
  need(NativeType.Identify | REPLY_BIT, payload, IDENTIFY_BYTES);
  const serial = ascii(payload, 0, 16);
  if (!/^[\x21-\x7e][\x20-\x7e]*$/.test(serial))
    throw new MalformedPayloadError(NativeType.Identify | REPLY_BIT, IDENTIFY_BYTES, payload.length);
  const year = payload.readUInt16LE(42);
  const due = `${String(year).padStart(4, '0')}-${String(payload[44]).padStart(2, '0')}-${String(payload[45]).padStart(2, '0')}`;
  const battery = payload[40]!;
  return {
    serial: serial.trimEnd(),
    model: ascii(payload, 16, 16).trimEnd(),
    firmware: `${payload[32]}.${payload[33]}.${payload.readUInt16LE(34)}`,
    intervalS: payload.readUInt32LE(36),
    batteryPct: battery === 0xff ? null : battery,
    missionRunning: payload[41] === 1,
    calibrationDue: year === 0 ? null : isCalendarDate(due) ? due : UNREADABLE_CALIBRATION,
    deviceMs: Number(payload.readBigInt64LE(46)),
    lowest: payload.readUInt32LE(54),
    next: payload.readUInt32LE(58),
    capacity: payload.readUInt32LE(62),
  };
}

export interface DownloadReply {
  lowest: number;
  next: number;
  records: NativeRecord[];
}

export function decodeDownload(payload: Buffer): DownloadReply {
  const type = NativeType.Download | REPLY_BIT;
  need(type, payload, 9);
  const count = payload[8]!;
  need(type, payload, 9 + count * RECORD_BYTES);
  const records: NativeRecord[] = new Array<NativeRecord>(count);
  for (let i = 0; i < count; i++) records[i] = decodeRecord(payload, 9 + i * RECORD_BYTES);
  return { lowest: payload.readUInt32LE(0), next: payload.readUInt32LE(4), records };
}

export function decodeAck(payload: Buffer): { acked: number; lowest: number } {
  need(NativeType.Ack | REPLY_BIT, payload, 8);
  return { acked: payload.readUInt32LE(0), lowest: payload.readUInt32LE(4) };
}

export function decodeSetClock(payload: Buffer): { beforeMs: number; afterMs: number } {
  need(NativeType.SetClock | REPLY_BIT, payload, 16);
  return { beforeMs: Number(payload.readBigInt64LE(0)), afterMs: Number(payload.readBigInt64LE(8)) };
}

export function decodeLive(payload: Buffer): { deviceMs: number; record: NativeRecord } {
  need(NativeType.LiveRecord, payload, 8 + RECORD_BYTES);
  return { deviceMs: Number(payload.readBigInt64LE(0)), record: decodeRecord(payload, 8) };
}

export function decodeNak(payload: Buffer): { requestType: number; code: number; reason: string } {
  need(NativeType.Nak, payload, 2);
  const code = payload[1]!;
  return { requestType: payload[0]!, code, reason: NAK_REASONS[code] ?? `code ${code}` };
}
