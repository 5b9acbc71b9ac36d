import { type FrameVerdict } from './frame-reader.js';

/*
 * The Elitech RC-4/RC-4HC/RC-5 serial protocol as the device speaks it (layout: ./ELITECH.md). Written from
 * the device's side and independently of the bridge's decoder, so that one misreading cannot hide on both.
 */

export const ELITECH_REQUEST_INFO = 0xcc;
export const ELITECH_REQUEST_STATION = 0x33;
export const ELITECH_RESPONSE = 0x55;
export const ELITECH_INFO_LENGTH = 160;

/** Elitech checksum: sum of every preceding byte, mod 256. */
export function elitechChecksum(bytes: Uint8Array, end = bytes.length): number {
  let sum = 0;
  for (let i = 0; i < end; i++) sum = (sum + (bytes[i] ?? 0)) & 0xff;
  return sum;
}

export function withElitechChecksum(body: Uint8Array | readonly number[]): Buffer {
  const out = Buffer.alloc(body.length + 1);
  out.set(body);
  out[body.length] = elitechChecksum(out, body.length);
  return out;
}

/** 7-byte datetime: year u16 BE, month, day, hour, minute, second — wall-clock fields, written as UTC. */
export function encodeElitechDateTime(ms: number): Buffer {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const out = Buffer.alloc(7);
  out.writeUInt16BE(d.getUTCFullYear(), 0);
  out[2] = d.getUTCMonth() + 1;
  out[3] = d.getUTCDate();
  out[4] = d.getUTCHours();
  out[5] = d.getUTCMinutes();
  out[6] = d.getUTCSeconds();
  return out;
}

/** Null when the fields are not a real date (e.g. all zero: a logger that never started). */
export function decodeElitechDateTime(bytes: Buffer, offset = 0): number | null {
  const year = bytes.readUInt16BE(offset);
  const [month, day, hour, minute, second] = [1, 2, 3, 4, 5].map((i) => bytes[offset + 1 + i] ?? 0xff) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  return new Date(ms).getUTCDate() === day ? ms : null;
}

export interface ElitechParameters {
  intervalS: number;
  upperTenthsC: number;
  lowerTenthsC: number;
  newStation: number;
  stopButton: number;
  delayCode: number;
  tone: number;
  alarm: number;
  unit: number;
  calibrationTenthsC: number;
  humidityUpperTenths: number;
  humidityLowerTenths: number;
  humidityCalibrationTenths: number;
}

export type ElitechRequest =
  | { kind: 'handshake' }
  | { kind: 'device-info' }
  | { kind: 'data-header'; station: number }
  | { kind: 'data-page'; station: number; page: number }
  | { kind: 'set-clock'; station: number; wallMs: number }
  | { kind: 'set-parameters'; station: number; parameters: ElitechParameters }
  | { kind: 'set-device-number'; station: number; deviceNumber: string }
  | { kind: 'set-user-info'; station: number; userInfo: string };

/** Request lengths (checksum included) by command byte: the protocol has no length field. */
const STATION_REQUEST_LENGTH: Record<number, number> = {
  0x01: 5,
  0x02: 5,
  0x05: 25,
  0x07: 12,
  0x09: 105,
  0x0b: 15,
};

/** Frame recogniser for FrameReader: requests as the host sends them. */
export function recogniseElitechRequest(buffer: Buffer): FrameVerdict<ElitechRequest> {
  const start = buffer[0];
  if (start !== ELITECH_REQUEST_INFO && start !== ELITECH_REQUEST_STATION) return 'invalid';
  if (buffer.length < 3) return 'incomplete';
  const command = buffer[2] ?? 0;
  const length = start === ELITECH_REQUEST_INFO ? 5 : STATION_REQUEST_LENGTH[command];
  if (length === undefined) return 'invalid';
  if (buffer.length < length) return 'incomplete';
  if (elitechChecksum(buffer, length - 1) !== buffer[length - 1]) return 'invalid';
  const frame = decode(buffer.subarray(0, length));
  return frame ? { frame, length } : { skip: length };
}

