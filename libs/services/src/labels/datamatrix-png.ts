import { deflateSync } from 'node:zlib';
import bwipjs from 'bwip-js';

/**
 * A GS1 DataMatrix as a bare 1-bit greyscale PNG: the module matrix from bwip-js (`raw`, no drawing), each
 * module `pxPerModule` pixels square, with a white quiet zone of `quietModules`. It is what the A4 sheet
 * embeds: a few hundred bytes a symbol, and PDFKit takes a non-alpha PNG's IDAT as is (no re-encoding), which
 * makes it several times faster than `toBuffer` for sheets of hundreds of labels.
 *
 * The caller checks `humanReadable` first (see `checkVialLabel`); bwip-js still refuses invalid GS1 itself.
 */
export function gs1DataMatrixPng(humanReadable: string, pxPerModule = 4, quietModules = 2): Buffer {
  const [symbol] = bwipjs.raw({ bcid: 'gs1datamatrix', text: humanReadable });
  if (!symbol || !('pixs' in symbol)) throw new Error('bwip-js returned no DataMatrix matrix');
  return matrixPng(symbol.pixs, symbol.pixx, symbol.pixy, pxPerModule, quietModules);
}

/** Encodes a row-major module matrix (1 = dark, first row on top) as a 1-bit greyscale PNG. */
export function matrixPng(
  pixs: readonly number[],
  columns: number,
  rows: number,
  pxPerModule: number,
  quietModules: number,
): Buffer {
  if (pixs.length !== columns * rows) throw new Error('module matrix size does not match its dimensions');
  const width = (columns + 2 * quietModules) * pxPerModule;
  const height = (rows + 2 * quietModules) * pxPerModule;
  const stride = 1 + Math.ceil(width / 8); // filter byte + packed pixels
  const raw = Buffer.alloc(stride * height, 0xff); // all white, filter bytes fixed below
  for (let y = 0; y < height; y++) {
    raw[y * stride] = 0; // filter: None
    const row = Math.floor(y / pxPerModule) - quietModules;
    if (row < 0 || row >= rows) continue;
    for (let x = 0; x < width; x++) {
      const column = Math.floor(x / pxPerModule) - quietModules;
      if (column < 0 || column >= columns || pixs[row * columns + column] !== 1) continue;
      const at = y * stride + 1 + (x >> 3);
      raw[at] = (raw[at] ?? 0) & ~(0x80 >> (x & 7)); // 0 = black
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // colour type: greyscale
  // compression, filter, interlace: 0
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (ISO 3309) as PNG wants it; `zlib.crc32` is not in every Node 20 the project allows. */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
