import { type FrameVerdict } from './frame-reader.js';

/*
 * Modbus RTU, server (slave) side, written for the simulator alone: the bridge uses a Modbus library, and the
 * simulator must not share it (STYLE.md: a simulator sharing code paths with what it tests is wrong with it).
 */

/** CRC-16/MODBUS: poly 0xA001 (reflected 0x8005), init 0xFFFF; sent low byte first. Check "123456789" = 0x4B37. */
export function crc16Modbus(bytes: Uint8Array, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = 0; i < end; i++) {
    crc ^= bytes[i] ?? 0;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

export function withModbusCrc(body: Uint8Array | readonly number[]): Buffer {
  const out = Buffer.alloc(body.length + 2);
  out.set(body);
  out.writeUInt16LE(crc16Modbus(out, body.length), body.length);
  return out;
}

function crcOk(frame: Buffer, length: number): boolean {
  return length >= 4 && frame.readUInt16LE(length - 2) === crc16Modbus(frame, length - 2);
}

export interface ModbusRequest {
  address: number;
  functionCode: number;
  /** PDU after the function code, CRC excluded. */
  data: Buffer;
}

export const MODBUS_EXCEPTION = {
  illegalFunction: 0x01,
  illegalDataAddress: 0x02,
  illegalDataValue: 0x03,
  serverDeviceFailure: 0x04,
} as const;

/** RTU frame length for the request of a function code, or null when the code carries no fixed length. */
function requestLength(buffer: Buffer): number | 'incomplete' | null {
  const fn = buffer[1];
  if (fn === undefined) return 'incomplete';
  if (fn >= 0x01 && fn <= 0x06) return 8;
  if (fn === 0x0f || fn === 0x10) {
    const byteCount = buffer[6];
    return byteCount === undefined ? 'incomplete' : 9 + byteCount;
  }
  return null;
}

/**
 * RTU frames end with line silence (t3.5); a pty carries no timing, so the length implied by the function code
 * delimits the frame, and the FrameReader's silence timeout abandons a partial one. A frame with an unknown
 * function code is taken whole when the buffered bytes end on a valid CRC (a host writes a frame in one go).
 */
export function recogniseModbusRequest(buffer: Buffer): FrameVerdict<ModbusRequest> {
  const length = requestLength(buffer);
  if (length === 'incomplete') return 'incomplete';
  const whole = length ?? buffer.length;
  if (length === null && !crcOk(buffer, whole)) return buffer.length >= 256 ? 'invalid' : 'incomplete';
  if (buffer.length < whole) return 'incomplete';
  if (!crcOk(buffer, whole)) return 'invalid';
  return {
    frame: {
      address: buffer[0] ?? 0,
      functionCode: buffer[1] ?? 0,
      data: Buffer.from(buffer.subarray(2, whole - 2)),
    },
    length: whole,
  };
}

export function encodeReadRegistersReply(
  address: number,
  functionCode: number,
  registers: readonly number[],
): Buffer {
  const body = Buffer.alloc(3 + registers.length * 2);
  body[0] = address;
  body[1] = functionCode;
  body[2] = registers.length * 2;
  registers.forEach((value, i) => body.writeUInt16BE(value & 0xffff, 3 + i * 2));
  return withModbusCrc(body);
}

export function encodeExceptionReply(address: number, functionCode: number, code: number): Buffer {
  return withModbusCrc([address, functionCode | 0x80, code]);
}

export function encodeWriteSingleReply(address: number, register: number, value: number): Buffer {
  const body = Buffer.alloc(6);
  body[0] = address;
  body[1] = 0x06;
  body.writeUInt16BE(register, 2);
  body.writeUInt16BE(value, 4);
  return withModbusCrc(body);
}
