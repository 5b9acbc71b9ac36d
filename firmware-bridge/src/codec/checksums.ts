/**
 * The checksums the bridge meets on the wire and uses on disk. Table-driven: the hot path (every frame,
 * every spool entry) does one lookup per byte.
 */

function table16(poly: number, reflected: boolean): Uint16Array {
  const t = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = reflected ? n : n << 8;
    for (let k = 0; k < 8; k++) {
      if (reflected) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
      else c = c & 0x8000 ? ((c << 1) ^ poly) & 0xffff : (c << 1) & 0xffff;
    }
    t[n] = c;
  }
  return t;
}

const CCITT = table16(0x1021, false);
/** CRC-16/MODBUS: poly 0x8005 reflected (0xA001), init 0xFFFF. */
const MODBUS = table16(0xa001, true);

const CRC32 = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, not reflected): the native protocol (PROTOCOL.md §1). */
export function crc16Ccitt(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffff;
  for (let i = start; i < end; i++) c = ((c << 8) & 0xffff) ^ CCITT[((c >>> 8) ^ bytes[i]!) & 0xff]!;
  return c;
}

/** CRC-16/MODBUS, sent low byte first (Modbus over serial line V1.02 §2.5.1.2). */
export function crc16Modbus(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffff;
  for (let i = start; i < end; i++) c = (c >>> 8) ^ MODBUS[(c ^ bytes[i]!) & 0xff]!;
  return c;
}

/** CRC-32 (IEEE 802.3, as zlib): the spool's per-entry checksum. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = (c >>> 8) ^ CRC32[(c ^ bytes[i]!) & 0xff]!;
  return (c ^ 0xffffffff) >>> 0;
}

/** Elitech: the sum of the preceding bytes mod 256. */
export function sum8(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s += bytes[i]!;
  return s & 0xff;
}

/** Bytes as spaced upper-case hex, capped so that a flood of garbage cannot flood the log. */
export function hex(bytes: Uint8Array, max = 64): string {
  const shown = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, '0').toUpperCase());
  return bytes.length > max ? `${shown.join(' ')} … (${bytes.length} bytes)` : shown.join(' ');
}

/** `"A5 01 0C"` → bytes (tests, docs, config). */
export function fromHex(text: string): Buffer {
  return Buffer.from(text.replace(/[^0-9a-fA-F]/g, ''), 'hex');
}
