import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INGEST_BATCH_VERSION, LoggerProtocol } from '@lyotrace/contracts';
import { ConfigError } from '@lyotrace/config';
import { validateIngestBatch } from '@lyotrace/domain';
import { loadDeviceList, parseDeviceList } from './device-config.js';

function refusal(text: string): ConfigError {
  try {
    parseDeviceList(text);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('device list (BRIDGE_DEVICES)', () => {
  it('fills per-protocol defaults', () => {
    const ports = parseDeviceList(
      JSON.stringify([
        { name: 'fridge-1', protocol: 'lyotrace-native', path: '/dev/ttyACM0' },
        {
          name: 'shipper',
          protocol: 'elitech-rc',
          usb: { vendorId: '10C4', productId: 'EA60' },
          path: '/dev/ttyUSB0',
        },
        { name: 'rs485', protocol: 'modbus-rtu', path: '/dev/ttyUSB1', probes: [{ slave: 1, id: 'room-2' }] },
      ]),
    );
    expect(ports[0]).toMatchObject({
      protocol: LoggerProtocol.Native,
      baudRate: 115_200,
      replyTimeoutMs: 1_000,
    });
    expect(ports[1]).toMatchObject({ usb: { vendorId: '10c4', productId: 'ea60' }, path: '/dev/ttyUSB0' });
    expect(ports[2]).toMatchObject({ baudRate: 9_600, pollIntervalMs: 10_000 });
    expect(ports[2]!.probes).toEqual([
      { slave: 1, id: 'room-2', model: 'XY-MD02', ratedMinC: -40, ratedMaxC: 60, humidity: true },
    ]);
  });

  it.each([
    ['not json', 'BRIDGE_DEVICES: is not valid JSON'],
    ['{}', 'BRIDGE_DEVICES: must be a JSON array of ports'],
    ['[{"name":"a","protocol":"x","path":"/p"}]', 'BRIDGE_DEVICES[0].protocol: must be one of'],
    ['[{"name":"a","protocol":"lyotrace-native"}]', 'BRIDGE_DEVICES[0]: needs a "path" or a "usb" match'],
    [
      '[{"name":"a","protocol":"lyotrace-native","path":"/p","bogus":1}]',
      'BRIDGE_DEVICES[0].bogus: unknown field',
    ],
    [
      '[{"name":"a","protocol":"lyotrace-native","usb":{"vendorId":"xyz","productId":"ea60"}}]',
      'BRIDGE_DEVICES[0].usb.vendorId: must be 4 hex digits',
    ],
    [
      '[{"name":"a","protocol":"modbus-rtu","path":"/p","probes":[{"slave":0,"id":"p"}]}]',
      'BRIDGE_DEVICES[0].probes[0].slave: must be an integer from 1 to 247',
    ],
    [
      '[{"name":"a","protocol":"modbus-rtu","path":"/p","probes":[{"slave":1,"id":"p"},{"slave":1,"id":"q"}]}]',
      'BRIDGE_DEVICES[0].probes[1].slave: slave 1 is listed twice',
    ],
    [
      '[{"name":"a","protocol":"modbus-rtu","path":"/p"}]',
      'BRIDGE_DEVICES[0].probes: must list at least one probe',
    ],
    [
      '[{"name":"a","protocol":"lyotrace-native","path":"/p"},{"name":"a","protocol":"lyotrace-native","path":"/q"}]',
      'BRIDGE_DEVICES[1].name: "a" is used twice',
    ],
    [
      '[{"name":"a","protocol":"elitech-rc","path":"/p","calibrationDue":"2026-13-01"}]',
      'BRIDGE_DEVICES[0].calibrationDue: must be a calendar date YYYY-MM-DD',
    ],
    // Ingest refuses a day the month does not have: taken here, every batch of the device would be refused.
    [
      '[{"name":"a","protocol":"elitech-rc","path":"/p","calibrationDue":"2026-02-31"}]',
      'BRIDGE_DEVICES[0].calibrationDue: must be a calendar date YYYY-MM-DD that exists',
    ],
    [
      '[{"name":"a","protocol":"modbus-rtu","path":"/p","probes":[{"slave":1,"id":"p","calibrationDue":"2026-02-29"}]}]',
      'BRIDGE_DEVICES[0].probes[0].calibrationDue: must be a calendar date YYYY-MM-DD that exists',
    ],
  ])('refuses %s naming the field', (text, message) => {
    const error = refusal(text);
    expect(error.variables).toEqual(['BRIDGE_DEVICES']);
    expect(error.message).toContain(message);
  });

  it('takes a calibration date ingest takes, 29 February of a leap year included', () => {
    const [elitech, modbus] = parseDeviceList(
      JSON.stringify([
        { name: 'a', protocol: 'elitech-rc', path: '/p', calibrationDue: '2028-02-29' },
        {
          name: 'b',
          protocol: 'modbus-rtu',
          path: '/q',
          probes: [{ slave: 1, id: 'p', calibrationDue: '2027-04-30' }],
        },
      ]),
    );
    expect(elitech!.calibrationDue).toBe('2028-02-29');
    expect(modbus!.probes[0]!.calibrationDue).toBe('2027-04-30');
    expect(
      validateIngestBatch({
        version: INGEST_BATCH_VERSION,
        batchId: '0190c8b5-7c1e-7000-8000-000000000001',
        device: {
          protocol: LoggerProtocol.Elitech,
          serial: 'EL-1',
          model: 'RC-5',
          calibrationDue: elitech!.calibrationDue,
        },
        mission: '2026-01-05T08:00:00Z',
        live: false,
        records: [
          {
            seq: 1,
            deviceTime: '2026-01-05T08:00:00Z',
            time: '2026-01-05T08:00:00Z',
            skewMs: 0,
            temperatureC: 5,
            flags: [],
          },
        ],
      }).batch.device.calibrationDue,
    ).toBe('2028-02-29');
  });

  it('reads BRIDGE_DEVICES_FILE first, and names it when it cannot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lyo-dev-'));
    try {
      const file = join(dir, 'devices.json');
      writeFileSync(file, JSON.stringify([{ name: 'x', protocol: 'lyotrace-native', path: '/dev/x' }]));
      expect(loadDeviceList({ BRIDGE_DEVICES: '[]', BRIDGE_DEVICES_FILE: file })).toHaveLength(1);
      expect(() =>
        loadDeviceList({ BRIDGE_DEVICES: '[]', BRIDGE_DEVICES_FILE: join(dir, 'missing.json') }),
      ).toThrow(/BRIDGE_DEVICES_FILE: cannot read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
