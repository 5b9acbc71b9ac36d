import {
  INGEST_BATCH_VERSION,
  INGEST_MAX_RECORDS,
  type IngestBatch,
  type IngestDevice,
  type IngestRecord,
  LoggerProtocol,
  ProblemCode,
  ReadingFlag,
} from '@lyotrace/contracts';
import { instantMillis, isCalendarDate } from '../calendar.js';
import { DomainError } from '../domain-error.js';

/**
 * Strict, single-pass validation of an IngestBatch (libs/contracts/src/ingest.ts). Hand-written rather than
 * class-validator: 10 000 nested records must be checked in a few milliseconds. A batch is taken whole or
 * refused whole (no partial silent accept); every error names its field, e.g. `records[17].time`.
 *
 * While it checks, it lays the records out column by column, as the set-based insert wants them.
 */

/** One column per stored field, in record order. Times stay the ISO strings the bridge sent. */
export interface ReadingColumns {
  seq: number[];
  time: string[];
  deviceTime: string[];
  skewMs: number[];
  temperatureC: (number | null)[];
  humidityPct: (number | null)[];
  /** Comma-joined ReadingFlag values ('' for none): one text per row, split again by the database. */
  flags: string[];
}

export interface ValidatedIngestBatch {
  batch: IngestBatch;
  columns: ReadingColumns;
}

/** At most this many field errors are reported: enough to fix a bridge, small enough to log. */
export const MAX_REPORTED_ERRORS = 20;
const MAX_TEXT = 64;
/**
 * A skew beyond ten years either way is a reset clock (a native logger restarts at 1970 after a power loss,
 * PROTOCOL.md §6), not drift: its readings are still real and must not be lost, so they are taken when the
 * bridge flagged them `clock_skew` (time corrected by the skew measured at that contact), up to the range a
 * device time can express at all.
 */
const PLAIN_SKEW_MS = 10 * 366 * 86_400_000;
const MAX_SKEW_MS = 200 * 366 * 86_400_000;
const ABSOLUTE_ZERO_C = -273.15;
const MAX_TEMPERATURE_C = 1000;

const PROTOCOLS: ReadonlySet<string> = new Set(Object.values(LoggerProtocol));
const FLAGS: ReadonlySet<string> = new Set(Object.values(ReadingFlag));
const SENSOR_FAULT: string = ReadingFlag.SensorFault;
const CLOCK_CORRECTED: string = ReadingFlag.ClockCorrected;
const CLOCK_SKEW: string = ReadingFlag.ClockSkew;
const PRINTABLE = /^[\x20-\x7e]*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOP_KEYS = new Set(['version', 'batchId', 'device', 'mission', 'live', 'records']);
const DEVICE_KEYS = new Set(['protocol', 'serial', 'model', 'firmware', 'calibrationDue']);
const RECORD_KEYS = new Set(['seq', 'deviceTime', 'time', 'skewMs', 'temperatureC', 'humidityPct', 'flags']);

interface FieldError {
  field: string;
  messages: string[];
}

class Errors {
  readonly list: FieldError[] = [];
  total = 0;

  add(field: string, message: string): void {
    this.total += 1;
    if (this.list.length < MAX_REPORTED_ERRORS) this.list.push({ field, messages: [message] });
  }

