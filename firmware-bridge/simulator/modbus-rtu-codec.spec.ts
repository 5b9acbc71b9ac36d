import { FrameReader } from './frame-reader.js';
import {
  crc16Modbus,
  encodeExceptionReply,
  encodeReadRegistersReply,
  recogniseModbusRequest,
} from './modbus-rtu-codec.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('Modbus RTU codec (simulator side)', () => {
  it('CRC-16/MODBUS check value of "123456789" is 0x4B37', () => {
    expect(crc16Modbus(Buffer.from('123456789', 'ascii'))).toBe(0x4b37);
  });

  it('reproduces the COLD-CHAIN.md examples byte for byte', () => {
    expect(encodeReadRegistersReply(1, 4, [305])).toEqual(hex('01 04 02 01 31 79 74'));
    expect(encodeReadRegistersReply(1, 4, [-205 & 0xffff])).toEqual(hex('01 04 02 FF 33 B8 D5'));
    expect(crc16Modbus(hex('01 04 00 01 00 01'))).toBe(0x0a60);
  });

  it('builds an exception reply (function | 0x80, code)', () => {
    const reply = encodeExceptionReply(1, 4, 2);
    expect(reply.subarray(0, 3)).toEqual(hex('01 84 02'));
    expect(reply.readUInt16LE(3)).toBe(crc16Modbus(reply, 3));
  });

  it('recognises a request by its length and refuses a bad CRC', () => {
    expect(recogniseModbusRequest(hex('01 04 00 01 00 01 60 0A'))).toEqual({
      frame: { address: 1, functionCode: 4, data: hex('00 01 00 01') },
      length: 8,
    });
    expect(recogniseModbusRequest(hex('01 04 00 01 00 01 60 0B'))).toBe('invalid');
    expect(recogniseModbusRequest(hex('01 04 00 01'))).toBe('incomplete');
  });

  it('frames requests split across reads, and drops a partial one after line silence', () => {
    const reader = new FrameReader(recogniseModbusRequest, 50);
    expect(reader.push(hex('01 04 00'), 0)).toEqual([]);
    expect(reader.push(hex('01 00 01 60 0A'), 5)).toHaveLength(1);
    expect(reader.push(hex('01 04 00 01'), 100)).toEqual([]);
    // 200 ms of silence: the half frame is abandoned and the next full request stands alone.
    expect(reader.push(hex('01 04 00 01 00 01 60 0A'), 300)).toHaveLength(1);
  });
});
