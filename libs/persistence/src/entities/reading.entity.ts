import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { BridgeCredentialEntity } from './bridge-credential.entity.js';
import { LoggerEntity } from './logger.entity.js';
import { SiteEntity } from './site.entity.js';

/**
 * The records of one logger within one record-identity namespace (IngestBatch.mission): where a device's own
 * sequence numbers are unique. Holds the sequence bookkeeping (lowest, highest, highest contiguous).
 */
@Entity({ name: 'reading_stream' })
@Unique('UQ_reading_stream_logger_mission', ['loggerId', 'mission'])
@Unique('UQ_reading_stream_id_logger', ['id', 'loggerId'])
export class ReadingStreamEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'logger_id', type: 'uuid' })
  loggerId!: string;

  @ManyToOne(() => LoggerEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'logger_id' })
  logger?: LoggerEntity;

  @Column({ type: 'text' })
  mission!: string;

  @Column({ name: 'min_seq', type: 'bigint', nullable: true })
  minSeq!: string | null;

  @Column({ name: 'max_seq', type: 'bigint', nullable: true })
  maxSeq!: string | null;

  @Column({ name: 'highest_contiguous_seq', type: 'bigint', nullable: true })
  highestContiguousSeq!: string | null;

  @Column({ name: 'last_received_at', type: 'timestamptz', nullable: true })
  lastReceivedAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

/**
 * One reading, exactly as the device and the bridge reported it (ALCOA+: original device time and the skew
 * kept beside the corrected time). Unique on the device's record identity (stream + seq), so a replayed batch
 * inserts nothing. Append-only.
 *
 * No declarative foreign keys: a row-level RI check per reading halves the ingest rate. The migration adds a
 * statement-level trigger that checks every inserted (stream_id, logger_id) against reading_stream in one
 * join; streams and loggers can never be deleted.
 *
 * Not partitioned: the identity (stream, seq) cannot include the time (a re-download may correct a record's
 * time), and a unique key of a partitioned table must include the partition key. A year of one-per-minute
 * readings of a logger is 525 600 rows: one B-tree descent on (logger_id, time) then a contiguous range.
 */
@Entity({ name: 'reading' })
@Index('IDX_reading_logger_time', ['loggerId', 'time'])
@Check(
  'CHK_reading_flags',
  `flags <@ ARRAY['sensor_fault','clock_skew','clock_corrected','uncalibrated']::text[]`,
)
@Check('CHK_reading_humidity', `humidity_pct IS NULL OR humidity_pct BETWEEN 0 AND 100`)
export class ReadingEntity {
  @PrimaryColumn({ name: 'stream_id', type: 'bigint' })
  streamId!: string;

  @PrimaryColumn({ type: 'bigint' })
  seq!: string;

  @Column({ name: 'logger_id', type: 'uuid' })
  loggerId!: string;

  /** On the host timeline, after the bridge's skew correction (flag clock_corrected when it differs). */
  @Column({ type: 'timestamptz' })
  time!: Date;

  @Column({ name: 'device_time', type: 'timestamptz' })
  deviceTime!: Date;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;

  @Column({ name: 'skew_ms', type: 'bigint' })
  skewMs!: string;

  /** null: the device reported a fault, not a temperature (flag sensor_fault). */
  @Column({ name: 'temperature_c', type: 'double precision', nullable: true })
  temperatureC!: number | null;

  @Column({ name: 'humidity_pct', type: 'double precision', nullable: true })
  humidityPct!: number | null;

  @Column({ type: 'text', array: true, default: () => `'{}'` })
  flags!: string[];
}

/**
 * A run of record sequence numbers missing from a stream (a hole the device numbering reveals). Closed,
 * never edited, when records arrive in it; what is still missing then is a new gap naming it as parent.
 */