function decode(req: Buffer): ElitechRequest | null {
  const station = req[1] ?? 0;
  const command = req[2] ?? 0;
  if (req[0] === ELITECH_REQUEST_INFO) {
    if (command === 0x0a) return { kind: 'handshake' };
    if (command === 0x06) return { kind: 'device-info' };
    return null;
  }
  switch (command) {
    case 0x01:
      return { kind: 'data-header', station };
    case 0x02:
      return { kind: 'data-page', station, page: req[3] ?? 0 };
    case 0x07: {
      const wallMs = decodeElitechDateTime(req, 4);
      return wallMs === null ? null : { kind: 'set-clock', station, wallMs };
    }
    case 0x05:
      return {
        kind: 'set-parameters',
        station,
        parameters: {
          intervalS: (req[4] ?? 0) * 3600 + (req[5] ?? 0) * 60 + (req[6] ?? 0),
          upperTenthsC: req.readInt16BE(7),
          lowerTenthsC: req.readInt16BE(9),
          newStation: req[11] ?? station,
          stopButton: req[12] ?? 0x13,
          delayCode: req[13] ?? 0,
          tone: req[14] ?? 0x31,
          alarm: req[15] ?? 0,
          unit: req[16] ?? 0x31,
          calibrationTenthsC: req.readInt8(17),
          humidityUpperTenths: req.readInt16BE(18),
          humidityLowerTenths: req.readInt16BE(20),
          humidityCalibrationTenths: req.readInt8(23),
        },
      };
    case 0x0b:
      return {
        kind: 'set-device-number',
        station,
        deviceNumber: req.subarray(4, 14).toString('latin1').replace(/\0+$/, ''),
      };
    case 0x09:
      return {
        kind: 'set-user-info',
        station,
        userInfo: req.subarray(4, 104).toString('latin1').replace(/\0+$/, ''),
      };
    default:
      return null;
  }
}

export interface ElitechInfo {
  station: number;
  modelCode: number;
  intervalS: number;
  upperTenthsC: number;
  lowerTenthsC: number;
  lastOnlineMs: number | null;
  status: 0 | 1 | 2;
  startMs: number | null;
  stopButton: number;
  recordCount: number;
  nowMs: number;
  userInfo: string;
  deviceNumber: string;
  delayCode: number;
  tone: number;
  alarm: number;
  calibrationTenthsC: number;
  humidityUpperTenths: number;
  humidityLowerTenths: number;
  humidityCalibrationTenths: number;
}

function datetimeOrZero(ms: number | null): Buffer {
  return ms === null ? Buffer.alloc(7) : encodeElitechDateTime(ms);
}

/** The 160-byte device-info reply (offsets: ELITECH.md). */
export function encodeElitechInfo(info: ElitechInfo): Buffer {
  const out = Buffer.alloc(ELITECH_INFO_LENGTH);
  out[0] = ELITECH_RESPONSE;
  out[1] = info.station;
  out[2] = 0x01;
  out[3] = info.modelCode;
  out[4] = 0x0a;
  out[5] = Math.floor(info.intervalS / 3600);
  out[6] = Math.floor((info.intervalS % 3600) / 60);
  out[7] = info.intervalS % 60;
  out.writeInt16BE(info.upperTenthsC, 8);
  out.writeInt16BE(info.lowerTenthsC, 10);
  datetimeOrZero(info.lastOnlineMs ?? info.startMs).copy(out, 12);
  out[19] = info.status;
  datetimeOrZero(info.startMs).copy(out, 20);
  out[27] = info.stopButton;
  out[28] = 0x00;
  out.writeUInt16BE(info.recordCount, 29);
  encodeElitechDateTime(info.nowMs).copy(out, 31);
  out.write(info.userInfo.slice(0, 100), 38, 100, 'latin1');
  out.write(info.deviceNumber.slice(0, 10), 138, 10, 'latin1');
  out[148] = info.delayCode;
  out[149] = info.tone;
  out[150] = info.alarm;
  out[151] = 0x31;
  out.writeInt8(info.calibrationTenthsC, 152);
  out.writeInt16BE(info.humidityUpperTenths, 153);
  out.writeInt16BE(info.humidityLowerTenths, 155);
  out[157] = 0x00;
  out.writeInt8(info.humidityCalibrationTenths, 158);
  out[159] = elitechChecksum(out, 159);
  return out;
}

export function encodeElitechHeader(count: number, startMs: number | null): Buffer {
  return withElitechChecksum([
    ELITECH_RESPONSE,
    (count >> 8) & 0xff,
    count & 0xff,
    ...datetimeOrZero(startMs),
  ]);
}

/** A data page: each record is one int16 BE (temperature) or two (temperature, RH) for the RC-4HC. */
export function encodeElitechPage(records: readonly (readonly number[])[]): Buffer {
  const perRecord = records[0]?.length ?? 0;
  const out = Buffer.alloc(2 + records.length * perRecord * 2);
  out[0] = ELITECH_RESPONSE;
  let offset = 1;
  for (const record of records) {
    for (const value of record) offset = out.writeInt16BE(value, offset);
  }
  out[offset] = elitechChecksum(out, offset);
  return out;
}

/** The 3-byte acknowledgements: handshake A5, set parameters A0, set clock A3, device number A7, user info AB. */
export function encodeElitechAck(code: number): Buffer {
  return withElitechChecksum([ELITECH_RESPONSE, code]);
}
