import type { NewGap, OpenGap, ReadingColumns } from '@lyotrace/domain';
import { DataSource, EntityManager } from 'typeorm';

/** A stream row as the ingest transaction sees it (locked). Sequences as numbers (safe integers). */
export interface LockedStream {
  id: string;
  minSeq: number | null;
  maxSeq: number | null;
  highestContiguousSeq: number | null;
}

/** What one set-based insert stored: the newly accepted records (duplicates are not in it). */
export interface InsertedReadings {
  accepted: number;
  minSeq: number | null;
  maxSeq: number | null;
  /** Ascending accepted sequences; null when they are exactly minSeq..maxSeq (the common case). */
  seqs: number[] | null;
  fromTime: Date | null;
  toTime: Date | null;
}

export interface ReadingRow {
  stream_id: string;
  seq: string;
  mission: string;
  time: Date;
  device_time: Date;
  received_at: Date;
  skew_ms: string;
  temperature_c: number | null;
  humidity_pct: number | null;
  flags: string[];
}

export interface ReadingGapRow {
  id: string;
  stream_id: string;
  mission: string;
  from_seq: string;
  to_seq: string;
  after_time: Date | null;
  before_time: Date | null;
  detected_at: Date;
  parent_id: string | null;
  closed_at: Date | null;
}

export interface PendingOutbox {
  id: string;
  loggerId: string;
}

const num = (v: string | null): number | null => (v === null ? null : Number(v));

/**
 * A PostgreSQL array literal from values that need no quoting (validated numbers and ISO instants: no
 * commas, quotes, braces, backslashes or spaces). Built by one join instead of pg's per-element escaping,
 * which costs more than the insert itself at 10 000 records.
 */
const plainArray = (values: readonly (number | string | null)[]): string =>
  `{${values.map((v) => (v === null ? 'NULL' : v)).join(',')}}`;
/** Flag lists are comma-joined, so each element is quoted; they hold only [a-z_,]. */
const quotedArray = (values: readonly string[]): string => `{"${values.join('","')}"}`;

/**
 * Readings and their bookkeeping. Everything on the ingest path is one set-based statement per step: the
 * whole batch is inserted by `INSERT … SELECT … FROM unnest(…) ON CONFLICT DO NOTHING` (TypeORM save() would
 * cost one round trip and one statement per reading).
 */