@Entity({ name: 'reading_gap' })
@Index('IDX_reading_gap_open', ['streamId', 'fromSeq'], { where: 'closed_at IS NULL' })
@Index('IDX_reading_gap_logger', ['loggerId', 'detectedAt'])
@Check('CHK_reading_gap_range', `from_seq <= to_seq`)
export class ReadingGapEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'stream_id', type: 'bigint' })
  streamId!: string;

  @ManyToOne(() => ReadingStreamEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'stream_id' })
  stream?: ReadingStreamEntity;

  @Column({ name: 'logger_id', type: 'uuid' })
  loggerId!: string;

  @ManyToOne(() => LoggerEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'logger_id' })
  logger?: LoggerEntity;

  @Column({ name: 'from_seq', type: 'bigint' })
  fromSeq!: string;

  @Column({ name: 'to_seq', type: 'bigint' })
  toSeq!: string;

  /** Times of the records either side of the hole, when known: the time span QA has no data for. */
  @Column({ name: 'after_time', type: 'timestamptz', nullable: true })
  afterTime!: Date | null;

  @Column({ name: 'before_time', type: 'timestamptz', nullable: true })
  beforeTime!: Date | null;

  @Column({ name: 'detected_at', type: 'timestamptz' })
  detectedAt!: Date;

  @Column({ name: 'parent_id', type: 'uuid', nullable: true })
  parentId!: string | null;

  @ManyToOne(() => ReadingGapEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'parent_id' })
  parent?: ReadingGapEntity;

  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true })
  closedAt!: Date | null;
}

/** Provenance of every upload (EU GMP Annex 11 §5, data exchange): which bridge sent what, when. Append-only. */
@Entity({ name: 'ingest_batch' })
@Index('IDX_ingest_batch_logger', ['loggerId', 'receivedAt'])
@Index('IDX_ingest_batch_batch_id', ['batchId'])
export class IngestBatchEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  /** The bridge's own id of the batch (kept across retries): not unique here, a retry is logged again. */
  @Column({ name: 'batch_id', type: 'uuid' })
  batchId!: string;

  @Column({ name: 'bridge_credential_id', type: 'uuid' })
  bridgeCredentialId!: string;

  @ManyToOne(() => BridgeCredentialEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'bridge_credential_id' })
  bridgeCredential?: BridgeCredentialEntity;

  @Column({ name: 'bridge_site_id', type: 'uuid' })
  bridgeSiteId!: string;

  @ManyToOne(() => SiteEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'bridge_site_id' })
  bridgeSite?: SiteEntity;

  @Column({ name: 'logger_id', type: 'uuid' })
  loggerId!: string;

  @ManyToOne(() => LoggerEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'logger_id' })
  logger?: LoggerEntity;

  @Column({ name: 'stream_id', type: 'bigint' })
  streamId!: string;

  @ManyToOne(() => ReadingStreamEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'stream_id' })
  stream?: ReadingStreamEntity;

  @Column({ type: 'boolean' })
  live!: boolean;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;

  @Column({ name: 'record_count', type: 'int' })
  recordCount!: number;

  @Column({ type: 'int' })
  accepted!: number;

  @Column({ type: 'int' })
  duplicates!: number;
}

/**
 * The transactional outbox of ingestion: readings of a logger over [from_time, to_time] arrived and need
 * evaluating. Written in the ingest transaction; the job is queued after commit with a deterministic id;
 * the worker's sweep queues again anything not evaluated after a while, so losing Redis loses nothing.
 */
@Entity({ name: 'ingest_outbox' })
@Index('IDX_ingest_outbox_pending', ['createdAt'], { where: 'evaluated_at IS NULL' })
@Check('CHK_ingest_outbox_window', `from_time <= to_time`)
export class IngestOutboxEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'ingest_batch_id', type: 'bigint' })
  ingestBatchId!: string;

  @ManyToOne(() => IngestBatchEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'ingest_batch_id' })
  ingestBatch?: IngestBatchEntity;

  @Column({ name: 'logger_id', type: 'uuid' })
  loggerId!: string;

  @ManyToOne(() => LoggerEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'logger_id' })
  logger?: LoggerEntity;

  @Column({ name: 'from_time', type: 'timestamptz' })
  fromTime!: Date;

  @Column({ name: 'to_time', type: 'timestamptz' })
  toTime!: Date;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'evaluated_at', type: 'timestamptz', nullable: true })
  evaluatedAt!: Date | null;
}
