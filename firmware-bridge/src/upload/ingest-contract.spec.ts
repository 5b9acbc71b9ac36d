import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type IngestDevice, LoggerProtocol } from '@lyotrace/contracts';
import { validateIngestBatch } from '@lyotrace/domain';
import { silentLog } from '../bridge-log.js';
import { DEFAULT_SKEW, type Sample, toIngestRecord } from '../clock/skew-policy.js';
import { Spool } from '../spool/spool.js';

/**
 * What the bridge uploads must pass the API's own validation (libs/domain ingest-batch): built the way the
 * drivers build it, through the spool, for every protocol and every flag the clock policy can set.
 */
describe('bridge batches against the ingest contract', () => {
  let dir: string;
  let spool: Spool;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lyo-contract-'));
    spool = Spool.open({ dir, maxBytes: 1 << 20, log: silentLog, durable: false });
  });
  afterEach(async () => {
    await spool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const T = Date.parse('2026-03-01T10:00:00Z');
  const samples: [Sample, number, string | null][] = [
    [{ seq: 0, deviceMs: T, temperatureC: 5.25 }, 0, null],
    [{ seq: 1, deviceMs: T + 1000, temperatureC: null, sensorFault: true }, 0, null],
    [{ seq: 2, deviceMs: T + 2000, temperatureC: 4.5, humidityPct: null }, 30_000, null],
    [{ seq: 3, deviceMs: T + 3000, temperatureC: -20.5, humidityPct: 45.5 }, -3_600_000, '2026-01-31'],
    // An unset clock that restarted 3 days back. (One restarted at 1970 has a skew beyond the API's ±10-year
    // bound: such records are refused by name and quarantined by the uploader; see docs/bridge.md.)
    [{ seq: 4, deviceMs: T - 259_200_000, temperatureC: 3, clockUnset: true }, -259_200_000, null],
  ];

  it.each([
    [
      {
        protocol: LoggerProtocol.Native,
        serial: 'LT-000042',
        model: 'LYO-T1',
        firmware: '1.2.3',
        calibrationDue: '2027-01-31',
      },
      '',
      true,
    ],
    [
      { protocol: LoggerProtocol.Elitech, serial: 'EL12345678', model: 'RC-4HC' },
      '2026-01-05T08:00:00.000Z',
      false,
    ],
    [
      { protocol: LoggerProtocol.ModbusRtu, serial: 'room-2-probe', model: 'XY-MD02' },
      'bridge-run-2026-03-01T09:59:59.123Z',
      true,
    ],
  ] as [IngestDevice, string, boolean][])('%o passes validateIngestBatch', async (device, mission, live) => {
    const records = samples.map(([s, skew, due]) => toIngestRecord(s, skew, DEFAULT_SKEW, due));
    await spool.append({ device, mission, live, records });
    const { batch } = spool.nextBatch()!;
    expect(() => validateIngestBatch(JSON.parse(JSON.stringify(batch)))).not.toThrow();
    expect(validateIngestBatch(JSON.parse(JSON.stringify(batch))).columns.seq).toEqual([0, 1, 2, 3, 4]);
  });
});
