import { type IngestRecord, ReadingFlag } from '@lyotrace/contracts';

/** The clock policy of PROTOCOL.md §6, with its two thresholds from the bridge's configuration. */
export interface SkewSettings {
  /** |skew| at or above this is corrected (below: measurement noise against 1 s record times). */
  correctMs: number;
  /** |skew| above this flags the readings `clock_skew`. */
  flagMs: number;
}

export const DEFAULT_SKEW: SkewSettings = { correctMs: 2_000, flagMs: 60_000 };

/**
 * Device clock − host clock for a request/reply contact: the device read its clock somewhere between our send
 * and our receive, so the midpoint halves the error (at most half the round trip).
 */
export function skewOfExchange(deviceMs: number, sentMs: number, receivedMs: number): number {
  return Math.round(deviceMs - (sentMs + receivedMs) / 2);
}

/** For a one-way push (a live record): the transmission delay is ~3 ms at 115 200 baud, below the noise. */
export function skewOfPush(deviceMs: number, receivedMs: number): number {
  return Math.round(deviceMs - receivedMs);
}

export interface Sample {
  seq: number;
  /** Device clock at sampling, ms. */
  deviceMs: number;
  temperatureC: number | null;
  humidityPct?: number | null;
  sensorFault?: boolean;
  /**
   * The device says its clock was not set since power loss (it counts from 1970). Its offset is still
   * constant since power-on, so the delivering contact's skew corrects it like any other; always flagged.
   */
  clockUnset?: boolean;
}

/**
 * A calibration due date a device reported that is no date (month 13, 31 February): nothing shows the logger is
 * calibrated, so its readings are treated as past calibration (and the date itself is never sent on).
 */
export const UNREADABLE_CALIBRATION = 'unreadable';

/** Epoch ms from which readings count as uncalibrated: the day after the due date (UTC); always, if unreadable. */
const uncalibratedFrom = (due: string): number =>
  due === UNREADABLE_CALIBRATION ? Number.NEGATIVE_INFINITY : Date.parse(`${due}T00:00:00Z`) + 86_400_000;

/**
 * One reading as the API receives it. `deviceTime` always travels as the device said it, and `time` is the
 * corrected one, so the correction stays auditable and reversible (EU GMP Annex 11 §9: changes to GMP data
 * are traceable; 21 CFR 11.10(e)). The skew applied is the one measured at the contact that delivered the
 * record (PROTOCOL.md §6).
 */
export function toIngestRecord(
  sample: Sample,
  skewMs: number,
  settings: SkewSettings,
  calibrationDue?: string | null,
): IngestRecord {
  const flags: ReadingFlag[] = [];
  const fault = sample.sensorFault === true || sample.temperatureC === null;
  // COLD-CHAIN.md: a fault is never a temperature (excluded from MKT and time out of range downstream).
  if (fault) flags.push(ReadingFlag.SensorFault);
  const correct = Math.abs(skewMs) >= settings.correctMs;
  const timeMs = correct ? sample.deviceMs - skewMs : sample.deviceMs;
  if (sample.clockUnset || Math.abs(skewMs) > settings.flagMs) flags.push(ReadingFlag.ClockSkew);
  if (correct) flags.push(ReadingFlag.ClockCorrected);
  // EU GDP 9.2 / Annex 11 §4: a reading from a logger past its calibration is kept but marked, and cannot
  // support a release decision. Due date = valid through the end of that day (UTC).
  if (calibrationDue && timeMs >= uncalibratedFrom(calibrationDue)) flags.push(ReadingFlag.Uncalibrated);
  const record: IngestRecord = {
    seq: sample.seq,
    deviceTime: new Date(sample.deviceMs).toISOString(),
    time: new Date(timeMs).toISOString(),
    skewMs,
    temperatureC: fault ? null : sample.temperatureC,
    flags,
  };
  if (sample.humidityPct !== undefined) record.humidityPct = sample.humidityPct;
  return record;
}
