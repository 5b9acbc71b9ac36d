import {
  decodeElitechDateTime,
  elitechChecksum,
  encodeElitechAck,
  encodeElitechDateTime,
  encodeElitechHeader,
  encodeElitechInfo,
  encodeElitechPage,
  recogniseElitechRequest,
  withElitechChecksum,
} from './elitech-codec.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('Elitech codec (simulator side)', () => {
  it('checksum = sum of the preceding bytes mod 256 (the known requests and the handshake reply)', () => {
    expect(withElitechChecksum(hex('CC 00 0A 00'))).toEqual(hex('CC 00 0A 00 D6'));
    expect(withElitechChecksum(hex('CC 00 06 00'))).toEqual(hex('CC 00 06 00 D2'));
    expect(withElitechChecksum(hex('33 01 01 00'))).toEqual(hex('33 01 01 00 35'));
    expect(encodeElitechAck(0xa5)).toEqual(hex('55 A5 FA'));
    expect(elitechChecksum(hex('FF FF 02'))).toBe(0x00);
  });

  it('7-byte datetime: year BE, month, day, hour, minute, second', () => {
    const ms = Date.UTC(2015, 4, 14, 23, 4, 53);
    expect(encodeElitechDateTime(ms)).toEqual(hex('07 DF 05 0E 17 04 35'));
    expect(decodeElitechDateTime(hex('07 DF 05 0E 17 04 35'))).toBe(ms);
    expect(decodeElitechDateTime(Buffer.alloc(7))).toBeNull();
  });

  it('data header reply: 55, count u16 BE, start datetime, checksum (11 bytes)', () => {
    const reply = encodeElitechHeader(2934, Date.UTC(2015, 4, 14, 23, 4, 53));
    expect(reply).toEqual(withElitechChecksum(hex('55 0B 76 07 DF 05 0E 17 04 35')));
    expect(reply).toHaveLength(11);
  });

  it('data page reply: int16 BE × 0.1 values (negative included), T/RH pairs for the RC-4HC', () => {
    expect(encodeElitechPage([[267], [-205]])).toEqual(withElitechChecksum(hex('55 01 0B FF 33')));
    expect(encodeElitechPage([[50, 455]])).toEqual(withElitechChecksum(hex('55 00 32 01 C7')));
    expect(encodeElitechPage([])).toEqual(hex('55 55'));
  });

  it('device info is 160 bytes with the fields at the offsets ELITECH.md documents', () => {
    const info = encodeElitechInfo({
      station: 3,
      modelCode: 50,
      intervalS: 3723,
      upperTenthsC: 80,
      lowerTenthsC: -300,
      lastOnlineMs: Date.UTC(2026, 0, 1),
      status: 1,
      startMs: Date.UTC(2026, 0, 2, 3, 4, 5),
      stopButton: 0x31,
      recordCount: 43_200 - 11_200,
      nowMs: Date.UTC(2026, 0, 31, 12, 0, 0),
      userInfo: 'fridge',
      deviceNumber: 'EL12345678',
      delayCode: 0,
      tone: 0x31,
      alarm: 0,
      calibrationTenthsC: -3,
      humidityUpperTenths: 0,
      humidityLowerTenths: 0,
      humidityCalibrationTenths: 0,
    });
    expect(info).toHaveLength(160);
    expect(info[0]).toBe(0x55);
    expect(info[1]).toBe(3);
    expect(info[3]).toBe(50);
    expect([...info.subarray(5, 8)]).toEqual([1, 2, 3]);
    expect(info.readInt16BE(8)).toBe(80);
    expect(info.readInt16BE(10)).toBe(-300);
    expect(info[19]).toBe(1);
    expect(decodeElitechDateTime(info, 20)).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(info.readUInt16BE(29)).toBe(32_000);
    expect(decodeElitechDateTime(info, 31)).toBe(Date.UTC(2026, 0, 31, 12, 0, 0));
    expect(info.subarray(138, 148).toString('latin1')).toBe('EL12345678');
    expect(info.readInt8(152)).toBe(-3);
    expect(info[159]).toBe(elitechChecksum(info, 159));
  });

  it('recognises requests by command length and resyncs past garbage and bad checksums', () => {
    expect(recogniseElitechRequest(hex('CC 00 0A 00 D6'))).toEqual({
      frame: { kind: 'handshake' },
      length: 5,
    });
    expect(recogniseElitechRequest(hex('33 01 02 07 3D'))).toEqual({
      frame: { kind: 'data-page', station: 1, page: 7 },
      length: 5,
    });
    expect(recogniseElitechRequest(hex('CC 00 0A 00 D7'))).toBe('invalid');
    expect(recogniseElitechRequest(hex('12'))).toBe('invalid');
    expect(recogniseElitechRequest(hex('33 01 07 00 07'))).toBe('incomplete');
    const setClock = withElitechChecksum(hex('33 01 07 00 07 EA 01 02 03 04 05'));
    expect(recogniseElitechRequest(setClock)).toEqual({
      frame: { kind: 'set-clock', station: 1, wallMs: Date.UTC(2026, 0, 2, 3, 4, 5) },
      length: 12,
    });
  });
});
