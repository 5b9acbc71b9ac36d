import { UNREADABLE_CALIBRATION } from '../clock/skew-policy.js';
import { crc16Ccitt, crc16Modbus, crc32, fromHex, hex, sum8 } from '../codec/checksums.js';
import { newLinkCounters } from '../devices/link-counters.js';
import { NativeFrameParser, type ParserFault } from './native-frame-parser.js';
import {
  ackRequest,
  decodeDownload,
  decodeIdentify,
  decodeLive,
  downloadRequest,
  encodeFrame,
  identifyRequest,
  MalformedPayloadError,
  MAX_FRAME,
  type NativeFrame,
  NativeType,
} from './native-protocol.js';

const CHECK = Buffer.from('123456789', 'ascii');
/** The worked examples of PROTOCOL.md §7, byte for byte. */
const DOC = {
  identify: fromHex('A5 01 01 07 00 00 F6 15 3F'),
  download: fromHex('A5 01 03 08 05 00 EE E8 03 00 00 3C 71 82'),
  ack: fromHex('A5 01 04 09 04 00 ED D2 04 00 00 81 09'),
  live: fromHex(
    'A5 01 C0 00 16 00 28 FA A8 DA 76 9B 01 00 00 D2 04 00 00 00 B9 55 69 0D 02 FF FF 00 00 57 0A',
  ),
};

describe('checksums', () => {
  it('match the catalogued check values of "123456789"', () => {
    expect(crc16Ccitt(CHECK)).toBe(0x29b1);
    expect(crc16Modbus(CHECK)).toBe(0x4b37);
    expect(crc32(CHECK)).toBe(0xcbf43926);
  });

  it('reproduce the Modbus frames of COLD-CHAIN.md (CRC low byte first)', () => {
    for (const frame of ['01 04 00 01 00 01 60 0A', '01 04 02 01 31 79 74', '01 04 02 FF 33 B8 D5']) {
      const bytes = fromHex(frame);
      const crc = crc16Modbus(bytes, 0, bytes.length - 2);
      expect([crc & 0xff, crc >>> 8]).toEqual([bytes[bytes.length - 2], bytes[bytes.length - 1]]);
    }
  });

  it('sum8 is the Elitech checksum: the init and device-info requests end with it', () => {
    expect(sum8(fromHex('CC 00 0A 00'))).toBe(0xd6);
    expect(sum8(fromHex('CC 00 06 00'))).toBe(0xd2);
  });

  it('hex() prints spaced upper-case bytes and caps long runs', () => {
    expect(hex(fromHex('a5 01 ff'))).toBe('A5 01 FF');
    expect(hex(Buffer.alloc(100), 4)).toBe('00 00 00 00 … (100 bytes)');
  });
});

describe('native frames: encoding', () => {
  it('encodes the worked examples of PROTOCOL.md §7', () => {
    expect(identifyRequest(7)).toEqual(DOC.identify);
    expect(downloadRequest(8, 1000, 60)).toEqual(DOC.download);
    expect(ackRequest(9, 1234)).toEqual(DOC.ack);
    expect(encodeFrame(NativeType.LiveRecord, 0, DOC.live.subarray(7, 29))).toEqual(DOC.live);
  });

  it('refuses a payload over 1024 bytes', () => {
    expect(() => encodeFrame(0x83, 1, Buffer.alloc(1025))).toThrow(RangeError);
  });
});

function harness() {
  const counters = newLinkCounters();
  const frames: { type: number; tag: number; payload: Buffer }[] = [];
  const faults: ParserFault[] = [];
  const parser = new NativeFrameParser({
    counters,
    onFrame: (f: NativeFrame) => frames.push({ type: f.type, tag: f.tag, payload: Buffer.from(f.payload) }),
    onFault: (kind) => faults.push(kind),
  });
  return { counters, frames, faults, parser };
}

