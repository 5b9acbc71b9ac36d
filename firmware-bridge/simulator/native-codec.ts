import { type FrameVerdict } from './frame-reader.js';

/*
 * Our native logger protocol, version 1, device side, written from firmware-bridge/PROTOCOL.md and from
 * nothing else: the bridge's codec is the other, independent reading of the same page.
 */

export const NATIVE_SOF = 0xa5;
export const NATIVE_VERSION = 0x01;
export const NATIVE_MAX_PAYLOAD = 1024;
/** PROTOCOL.md §1: SOF, VER, TYPE, TAG, LEN (2), HCHK. */
export const NATIVE_HEADER_LENGTH = 7;
export const NATIVE_RECORD_LENGTH = 14;

export const NativeType = {
  identify: 0x01,
  setClock: 0x02,
  download: 0x03,
  ack: 0x04,
  missionStart: 0x05,
  missionStop: 0x06,
  setInterval: 0x07,
  liveRecord: 0xc0,
  nak: 0xff,
} as const;

export const NakCode = {
  unknownType: 1,
  badLength: 2,
  badArgument: 3,
  busy: 4,
  unsupportedVersion: 5,
  internalError: 6,
} as const;

/** CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, not reflected, xorout 0. Check "123456789" = 0x29B1. */
export function crc16CcittFalse(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) {
    crc ^= (bytes[i] ?? 0) << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** Header check: the one's complement of the byte sum of VER, TYPE, TAG, LEN_lo, LEN_hi. */
export function headerCheck(version: number, type: number, tag: number, length: number): number {
  return ~(version + type + tag + (length & 0xff) + (length >> 8)) & 0xff;
}

export interface NativeFrame {
  version: number;
  type: number;
  tag: number;
  payload: Buffer;
}

export function encodeNativeFrame(type: number, tag: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  if (payload.length > NATIVE_MAX_PAYLOAD) throw new RangeError(`payload of ${payload.length} bytes > 1024`);
  const out = Buffer.alloc(NATIVE_HEADER_LENGTH + payload.length + 2);
  out[0] = NATIVE_SOF;
  out[1] = NATIVE_VERSION;
  out[2] = type;
  out[3] = tag;
  out.writeUInt16LE(payload.length, 4);
  out[6] = headerCheck(NATIVE_VERSION, type, tag, payload.length);
  out.set(payload, NATIVE_HEADER_LENGTH);
  out.writeUInt16LE(
    crc16CcittFalse(out, 1, NATIVE_HEADER_LENGTH + payload.length),
    NATIVE_HEADER_LENGTH + payload.length,
  );
  return out;
}

/** PROTOCOL.md §1 receiver, steps 1–4 (FrameReader does the resync of step 5 and the 100 ms of step 6). */
export function recogniseNativeFrame(buffer: Buffer): FrameVerdict<NativeFrame> {
  if (buffer[0] !== NATIVE_SOF) return 'invalid';
  if (buffer.length < NATIVE_HEADER_LENGTH) return 'incomplete';
  const version = buffer[1] ?? 0;
  const type = buffer[2] ?? 0;
  const tag = buffer[3] ?? 0;
  const length = buffer.readUInt16LE(4);
  if (version !== NATIVE_VERSION) return 'invalid';
  if (buffer[6] !== headerCheck(version, type, tag, length) || length > NATIVE_MAX_PAYLOAD) return 'invalid';
  const total = NATIVE_HEADER_LENGTH + length + 2;
  if (buffer.length < total) return 'incomplete';
  if (buffer.readUInt16LE(total - 2) !== crc16CcittFalse(buffer, 1, total - 2)) return 'invalid';
  return {
    frame: { version, type, tag, payload: Buffer.from(buffer.subarray(NATIVE_HEADER_LENGTH, total - 2)) },
    length: total,
  };
}

export const RecordFlag = {
  sensorFault: 0x01,
  clockSet: 0x02,
  batteryLow: 0x04,
  clockUnset: 0x08,
} as const;

/** Temperature value meaning "sensor fault" (PROTOCOL.md §3.0). */
export const SENSOR_FAULT_CENTI_C = -32768;
export const NO_HUMIDITY = 0xffff;

export interface NativeRecord {
  seq: number;
  timeS: number;
  centiC: number;
  centiRh: number;
  flags: number;
}

export function encodeNativeRecord(
  record: NativeRecord,
  out: Buffer = Buffer.alloc(NATIVE_RECORD_LENGTH),
  at = 0,
): Buffer {
  out.writeUInt32LE(record.seq >>> 0, at);
  out.writeUInt32LE(record.timeS >>> 0, at + 4);
  out.writeInt16LE(record.centiC, at + 8);
  out.writeUInt16LE(record.centiRh, at + 10);
  out[at + 12] = record.flags;
  out[at + 13] = 0;
  return out;
}

export interface NativeIdentity {
  serial: string;
  model: string;
  firmware: readonly [number, number, number];
  intervalS: number;
  batteryPct: number;
  missionRunning: boolean;
  calibrationDue: { year: number; month: number; day: number } | null;
  clockMs: number;
  lowest: number;
  next: number;
  capacity: number;
}

export function encodeIdentifyPayload(id: NativeIdentity): Buffer {
  const out = Buffer.alloc(66);
  out.write(id.serial.slice(0, 16), 0, 16, 'latin1');
  out.write(id.model.slice(0, 16), 16, 16, 'latin1');
  out[32] = id.firmware[0];
  out[33] = id.firmware[1];
  out.writeUInt16LE(id.firmware[2], 34);
  out.writeUInt32LE(id.intervalS, 36);
  out[40] = id.batteryPct;
  out[41] = id.missionRunning ? 1 : 0;
  out.writeUInt16LE(id.calibrationDue?.year ?? 0, 42);
  out[44] = id.calibrationDue?.month ?? 0;
  out[45] = id.calibrationDue?.day ?? 0;
  out.writeBigInt64LE(BigInt(Math.floor(id.clockMs)), 46);
  out.writeUInt32LE(id.lowest >>> 0, 54);
  out.writeUInt32LE(id.next >>> 0, 58);
  out.writeUInt32LE(id.capacity >>> 0, 62);
  return out;
}

export function encodeLiveRecordPayload(clockMs: number, record: NativeRecord): Buffer {
  const out = Buffer.alloc(8 + NATIVE_RECORD_LENGTH);
  out.writeBigInt64LE(BigInt(Math.floor(clockMs)), 0);
  encodeNativeRecord(record, out, 8);
  return out;
}

export function encodeDownloadPayload(
  lowest: number,
  next: number,
  records: readonly NativeRecord[],
): Buffer {
  const out = Buffer.alloc(9 + records.length * NATIVE_RECORD_LENGTH);
  out.writeUInt32LE(lowest >>> 0, 0);
  out.writeUInt32LE(next >>> 0, 4);
  out[8] = records.length;
  records.forEach((record, i) => encodeNativeRecord(record, out, 9 + i * NATIVE_RECORD_LENGTH));
  return out;
}
