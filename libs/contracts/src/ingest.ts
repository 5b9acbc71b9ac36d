/**
 * The bridge → API upload (`POST /api/ingest/readings`): a documented, versioned JSON batch. Every record
 * carries the device's own identity of it, so a retried or replayed batch is harmless (ARCHITECTURE.md §5).
 *
 * NEVER change the meaning of a field of a published version: add a version instead.
 */
export const INGEST_BATCH_VERSION = 1 as const;

/** Largest batch the API takes, in records. The bridge sends at most this many. */
export const INGEST_MAX_RECORDS = 10_000;

/** The protocol a device speaks; with its serial number, it identifies a logger. Stored as text. */
export enum LoggerProtocol {
  /** Our own logger firmware (firmware-bridge/PROTOCOL.md): per-record device sequence numbers. */
  Native = 'lyotrace-native',
  /** Elitech RC-4 / RC-4HC / RC-5: no per-record timestamps; identity is mission start + index. */
  Elitech = 'elitech-rc',
  /** Modbus RTU probe (XY-MD02 / SHT20 profile), polled by the bridge: the bridge numbers the polls. */
  ModbusRtu = 'modbus-rtu',
}

/** Per-reading flags. Stored as text: never rename a value. */
export enum ReadingFlag {
  /** A sentinel or out-of-rated-range value: a fault, never a temperature (no MKT, no time out of range). */
  SensorFault = 'sensor_fault',
  /** The device clock was off the host clock by more than the bridge's threshold at this contact. */
  ClockSkew = 'clock_skew',
  /** `time` differs from `deviceTime`: the bridge corrected it by the measured skew (PROTOCOL.md §clock). */
  ClockCorrected = 'clock_corrected',
  /** The logger's calibration was past due when the reading was taken: kept, but cannot support release. */
  Uncalibrated = 'uncalibrated',
}

export interface IngestDevice {
  protocol: LoggerProtocol;
  /** The device's own serial number (for Modbus: the bridge's configured probe id, e.g. `bus0-slave1`). */
  serial: string;
  model: string;
  firmware?: string;
  /** Calibration due date the device reports, `YYYY-MM-DD`, when it reports one. */
  calibrationDue?: string;
}

export interface IngestRecord {
  /**
   * The device's record identity within `mission`: the device sequence number (native), the record index
   * from 0 (Elitech), or the bridge's poll counter (Modbus). With the logger and `mission`, unique forever.
   */
  seq: number;
  /** What the device said (or, without per-record times, start + index × interval on the device clock). ISO 8601. */
  deviceTime: string;
  /** The reading's time on the host timeline after the bridge's skew policy. ISO 8601. */
  time: string;
  /** Device clock − host clock at the contact that delivered this record, in milliseconds. */
  skewMs: number;
  /** °C; null when the device reported a fault instead of a value. */
  temperatureC: number | null;
  /** %RH, for devices that measure it. */
  humidityPct?: number | null;
  flags: ReadingFlag[];
}

export interface IngestBatch {
  version: typeof INGEST_BATCH_VERSION;
  /** Chosen by the bridge (UUID); the same batch retried keeps its id. For logs and tracing only. */
  batchId: string;
  device: IngestDevice;
  /**
   * The record-identity namespace: '' for devices whose sequence never restarts (native), the mission start
   * (ISO 8601, device clock) for Elitech, the bridge's poll-stream id for Modbus.
   */
  mission: string;
  /** true: records read as they happened (live); false: a bulk download of stored records (backlog). */
  live: boolean;
  records: IngestRecord[];
}

export interface IngestResult {
  batchId: string;
  loggerId: string;
  accepted: number;
  duplicates: number;
  /** Highest sequence of `mission` below which every record has arrived (null: none yet). */
  highestContiguousSeq: number | null;
}

/** Where the bridge posts an IngestBatch (JSON), with its bridge credential as the bearer token. */
export const INGEST_READINGS_PATH = '/api/ingest/readings';

/**
 * Largest request body the ingest route takes, in bytes. A full batch of INGEST_MAX_RECORDS is about 2.5 MB
 * of compact JSON; the rest is headroom for long serials and pretty-printed bodies.
 */
export const INGEST_MAX_BODY_BYTES = 16 * 1024 * 1024;