  get full(): boolean {
    return this.list.length >= MAX_REPORTED_ERRORS;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function unknownKeys(value: Record<string, unknown>, allowed: ReadonlySet<string>): string[] {
  const extra: string[] = [];
  for (const key in value) if (!allowed.has(key)) extra.push(key);
  return extra;
}

function text(
  errors: Errors,
  field: string,
  value: unknown,
  options: { required: boolean; allowEmpty?: boolean },
): string | undefined {
  if (value === undefined && !options.required) return undefined;
  if (typeof value !== 'string') {
    errors.add(field, `${field} must be a string`);
    return undefined;
  }
  if (value.length === 0 && !options.allowEmpty) {
    errors.add(field, `${field} must not be empty`);
    return undefined;
  }
  if (value.length > MAX_TEXT || !PRINTABLE.test(value) || value.trim() !== value) {
    errors.add(
      field,
      `${field} must be at most ${MAX_TEXT} printable ASCII characters, without leading or trailing spaces`,
    );
    return undefined;
  }
  return value;
}

function device(errors: Errors, value: unknown): IngestDevice | undefined {
  if (!isObject(value)) {
    errors.add('device', 'device must be an object');
    return undefined;
  }
  for (const key of unknownKeys(value, DEVICE_KEYS))
    errors.add(`device.${key}`, `unknown field device.${key}`);
  const protocol = value.protocol;
  if (typeof protocol !== 'string' || !PROTOCOLS.has(protocol)) {
    errors.add('device.protocol', `device.protocol must be one of ${[...PROTOCOLS].join(', ')}`);
  }
  const serial = text(errors, 'device.serial', value.serial, { required: true });
  const model = text(errors, 'device.model', value.model, { required: true });
  const firmware = text(errors, 'device.firmware', value.firmware, { required: false });
  let calibrationDue: string | undefined;
  if (value.calibrationDue !== undefined) {
    if (!isCalendarDate(value.calibrationDue)) {
      errors.add('device.calibrationDue', 'device.calibrationDue must be a calendar date YYYY-MM-DD');
    } else calibrationDue = value.calibrationDue as string;
  }
  if (serial === undefined || model === undefined || !PROTOCOLS.has(protocol as string)) return undefined;
  const out: IngestDevice = { protocol: protocol as LoggerProtocol, serial, model };
  if (firmware !== undefined) out.firmware = firmware;
  if (calibrationDue !== undefined) out.calibrationDue = calibrationDue;
  return out;
}

function newColumns(n: number): ReadingColumns {
  return {
    seq: new Array<number>(n),
    time: new Array<string>(n),
    deviceTime: new Array<string>(n),
    skewMs: new Array<number>(n),
    temperatureC: new Array<number | null>(n),
    humidityPct: new Array<number | null>(n),
    flags: new Array<string>(n),
  };
}

/** Checks record i and, when it is valid, writes it into the columns. */
function record(
  errors: Errors,
  i: number,
  value: unknown,
  cols: ReadingColumns,
  seen: Map<number, number>,
): void {
  const at = `records[${i}]`;
  if (!isObject(value)) {
    errors.add(at, `${at} must be an object`);
    return;
  }
  const before = errors.total;
  for (const key of unknownKeys(value, RECORD_KEYS)) errors.add(`${at}.${key}`, `unknown field ${at}.${key}`);

  const seq = value.seq;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    errors.add(`${at}.seq`, `${at}.seq must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}`);
  } else {
    const first = seen.get(seq);
    if (first !== undefined) {
      errors.add(`${at}.seq`, `${at}.seq ${seq} repeats records[${first}].seq: each record identity once`);
    } else seen.set(seq, i);
  }

  const time = value.time;
  const timeMs = typeof time === 'string' ? instantMillis(time) : Number.NaN;
  if (Number.isNaN(timeMs)) {
    errors.add(`${at}.time`, `${at}.time must be an ISO 8601 instant with a zone, e.g. 2026-01-05T08:00:00Z`);
  }
  const deviceTime = value.deviceTime;
  const deviceMs = typeof deviceTime === 'string' ? instantMillis(deviceTime) : Number.NaN;
  if (Number.isNaN(deviceMs)) {
    errors.add(
      `${at}.deviceTime`,
      `${at}.deviceTime must be an ISO 8601 instant with a zone, e.g. 2026-01-05T08:00:00Z`,
    );
  }

  const skewMs = value.skewMs;
  const flags = value.flags;
  if (typeof skewMs !== 'number' || !Number.isSafeInteger(skewMs) || Math.abs(skewMs) > MAX_SKEW_MS) {
    errors.add(`${at}.skewMs`, `${at}.skewMs must be an integer number of milliseconds within ±200 years`);
  } else if (Math.abs(skewMs) > PLAIN_SKEW_MS && !(Array.isArray(flags) && flags.includes(CLOCK_SKEW))) {
    errors.add(`${at}.skewMs`, `${at}.skewMs is beyond ±10 years: the record must carry the clock_skew flag`);
  }

  let joined = '';
  let fault = false;
  let corrected = false;
  if (!Array.isArray(flags)) {
    errors.add(`${at}.flags`, `${at}.flags must be an array (empty for none)`);
  } else {
    for (let f = 0; f < flags.length; f += 1) {
      const flag: unknown = flags[f];
      if (typeof flag !== 'string' || !FLAGS.has(flag)) {
        errors.add(`${at}.flags[${f}]`, `${at}.flags[${f}] must be one of ${[...FLAGS].join(', ')}`);
      } else if (flags.indexOf(flag) !== f) {
        errors.add(`${at}.flags[${f}]`, `${at}.flags[${f}] repeats ${flag}`);
      } else {
        joined = joined === '' ? flag : `${joined},${flag}`;
        if (flag === SENSOR_FAULT) fault = true;
        else if (flag === CLOCK_CORRECTED) corrected = true;
      }
    }
  }

  const temperature = value.temperatureC;
  if (temperature === null) {
    // A missing value is a fault, never a silent gap in a temperature series (COLD-CHAIN.md: sensor fault).
    if (Array.isArray(flags) && !fault) {
      errors.add(
        `${at}.temperatureC`,
        `${at}.temperatureC is null: the record must carry the sensor_fault flag`,
      );
    }
  } else if (
    typeof temperature !== 'number' ||
    !Number.isFinite(temperature) ||
    temperature < ABSOLUTE_ZERO_C ||
    temperature > MAX_TEMPERATURE_C
  ) {
    errors.add(
      `${at}.temperatureC`,
      `${at}.temperatureC must be a number of °C from ${ABSOLUTE_ZERO_C} to ${MAX_TEMPERATURE_C}, or null with sensor_fault`,
    );
  }

  const humidity = value.humidityPct;
  if (
    humidity !== undefined &&
    humidity !== null &&
    (typeof humidity !== 'number' || !Number.isFinite(humidity) || humidity < 0 || humidity > 100)
  ) {
    errors.add(`${at}.humidityPct`, `${at}.humidityPct must be a number from 0 to 100, or null`);
  }

  // ALCOA+ (EU GMP Annex 11 §9, PROTOCOL.md §6): a time the bridge changed must say so, so that the
  // correction can always be seen and undone against deviceTime.
  if (
    !Number.isNaN(timeMs) &&
    !Number.isNaN(deviceMs) &&
    timeMs !== deviceMs &&
    Array.isArray(flags) &&
    !corrected
  ) {
    errors.add(
      `${at}.time`,
      `${at}.time differs from deviceTime: the record must carry the clock_corrected flag`,
    );
  }

  if (errors.total !== before) return;
  cols.seq[i] = seq as number;
  cols.time[i] = time as string;
  cols.deviceTime[i] = deviceTime as string;
  cols.skewMs[i] = skewMs as number;
  cols.temperatureC[i] = temperature as number | null;
  cols.humidityPct[i] = (humidity ?? null) as number | null;
  cols.flags[i] = joined;
}

function refuse(errors: Errors): DomainError {
  const first = errors.list[0]!;
  const more = errors.full
    ? ` (checking stopped at ${errors.total} errors; the first ${errors.list.length} are listed)`
    : '';
  return new DomainError(
    ProblemCode.IngestInvalidBatch,
    `the batch was refused as a whole and nothing was stored: ${first.messages[0]}${more}`,
    { field: first.field, errors: errors.list, errorCount: errors.total },
  );
}

/**
 * Validates an untrusted request body as an IngestBatch of the current version. Throws a DomainError
 * (INGEST_VERSION_UNSUPPORTED, INGEST_TOO_MANY_RECORDS or INGEST_INVALID_BATCH with `errors`) or returns the
 * batch with its records laid out in columns.
 */
export function validateIngestBatch(body: unknown): ValidatedIngestBatch {
  if (!isObject(body)) {
    throw new DomainError(ProblemCode.IngestInvalidBatch, 'the body must be a JSON object (an IngestBatch)', {
      field: '',
      errors: [{ field: '', messages: ['the body must be a JSON object (an IngestBatch)'] }],
    });
  }
  if (body.version !== INGEST_BATCH_VERSION) {
    throw new DomainError(
      ProblemCode.IngestVersionUnsupported,
      `batch version ${JSON.stringify(body.version ?? null)} is not supported: this API takes version ${INGEST_BATCH_VERSION}`,
      { field: 'version', supported: [INGEST_BATCH_VERSION] },
    );
  }
  const records = body.records;
  if (Array.isArray(records) && records.length > INGEST_MAX_RECORDS) {
    throw new DomainError(
      ProblemCode.IngestTooManyRecords,
      `the batch has ${records.length} records; at most ${INGEST_MAX_RECORDS} per batch`,
      { field: 'records', max: INGEST_MAX_RECORDS },
    );
  }

  const errors = new Errors();
  for (const key of unknownKeys(body, TOP_KEYS)) errors.add(key, `unknown field ${key}`);
  const batchId = body.batchId;
  if (typeof batchId !== 'string' || !UUID.test(batchId)) errors.add('batchId', 'batchId must be a UUID');
  const dev = device(errors, body.device);
  const mission = text(errors, 'mission', body.mission, { required: true, allowEmpty: true });
  // Elitech indexes and Modbus poll counters restart: without their namespace, a new mission's records
  // would be taken for replays of the old one and silently dropped.
  if (mission === '' && dev && dev.protocol !== LoggerProtocol.Native) {
    errors.add('mission', `mission must not be empty for ${dev.protocol}: its record numbers restart`);
  }
  if (typeof body.live !== 'boolean') errors.add('live', 'live must be true or false');

  let columns = newColumns(0);
  if (!Array.isArray(records)) errors.add('records', 'records must be an array');
  else if (records.length === 0) errors.add('records', 'records must hold at least one record');
  else {
    columns = newColumns(records.length);
    const seen = new Map<number, number>();
    for (let i = 0; i < records.length && !errors.full; i += 1) record(errors, i, records[i], columns, seen);
  }
  if (errors.total > 0) throw refuse(errors);

  const batch: IngestBatch = {
    version: INGEST_BATCH_VERSION,
    batchId: batchId as string,
    device: dev!,
    mission: mission!,
    live: body.live as boolean,
    records: records as IngestRecord[],
  };
  return { batch, columns };
}
