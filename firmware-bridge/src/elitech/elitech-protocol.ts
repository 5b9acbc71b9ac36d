import { sum8 } from '../codec/checksums.js';

/**
 * Elitech RC-4 / RC-4HC / RC-5 serial protocol, as published (COLD-CHAIN.md; the same layout the open
 * elitech-datareader reads): 115 200 8N1; requests start 0xCC (no station) or 0x33 (station-addressed),
 * replies start 0x55, the last byte of every message is the sum of the preceding bytes mod 256; integers and
 * datetimes big-endian; datetime = year (2 bytes), month, day, hour, minute, second, on the device clock.
 */

export const REPLY_START = 0x55;
export const DEVICE_INFO_BYTES = 160;
export const HEADER_REPLY_BYTES = 11;
/** The handshake answer: 0x55 0xA5 (some firmware appends the checksum 0xFA). */
export const INIT_REPLY = Buffer.from([0x55, 0xa5]);

export interface ElitechModel {
  code: number;
  name: string;
  /** Records per data page. */
  pageSize: number;
  /** int16 values per record: 1 (T) or 2 (T, RH). */
  valuesPerRecord: 1 | 2;
  /** Rated range: outside it a value is a sensor fault (COLD-CHAIN.md), never a temperature. */
  minC: number;
  maxC: number;
  /** Records the memory holds; in loop recording a full logger drops its oldest and moves `start`. */
  capacity: number;
}

export const ELITECH_MODELS: Readonly<Record<number, ElitechModel>> = {
  40: { code: 40, name: 'RC-4', pageSize: 100, valuesPerRecord: 1, minC: -30, maxC: 60, capacity: 16_000 },
  42: { code: 42, name: 'RC-4HC', pageSize: 200, valuesPerRecord: 2, minC: -30, maxC: 60, capacity: 16_000 },
  50: { code: 50, name: 'RC-5', pageSize: 500, valuesPerRecord: 1, minC: -30, maxC: 70, capacity: 32_000 },
};

function withChecksum(bytes: number[]): Buffer {
  const b = Buffer.from([...bytes, 0]);
  b[b.length - 1] = sum8(b, 0, b.length - 1);
  return b;
}

export const initRequest = (): Buffer => withChecksum([0xcc, 0x00, 0x0a, 0x00]);
export const deviceInfoRequest = (): Buffer => withChecksum([0xcc, 0x00, 0x06, 0x00]);
export const dataHeaderRequest = (station: number): Buffer => withChecksum([0x33, station, 0x01, 0x00]);
export const dataPageRequest = (station: number, page: number): Buffer =>
  withChecksum([0x33, station, 0x02, page & 0xff]);

/** A reply that does not start with 0x55 or whose last byte is not the sum of the others. */
export function replyValid(reply: Buffer): boolean {
  return (
    reply.length >= 2 &&
    reply[0] === REPLY_START &&
    sum8(reply, 0, reply.length - 1) === reply[reply.length - 1]
  );
}

/** Device datetime → ms. The clock has no zone: the bridge reads it as UTC and lets the skew policy correct. */
export function readDateTime(bytes: Buffer, offset: number): number | null {
  const year = bytes.readUInt16BE(offset);
  const month = bytes.readUInt8(offset + 2);
  const day = bytes.readUInt8(offset + 3);
  const hour = bytes.readUInt8(offset + 4);
  const minute = bytes.readUInt8(offset + 5);
  const second = bytes.readUInt8(offset + 6);
  if (year < 2000 || year > 2099 || month < 1 || month > 12 || day < 1 || day > 31) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // 31 February rolls over into March in Date.UTC: such a date is garbage, not a time.
  return new Date(ms).getUTCDate() === day ? ms : null;
}

export interface ElitechDeviceInfo {
  station: number;
  model: ElitechModel | null;
  modelCode: number;
  intervalS: number;
  upperLimitC: number;
  lowerLimitC: number;
  /** 0 not started, 1 logging, 2 stopped, 3 delayed start. */
  workStatus: number;
  startMs: number | null;
  recordCount: number;
  deviceMs: number | null;
  deviceNumber: string;
  calibrationC: number;
}

function ascii(bytes: Buffer, offset: number, length: number): string {
  const raw = bytes.subarray(offset, offset + length);
  const nul = raw.indexOf(0);
  const text = raw.subarray(0, nul === -1 ? length : nul).toString('latin1');
  // Only printable ASCII survives: a device-supplied string goes into logs and the API.
  return text.replace(/[^\x20-\x7e]/g, '').trim();
}

/** The 160-byte device-info reply (offsets as the published layout). */
export function decodeDeviceInfo(reply: Buffer): ElitechDeviceInfo {
  const modelCode = reply[3]!;
  return {
    station: reply[1]!,
    modelCode,
    model: ELITECH_MODELS[modelCode] ?? null,
    intervalS: reply[5]! * 3600 + reply[6]! * 60 + reply[7]!,
    upperLimitC: reply.readInt16BE(8) / 10,
    lowerLimitC: reply.readInt16BE(10) / 10,
    workStatus: reply[19]!,
    startMs: readDateTime(reply, 20),
    recordCount: reply.readUInt16BE(29),
    deviceMs: readDateTime(reply, 31),
    deviceNumber: ascii(reply, 138, 10),
    calibrationC: reply.readInt8(152) / 10,
  };
}

export function decodeDataHeader(reply: Buffer): { recordCount: number; startMs: number | null } {
  return { recordCount: reply.readUInt16BE(1), startMs: readDateTime(reply, 3) };
}

/** Bytes of the reply to page `page` when the mission holds `count` records. */
export function pageReplyBytes(model: ElitechModel, count: number, page: number): number {
  const inPage = Math.max(0, Math.min(model.pageSize, count - page * model.pageSize));
  return 2 + inPage * model.valuesPerRecord * 2;
}

export interface ElitechValue {
  temperatureC: number | null;
  humidityPct: number | null | undefined;
}

/** The values of one page: int16 BE × 0.1; out of the rated range → fault (null). */
export function decodePage(model: ElitechModel, reply: Buffer): ElitechValue[] {
  const per = model.valuesPerRecord;
  const n = (reply.length - 2) / (2 * per);
  const out: ElitechValue[] = new Array<ElitechValue>(n);
  for (let i = 0; i < n; i++) {
    const t = reply.readInt16BE(1 + i * 2 * per) / 10;
    const value: ElitechValue = {
      temperatureC: t < model.minC || t > model.maxC ? null : t,
      humidityPct: undefined,
    };
    if (per === 2) {
      const rh = reply.readInt16BE(3 + i * 4) / 10;
      value.humidityPct = rh < 0 || rh > 100 ? null : rh;
    }
    out[i] = value;
  }
  return out;
}
