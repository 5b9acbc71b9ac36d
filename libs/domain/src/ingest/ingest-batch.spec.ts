import { INGEST_MAX_RECORDS, LoggerProtocol, ProblemCode, ReadingFlag } from '@lyotrace/contracts';
import { DomainError } from '../domain-error.js';
import { MAX_REPORTED_ERRORS, validateIngestBatch } from './ingest-batch.js';

const record = (seq: number, patch: Record<string, unknown> = {}) => ({
  seq,
  deviceTime: `2026-01-05T08:${String(seq % 60).padStart(2, '0')}:00Z`,
  time: `2026-01-05T08:${String(seq % 60).padStart(2, '0')}:00Z`,
  skewMs: 0,
  temperatureC: 4.5,
  flags: [] as string[],
  ...patch,
});

const batch = (patch: Record<string, unknown> = {}) => ({
  version: 1,
  batchId: '0b7c1d4e-7f0a-4c55-9a57-3d1e4a0f9b21',
  device: { protocol: LoggerProtocol.Native, serial: 'LT-0001', model: 'LT-1' },
  mission: '',
  live: true,
  records: [record(1), record(2), record(3)],
  ...patch,
});

function refusal(body: unknown): DomainError {
  try {
    validateIngestBatch(body);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('the batch was accepted');
}

const fields = (e: DomainError): string[] => (e.extensions.errors as { field: string }[]).map((x) => x.field);

describe('validateIngestBatch (IngestBatch v1, strict, whole batch or nothing)', () => {
  it('accepts a valid batch and lays its records out in columns', () => {
    const { batch: b, columns } = validateIngestBatch(
      batch({
        records: [
          record(1),
          record(2, {
            temperatureC: null,
            humidityPct: 41.5,
            flags: [ReadingFlag.SensorFault, ReadingFlag.ClockSkew],
          }),
          record(3, { time: '2026-01-05T08:02:58.500Z', skewMs: 1500, flags: [ReadingFlag.ClockCorrected] }),
        ],
      }),
    );
    expect(b.device).toEqual({ protocol: 'lyotrace-native', serial: 'LT-0001', model: 'LT-1' });
    expect(columns).toEqual({
      seq: [1, 2, 3],
      time: ['2026-01-05T08:01:00Z', '2026-01-05T08:02:00Z', '2026-01-05T08:02:58.500Z'],
      deviceTime: ['2026-01-05T08:01:00Z', '2026-01-05T08:02:00Z', '2026-01-05T08:03:00Z'],
      skewMs: [0, 0, 1500],
      temperatureC: [4.5, null, 4.5],
      humidityPct: [null, 41.5, null],
      flags: ['', 'sensor_fault,clock_skew', 'clock_corrected'],
    });
  });

  it('takes a record from a reset device clock (1970 after a power loss) when it is flagged clock_skew', () => {
    const skewMs = Date.parse('1970-01-01T00:10:00Z') - Date.parse('2026-01-05T08:01:00Z');
    const { columns } = validateIngestBatch(
      batch({
        records: [
          record(1, {
            deviceTime: '1970-01-01T00:10:00Z',
            skewMs,
            flags: [ReadingFlag.ClockSkew, ReadingFlag.ClockCorrected],
          }),
        ],
      }),
    );
    expect(columns.skewMs).toEqual([skewMs]);
  });

  it('names the version first: another version is refused before anything else is read', () => {
    const e = refusal(batch({ version: 2, records: 'nonsense' }));
    expect(e.code).toBe(ProblemCode.IngestVersionUnsupported);
    expect(e.extensions.field).toBe('version');
  });

  it('refuses more than INGEST_MAX_RECORDS records', () => {
    const e = refusal(batch({ records: new Array(INGEST_MAX_RECORDS + 1).fill(null) }));
    expect(e.code).toBe(ProblemCode.IngestTooManyRecords);
  });

  it.each([
    ['records[1].seq', { records: [record(1), record(1)] }],
    ['records[0].time', { records: [record(1, { time: '2026-01-05T08:00:00' })] }],
    ['records[0].time', { records: [record(1, { time: '2026-01-05T08:00:00.1234Z' })] }],
    ['records[0].deviceTime', { records: [record(1, { deviceTime: '2026-02-29T08:00:00Z' })] }],
    ['records[0].deviceTime', { records: [record(1, { deviceTime: '2026-01-05T24:00:00Z' })] }],
    ['records[0].time', { records: [record(1, { time: '2026-01-05T08:01:30Z' })] }],
    ['records[0].temperatureC', { records: [record(1, { temperatureC: null })] }],
    ['records[0].temperatureC', { records: [record(1, { temperatureC: Number.NaN })] }],
    ['records[0].flags[1]', { records: [record(1, { flags: ['clock_skew', 'clock_skew'] })] }],
    ['records[0].skewMs', { records: [record(1, { skewMs: 1.5 })] }],
    // A reset clock (56 years off) is taken only when the bridge flagged it.
    ['records[0].skewMs', { records: [record(1, { skewMs: -56 * 365 * 86_400_000 })] }],
    ['records[0].seq', { records: [record(1, { seq: 2 ** 53 })] }],
    ['records[0].extra', { records: [record(1, { extra: true })] }],
    ['device.serial', { device: { protocol: 'lyotrace-native', serial: ' LT', model: 'x' } }],
    [
      'device.calibrationDue',
      { device: { protocol: 'lyotrace-native', serial: 'LT', model: 'x', calibrationDue: '2026-13-01' } },
    ],
    [
      'device.calibrationDue',
      { device: { protocol: 'lyotrace-native', serial: 'LT', model: 'x', calibrationDue: '2026-02-31' } },
    ],
    ['mission', { device: { protocol: 'modbus-rtu', serial: 'bus0-slave1', model: 'XY-MD02' } }],
    ['live', { live: 'yes' }],
  ])('names %s', (field, patch) => {
    const e = refusal(batch(patch));
    expect(e.code).toBe(ProblemCode.IngestInvalidBatch);
    expect(e.extensions.field).toBe(field);
    expect(fields(e)).toContain(field);
  });

  it(`reports at most ${MAX_REPORTED_ERRORS} errors, and says it stopped`, () => {
    const e = refusal(batch({ records: Array.from({ length: 100 }, (_, i) => record(i, { time: 'x' })) }));
    expect(fields(e)).toHaveLength(MAX_REPORTED_ERRORS);
    expect(e.message).toMatch(/checking stopped/);
  });
});