describe('native frames: parsing and resync', () => {
  it('decodes the live record of the worked example', () => {
    const { frames, parser } = harness();
    parser.push(DOC.live);
    expect(frames).toHaveLength(1);
    const live = decodeLive(frames[0]!.payload);
    expect(live.deviceMs).toBe(Date.parse('2026-01-01T00:00:00.250Z'));
    expect(live.record).toEqual({
      seq: 1234,
      timeMs: Date.parse('2026-01-01T00:00:00Z'),
      temperatureC: 5.25,
      humidityPct: null,
      flags: 0,
    });
  });

  it('reads frames split at every byte boundary and frames glued together', () => {
    const stream = Buffer.concat([DOC.identify, DOC.live, DOC.ack, DOC.download]);
    for (let cut = 1; cut < stream.length; cut++) {
      const { frames, counters, parser } = harness();
      parser.push(stream.subarray(0, cut));
      parser.push(stream.subarray(cut));
      expect(frames.map((f) => f.tag)).toEqual([7, 0, 9, 8]);
      expect(counters.framesOk).toBe(4);
      expect(counters.garbageBytes).toBe(0);
    }
  });

  it('skips garbage (including stray SOF bytes) and reads the next good frame', () => {
    const { frames, counters, parser } = harness();
    parser.push(Buffer.concat([fromHex('00 FF A5 A5 13 37 A5'), DOC.live, fromHex('DE AD'), DOC.ack]));
    expect(frames.map((f) => f.type)).toEqual([NativeType.LiveRecord, NativeType.Ack]);
    expect(counters.garbageBytes + counters.badHeader).toBeGreaterThanOrEqual(6);
  });

  it('counts a frame with a bad CRC and finds the frame after it', () => {
    const { frames, counters, faults, parser } = harness();
    const bad = Buffer.from(DOC.live);
    bad[20] = bad[20]! ^ 0x40;
    parser.push(Buffer.concat([bad, DOC.ack]));
    expect(frames.map((f) => f.tag)).toEqual([9]);
    expect(counters.badChecksum).toBe(1);
    expect(faults).toContain('badChecksum');
  });

  it('finds a good frame that begins inside a truncated one, without waiting', () => {
    const { frames, counters, parser } = harness();
    parser.push(Buffer.concat([DOC.live.subarray(0, 15), DOC.identify, DOC.ack]));
    // The truncated frame's declared length swallows the next frames; the CRC fails and resync rescans them.
    expect(frames.map((f) => f.tag)).toEqual([7, 9]);
    expect(counters.badChecksum).toBe(1);
  });

  it('abandons a truncated frame at the end of the stream after the inter-byte timeout', () => {
    const { frames, counters, parser } = harness();
    parser.push(DOC.live.subarray(0, 20), 1_000);
    expect(parser.expire(1_050)).toBe(false);
    expect(parser.expire(1_101)).toBe(true);
    expect(counters.truncated).toBe(1);
    expect(parser.pending).toBe(0);
    parser.push(DOC.identify, 2_000);
    expect(frames.map((f) => f.tag)).toEqual([7]);
  });

  it('rejects a corrupt length at once through the header check', () => {
    const { frames, counters, parser } = harness();
    const bad = Buffer.from(DOC.identify);
    bad[5] = 0x03; // LEN = 768: without HCHK the parser would wait for 768 bytes
    parser.push(Buffer.concat([bad, DOC.ack]));
    expect(counters.badHeader).toBe(1);
    expect(frames.map((f) => f.tag)).toEqual([9]);
  });

  it('counts another protocol version and skips it', () => {
    const { frames, counters, parser } = harness();
    const v2 = Buffer.from(DOC.identify);
    v2[1] = 2;
    v2[6] = ~(2 + 1 + 7) & 0xff;
    parser.push(Buffer.concat([v2, DOC.ack]));
    expect(counters.badVersion).toBe(1);
    expect(frames.map((f) => f.tag)).toEqual([9]);
  });

  it('survives a long run without any start of frame with bounded memory', () => {
    const { frames, counters, parser } = harness();
    const noise = Buffer.alloc(MAX_FRAME * 20, 0x41); // "AAAA…": a long line without a delimiter
    for (let i = 0; i < 10; i++) parser.push(noise);
    expect(parser.pending).toBe(0);
    parser.push(DOC.ack);
    expect(counters.garbageBytes).toBe(noise.length * 10);
    expect(frames.map((f) => f.tag)).toEqual([9]);
  });

  it('survives random noise between frames and loses no intact frame', () => {
    let seed = 42;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const parts: Buffer[] = [];
    let expected = 0;
    for (let i = 0; i < 500; i++) {
      const noise = Buffer.alloc(Math.floor(rand() * 40), 0);
      for (let j = 0; j < noise.length; j++) noise[j] = rand() < 0.2 ? 0xa5 : Math.floor(rand() * 256);
      parts.push(noise, ackRequest(1 + (i % 200), i));
      expected++;
    }
    const { frames, parser } = harness();
    const stream = Buffer.concat(parts);
    for (let o = 0; o < stream.length; o += 37) parser.push(stream.subarray(o, o + 37));
    parser.expire(Number.MAX_SAFE_INTEGER);
    const acked = frames.filter((f) => f.type === NativeType.Ack).map((f) => f.payload.readUInt32LE(0));
    // Random noise can, very rarely, contain a whole valid frame; every real one must be there, in order.
    expect(acked.filter((v, i, all) => all.indexOf(v) === i)).toEqual([...Array(expected).keys()]);
  });
});