export class ReadingRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The stream of (logger, mission), created on first use, and row-locked until the transaction ends. */
  async lockStream(
    manager: EntityManager,
    loggerId: string,
    mission: string,
    now: Date,
  ): Promise<LockedStream> {
    // DO UPDATE (not DO NOTHING) so the row comes back, and locked: two batches of one stream serialise here.
    const [row] = await manager.query<
      { id: string; min_seq: string | null; max_seq: string | null; highest_contiguous_seq: string | null }[]
    >(
      `INSERT INTO reading_stream (logger_id, mission, created_at) VALUES ($1, $2, $3)
       ON CONFLICT (logger_id, mission) DO UPDATE SET last_received_at = reading_stream.last_received_at
       RETURNING id, min_seq, max_seq, highest_contiguous_seq`,
      [loggerId, mission, now],
    );
    return {
      id: row!.id,
      minSeq: num(row!.min_seq),
      maxSeq: num(row!.max_seq),
      highestContiguousSeq: num(row!.highest_contiguous_seq),
    };
  }

  /**
   * The whole batch in one statement; a record whose identity is already stored is skipped (a replay).
   * A reading taken at or after `uncalibratedFrom` (the day after the logger's registered calibration due
   * date) gets the `uncalibrated` flag if the bridge did not set it (COLD-CHAIN.md: kept, but marked).
   */
  async insertReadings(
    manager: EntityManager,
    stream: { id: string; loggerId: string },
    receivedAt: Date,
    c: ReadingColumns,
    uncalibratedFrom: Date | null,
  ): Promise<InsertedReadings> {
    const [row] = await manager.query<
      {
        accepted: string;
        min_seq: string | null;
        max_seq: string | null;
        seqs: string[] | null;
        from_time: Date | null;
        to_time: Date | null;
      }[]
    >(
      `WITH inserted AS (
         INSERT INTO reading (stream_id, seq, logger_id, time, device_time, received_at, skew_ms, temperature_c, humidity_pct, flags)
         SELECT $1, r.seq, $2, r.time, r.device_time, $3, r.skew_ms, r.temperature_c, r.humidity_pct,
                CASE WHEN r.time >= $11::timestamptz AND position('uncalibrated' in r.flags) = 0
                       THEN string_to_array(concat_ws(',', nullif(r.flags, ''), 'uncalibrated'), ',')
                     WHEN r.flags = '' THEN '{}'::text[]
                     ELSE string_to_array(r.flags, ',') END
           FROM unnest($4::bigint[], $5::timestamptz[], $6::timestamptz[], $7::bigint[], $8::float8[], $9::float8[], $10::text[])
                AS r(seq, time, device_time, skew_ms, temperature_c, humidity_pct, flags)
         ON CONFLICT (stream_id, seq) DO NOTHING
         RETURNING seq, time)
       SELECT count(*) AS accepted, min(seq) AS min_seq, max(seq) AS max_seq,
              CASE WHEN count(*) = max(seq) - min(seq) + 1 THEN NULL ELSE array_agg(seq ORDER BY seq) END AS seqs,
              min(time) AS from_time, max(time) AS to_time
         FROM inserted`,
      [
        stream.id,
        stream.loggerId,
        receivedAt,
        plainArray(c.seq),
        plainArray(c.time),
        plainArray(c.deviceTime),
        plainArray(c.skewMs),
        plainArray(c.temperatureC),
        plainArray(c.humidityPct),
        quotedArray(c.flags),
        uncalibratedFrom,
      ],
    );
    return {
      accepted: Number(row!.accepted),
      minSeq: num(row!.min_seq),
      maxSeq: num(row!.max_seq),
      seqs: row!.seqs === null ? null : row!.seqs.map(Number),
      fromTime: row!.from_time,
      toTime: row!.to_time,
    };
  }

  async openGapsBetween(
    manager: EntityManager,
    streamId: string,
    from: number,
    to: number,
  ): Promise<OpenGap[]> {
    const rows = await manager.query<{ id: string; from_seq: string; to_seq: string }[]>(
      `SELECT id, from_seq, to_seq FROM reading_gap
        WHERE stream_id = $1 AND closed_at IS NULL AND from_seq <= $3 AND to_seq >= $2
        ORDER BY from_seq`,
      [streamId, from, to],
    );
    return rows.map((r) => ({ id: r.id, fromSeq: Number(r.from_seq), toSeq: Number(r.to_seq) }));
  }

  async closeGaps(manager: EntityManager, ids: readonly string[], at: Date): Promise<void> {
    if (ids.length === 0) return;
    await manager.query(
      `UPDATE reading_gap SET closed_at = $2 WHERE id = ANY($1::uuid[]) AND closed_at IS NULL`,
      [ids, at],
    );
  }

  /** Opens gaps, with the times of the records either side of each when they are stored. */
  async openGaps(
    manager: EntityManager,
    stream: { id: string; loggerId: string },
    gaps: readonly NewGap[],
    at: Date,
  ): Promise<void> {
    if (gaps.length === 0) return;
    await manager.query(
      `INSERT INTO reading_gap (stream_id, logger_id, from_seq, to_seq, after_time, before_time, detected_at, parent_id)
       SELECT $1, $2, g.from_seq, g.to_seq,
              (SELECT time FROM reading WHERE stream_id = $1 AND seq = g.from_seq - 1),
              (SELECT time FROM reading WHERE stream_id = $1 AND seq = g.to_seq + 1),
              $3, g.parent_id
         FROM unnest($4::bigint[], $5::bigint[], $6::uuid[]) AS g(from_seq, to_seq, parent_id)`,
      [
        stream.id,
        stream.loggerId,
        at,
        gaps.map((g) => g.fromSeq),
        gaps.map((g) => g.toSeq),
        gaps.map((g) => g.parentId),
      ],
    );
  }

  /** New range of the stream; the highest contiguous sequence follows from its lowest open gap. */
  async updateStream(
    manager: EntityManager,
    streamId: string,
    range: { minSeq: number; maxSeq: number },
    at: Date,
  ): Promise<number> {
    // TypeORM answers an UPDATE with [rows, affected count].
    const [[row]] = await manager.query<[{ highest_contiguous_seq: string }[], number]>(
      `UPDATE reading_stream
          SET min_seq = $2, max_seq = $3, last_received_at = $4,
              highest_contiguous_seq = COALESCE(
                (SELECT min(from_seq) - 1 FROM reading_gap WHERE stream_id = $1 AND closed_at IS NULL), $3)
        WHERE id = $1
        RETURNING highest_contiguous_seq`,
      [streamId, range.minSeq, range.maxSeq, at],
    );
    return Number(row!.highest_contiguous_seq);
  }

  /**
   * The provenance record of the upload and, when something new was stored, the outbox row of what needs
   * evaluating, in one statement. Returns the outbox id (null when nothing was accepted).
   */
  async recordBatch(
    manager: EntityManager,
    b: {
      batchId: string;
      bridgeCredentialId: string;
      bridgeSiteId: string;
      loggerId: string;
      streamId: string;
      live: boolean;
      receivedAt: Date;
      recordCount: number;
      accepted: number;
      window: { from: Date; to: Date } | null;
    },
  ): Promise<string | null> {
    const rows = await manager.query<{ id: string }[]>(
      `WITH batch AS (
         INSERT INTO ingest_batch (batch_id, bridge_credential_id, bridge_site_id, logger_id, stream_id, live, received_at, record_count, accepted, duplicates)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::int, $9::int, $8::int - $9::int)
         RETURNING id)
       INSERT INTO ingest_outbox (ingest_batch_id, logger_id, from_time, to_time, created_at)
       SELECT batch.id, $4, $10, $11, $7 FROM batch WHERE $10::timestamptz IS NOT NULL
       RETURNING id`,
      [
        b.batchId,
        b.bridgeCredentialId,
        b.bridgeSiteId,
        b.loggerId,
        b.streamId,
        b.live,
        b.receivedAt,
        b.recordCount,
        b.accepted,
        b.window?.from ?? null,
        b.window?.to ?? null,
      ],
    );
    return rows[0]?.id ?? null;
  }

  /** Outbox rows still not evaluated that were written before `before` (oldest first). */
  async pendingOutbox(before: Date, limit: number): Promise<PendingOutbox[]> {
    const rows = await this.dataSource.query<{ id: string; logger_id: string }[]>(
      `SELECT id, logger_id FROM ingest_outbox WHERE evaluated_at IS NULL AND created_at < $1 ORDER BY created_at, id LIMIT $2`,
      [before, limit],
    );
    return rows.map((r) => ({ id: r.id, loggerId: r.logger_id }));
  }

  /** Marks an outbox row evaluated; false when it was already (a job run twice) or does not exist. */
  async markEvaluated(id: string, at: Date): Promise<boolean> {
    const [, updated] = await this.dataSource.query<[unknown[], number]>(
      `UPDATE ingest_outbox SET evaluated_at = $2 WHERE id = $1 AND evaluated_at IS NULL`,
      [id, at],
    );
    return updated > 0;
  }

  /**
   * A page of a logger's readings over [from, to), in time order. Keyset paging on (time, stream, seq): the
   * (logger_id, time) index gives the range; ties in time (two missions) are ordered by an incremental sort.
   */
  readings(
    loggerId: string,
    from: Date,
    to: Date,
    limit: number,
    after?: { time: Date; streamId: string; seq: string },
  ): Promise<ReadingRow[]> {
    return this.dataSource.query<ReadingRow[]>(
      `SELECT r.stream_id, r.seq, s.mission, r.time, r.device_time, r.received_at, r.skew_ms, r.temperature_c, r.humidity_pct, r.flags
         FROM reading r JOIN reading_stream s ON s.id = r.stream_id
        WHERE r.logger_id = $1 AND r.time >= $2 AND r.time < $3
          AND ($5::timestamptz IS NULL OR (r.time, r.stream_id, r.seq) > ($5::timestamptz, $6::bigint, $7::bigint))
        ORDER BY r.time, r.stream_id, r.seq
        LIMIT $4`,
      [loggerId, from, to, limit, after?.time ?? null, after?.streamId ?? null, after?.seq ?? null],
    );
  }

  gaps(loggerId: string, openOnly: boolean): Promise<ReadingGapRow[]> {
    return this.dataSource.query<ReadingGapRow[]>(
      `SELECT g.id, g.stream_id, s.mission, g.from_seq, g.to_seq, g.after_time, g.before_time, g.detected_at, g.parent_id, g.closed_at
         FROM reading_gap g JOIN reading_stream s ON s.id = g.stream_id
        WHERE g.logger_id = $1 AND (NOT $2 OR g.closed_at IS NULL)
        ORDER BY g.detected_at, s.mission, g.from_seq`,
      [loggerId, openOnly],
    );
  }

  streams(loggerId: string) {
    return this.dataSource.query<
      {
        id: string;
        mission: string;
        min_seq: string | null;
        max_seq: string | null;
        highest_contiguous_seq: string | null;
        last_received_at: Date | null;
      }[]
    >(
      `SELECT id, mission, min_seq, max_seq, highest_contiguous_seq, last_received_at
         FROM reading_stream WHERE logger_id = $1 ORDER BY created_at, id`,
      [loggerId],
    );
  }
}
