import { FrameReader } from './frame-reader.js';
import {
  NativeType,
  crc16CcittFalse,
  encodeLiveRecordPayload,
  encodeNativeFrame,
  recogniseNativeFrame,
} from './native-codec.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('native protocol codec (simulator side, from PROTOCOL.md)', () => {
  it('CRC-16/CCITT-FALSE check value of "123456789" is 0x29B1', () => {
    expect(crc16CcittFalse(Buffer.from('123456789', 'ascii'))).toBe(0x29b1);
  });

  it('reproduces the worked examples of PROTOCOL.md §7', () => {
    expect(encodeNativeFrame(NativeType.identify, 0x07)).toEqual(hex('A5 01 01 07 00 00 F6 15 3F'));
    expect(encodeNativeFrame(NativeType.download, 0x08, hex('E8 03 00 00 3C'))).toEqual(
      hex('A5 01 03 08 05 00 EE  E8 03 00 00 3C  71 82'),
    );
    expect(encodeNativeFrame(NativeType.ack, 0x09, hex('D2 04 00 00'))).toEqual(
      hex('A5 01 04 09 04 00 ED  D2 04 00 00  81 09'),
    );
    const live = encodeLiveRecordPayload(1767225600250, {
      seq: 1234,
      timeS: 1767225600,
      centiC: 525,
      centiRh: 0xffff,
      flags: 0,
    });
    expect(encodeNativeFrame(NativeType.liveRecord, 0, live)).toEqual(
      hex(
        'A5 01 C0 00 16 00 28  FA A8 DA 76 9B 01 00 00  D2 04 00 00  00 B9 55 69  0D 02  FF FF  00  00  57 0A',
      ),
    );
  });

  it('parses a request and refuses a bad header check or CRC', () => {
    expect(recogniseNativeFrame(hex('A5 01 01 07 00 00 F6 15 3F'))).toEqual({
      frame: { version: 1, type: 1, tag: 7, payload: Buffer.alloc(0) },
      length: 9,
    });
    expect(recogniseNativeFrame(hex('A5 01 01 07 00 00 F7 15 3F'))).toBe('invalid');
    expect(recogniseNativeFrame(hex('A5 01 01 07 00 00 F6 15 3E'))).toBe('invalid');
    expect(recogniseNativeFrame(hex('A5 01 01 07'))).toBe('incomplete');
  });

  it('finds a good frame that began inside a truncated one (resync re-examines buffered bytes)', () => {
    const reader = new FrameReader(recogniseNativeFrame, 100);
    const good = hex('A5 01 01 07 00 00 F6 15 3F');
    const truncated = encodeNativeFrame(NativeType.download, 0x08, hex('E8 03 00 00 3C')).subarray(0, 10);
    expect(reader.push(Buffer.concat([hex('00 FF A5'), truncated, good]), 0)).toHaveLength(1);
    // A partial frame abandoned after 100 ms of silence does not swallow the next request.
    expect(reader.push(hex('A5 01 03 08 05 00 EE E8'), 1000)).toEqual([]);
    expect(reader.push(good, 1200)).toEqual([{ version: 1, type: 1, tag: 7, payload: Buffer.alloc(0) }]);
  });
});