describe('native payloads', () => {
  function identifyPayload(): Buffer {
    const p = Buffer.alloc(66);
    p.write('LT-000042', 0, 'latin1');
    p.write('LYO-T1', 16, 'latin1');
    p[32] = 1;
    p[33] = 4;
    p.writeUInt16LE(2, 34);
    p.writeUInt32LE(300, 36);
    p[40] = 87;
    p[41] = 1;
    p.writeUInt16LE(2026, 42);
    p[44] = 11;
    p[45] = 30;
    p.writeBigInt64LE(1767225600250n, 46);
    p.writeUInt32LE(100, 54);
    p.writeUInt32LE(1301, 58);
    p.writeUInt32LE(4096, 62);
    return p;
  }

  it('decodes IDENTIFY', () => {
    expect(decodeIdentify(identifyPayload())).toEqual({
      serial: 'LT-000042',
      model: 'LYO-T1',
      firmware: '1.4.2',
      intervalS: 300,
      batteryPct: 87,
      missionRunning: true,
      calibrationDue: '2026-11-30',
      deviceMs: 1767225600250,
      lowest: 100,
      next: 1301,
      capacity: 4096,
    });
  });

  it('reads an impossible calibration date as unreadable, never as a date to send on', () => {
    const feb31 = identifyPayload();
    feb31[44] = 2;
    feb31[45] = 31;
    expect(decodeIdentify(feb31).calibrationDue).toBe(UNREADABLE_CALIBRATION);
    const none = identifyPayload();
    none.writeUInt16LE(0, 42);
    expect(decodeIdentify(none).calibrationDue).toBeNull();
  });

  it('accepts appended fields and refuses a short payload or an empty serial', () => {
    expect(decodeIdentify(Buffer.concat([identifyPayload(), Buffer.alloc(10)])).serial).toBe('LT-000042');
    expect(() => decodeIdentify(identifyPayload().subarray(0, 65))).toThrow(MalformedPayloadError);
    const blank = identifyPayload();
    blank.fill(0, 0, 16);
    expect(() => decodeIdentify(blank)).toThrow(MalformedPayloadError);
  });

  it('decodes a DOWNLOAD reply with the fault and no-RH sentinels', () => {
    const p = Buffer.alloc(9 + 2 * 14);
    p.writeUInt32LE(10, 0);
    p.writeUInt32LE(12, 4);
    p[8] = 2;
    p.writeUInt32LE(10, 9);
    p.writeUInt32LE(1767225600, 13);
    p.writeInt16LE(-32768, 17);
    p.writeUInt16LE(4550, 19);
    p.writeUInt32LE(11, 23);
    p.writeUInt32LE(1767225900, 27);
    p.writeInt16LE(-2050, 31);
    p.writeUInt16LE(0xffff, 33);
    const reply = decodeDownload(p);
    expect(reply).toMatchObject({ lowest: 10, next: 12 });
    expect(reply.records).toEqual([
      { seq: 10, timeMs: 1767225600000, temperatureC: null, humidityPct: 45.5, flags: 1 },
      { seq: 11, timeMs: 1767225900000, temperatureC: -20.5, humidityPct: null, flags: 0 },
    ]);
    expect(() => decodeDownload(p.subarray(0, 30))).toThrow(MalformedPayloadError);
  });
});
