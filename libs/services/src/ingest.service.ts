import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@lyotrace/config';
import { type IngestDevice, type IngestResult, JobName, ProblemCode } from '@lyotrace/contracts';
import { applyAcceptedSequences, type Clock, DomainError, validateIngestBatch } from '@lyotrace/domain';
import {
  type ActorContext,
  CLOCK,
  type LoggerEntity,
  LoggerRepository,
  ReadingRepository,
  TransactionRunner,
  type UnitOfWork,
} from '@lyotrace/persistence';
import { JobQueue } from './job-queue.js';

/** At most this many rows are queued again per sweep (a long Redis outage is caught up over a few runs). */
export const OUTBOX_SWEEP_LIMIT = 1_000;

/** The deterministic job id of an outbox row's evaluation: queuing it twice queues it once. */
export const evaluationJobId = (outboxId: string): string => `excursion-evaluate-${outboxId}`;

/**
 * EU GDP 9.2 (monitoring devices calibrated at least yearly): readings taken after the logger's registered
 * calibration due date (the whole due day still counts, in UTC) cannot support a release decision.
 */
export const uncalibratedFrom = (calibrationDue: string | null): Date | null =>
  calibrationDue ? new Date(Date.parse(`${calibrationDue}T00:00:00Z`) + 86_400_000) : null;

const range = (from: number, to: number): number[] => {
  const out = new Array<number>(to - from + 1);
  for (let i = 0; i < out.length; i += 1) out[i] = from + i;
  return out;
};

/**
 * Readings from the site bridges (`POST /api/ingest/readings`). One transaction per batch stores the
 * readings (set-based, a replay inserts nothing), the sequence bookkeeping and gaps, the provenance record
 * and the outbox row of what needs evaluating; the evaluation job is queued after commit. PostgreSQL is the
 * system of record: if Redis is down the batch is still taken and the sweep queues the job later.
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);

  constructor(
    private readonly loggers: LoggerRepository,
    private readonly readings: ReadingRepository,
    private readonly tx: TransactionRunner,
    private readonly queue: JobQueue,
    private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async ingest(ctx: ActorContext, body: unknown): Promise<IngestResult> {
    const bridge = ctx.actor;
    if (bridge.kind !== 'bridge')
      throw new DomainError(ProblemCode.Forbidden, 'only a site bridge uploads readings');
    // Everything is checked before anything is written: a bad batch changes nothing.
    const { batch, columns } = validateIngestBatch(body);
    const receivedAt = this.clock.now();

    const stored = await this.tx.run(ctx, async (uow) => {
      const logger = await this.loggerFor(uow, batch.device, bridge.siteId, batch.batchId);
      const stream = await this.readings.lockStream(uow.manager, logger.id, batch.mission, receivedAt);
      const inserted = await this.readings.insertReadings(
        uow.manager,
        { id: stream.id, loggerId: logger.id },
        receivedAt,
        columns,
        uncalibratedFrom(logger.calibrationDue),
      );
      let highestContiguousSeq = stream.highestContiguousSeq;
      if (inserted.accepted > 0) {
        const accepted = inserted.seqs ?? range(inserted.minSeq!, inserted.maxSeq!);
        const before =
          stream.minSeq === null || stream.maxSeq === null
            ? null
            : { minSeq: stream.minSeq, maxSeq: stream.maxSeq };
        // Only records inside the known range can fill a gap; a stream that only grows needs no gap lookup.
        const mayFill =
          before !== null && inserted.minSeq! < before.maxSeq && inserted.maxSeq! > before.minSeq;
        const openGaps = mayFill
          ? await this.readings.openGapsBetween(uow.manager, stream.id, inserted.minSeq!, inserted.maxSeq!)
          : [];
        const update = applyAcceptedSequences(before, openGaps, accepted);
        await this.readings.closeGaps(uow.manager, update.closedGapIds, receivedAt);
        await this.readings.openGaps(
          uow.manager,
          { id: stream.id, loggerId: logger.id },
          update.openedGaps,
          receivedAt,
        );
        highestContiguousSeq = await this.readings.updateStream(uow.manager, stream.id, update, receivedAt);
      }
      const outboxId = await this.readings.recordBatch(uow.manager, {
        batchId: batch.batchId,
        bridgeCredentialId: bridge.credentialId,
        bridgeSiteId: bridge.siteId,
        loggerId: logger.id,
        streamId: stream.id,
        live: batch.live,
        receivedAt,
        recordCount: batch.records.length,
        accepted: inserted.accepted,
        window:
          inserted.fromTime && inserted.toTime ? { from: inserted.fromTime, to: inserted.toTime } : null,
      });
      return { loggerId: logger.id, accepted: inserted.accepted, highestContiguousSeq, outboxId };
    });

    if (stored.outboxId !== null) await this.enqueueEvaluation(stored.outboxId);
    return {
      batchId: batch.batchId,
      loggerId: stored.loggerId,
      accepted: stored.accepted,
      duplicates: batch.records.length - stored.accepted,
      highestContiguousSeq: stored.highestContiguousSeq,
    };
  }

  /**
   * The logger of the batch. A device nobody registered is registered now, owned by the bridge's site and
   * unapproved: its readings are kept (never lost), and an admin confirms the device later. Audited.
   */
  private async loggerFor(
    uow: UnitOfWork,
    device: IngestDevice,
    siteId: string,
    batchId: string,
  ): Promise<LoggerEntity> {
    const known = await this.loggers.findByIdentity(uow.manager, device.protocol, device.serial);
    if (known) return known;
    const created = await this.loggers.insertIfAbsent(
      uow.manager,
      {
        protocol: device.protocol,
        serial: device.serial,
        model: device.model,
        firmware: device.firmware ?? null,
        calibrationDue: device.calibrationDue ?? null,
        siteId,
      },
      { kind: 'auto' },
    );
    // Another upload registered it a moment ago: use theirs.
    if (!created) return (await this.loggers.findByIdentity(uow.manager, device.protocol, device.serial))!;
    // EU GMP Annex 11 §9: a new device entering the system is a GMP-relevant change, recorded with who did it.
    await uow.audit({
      action: 'logger.auto_register',
      entityType: 'logger',
      entityId: created.id,
      newValues: {
        protocol: created.protocol,
        serial: created.serial,
        model: created.model,
        firmware: created.firmware,
        calibrationDue: created.calibrationDue,
        siteId,
        approved: false,
        firstBatchId: batchId,
      },
    });
    this.logger.warn(
      `logger ${device.protocol}/${device.serial} registered automatically for site ${siteId}: awaiting approval`,
    );
    return created;
  }

  /** Queues the evaluation of an outbox row; if Redis is down now, the sweep queues it later. */
  async enqueueEvaluation(outboxId: string): Promise<boolean> {
    try {
      await this.queue.enqueue(JobName.ExcursionEvaluate, { outboxId }, { jobId: evaluationJobId(outboxId) });
      return true;
    } catch (error) {
      this.logger.warn(
        `ingest outbox ${outboxId}: evaluation not queued now (${(error as Error).message}); the sweep will retry`,
      );
      return false;
    }
  }

  /**
   * Queues again every outbox row left unevaluated for `olderThanMs` (default INGEST_SWEEP_AGE_MS): a job
   * Redis lost, one that failed for good, or one never queued because Redis was down at commit. Stops at the
   * first refusal (Redis still down).
   */
  async sweep(olderThanMs = this.config.INGEST_SWEEP_AGE_MS): Promise<number> {
    const pending = await this.readings.pendingOutbox(
      new Date(this.clock.now().getTime() - olderThanMs),
      OUTBOX_SWEEP_LIMIT,
    );
    let queued = 0;
    for (const row of pending) {
      try {
        await this.queue.enqueueAgain(
          JobName.ExcursionEvaluate,
          { outboxId: row.id },
          evaluationJobId(row.id),
        );
        queued += 1;
      } catch (error) {
        this.logger.warn(`ingest outbox sweep stopped after ${queued}: ${(error as Error).message}`);
        break;
      }
    }
    if (queued > 0) this.logger.log(`ingest outbox sweep: ${queued} evaluation(s) queued again`);
    return queued;
  }

  /**
   * The worker's evaluation of one outbox row. The excursion engine comes with a later issue; until then the
   * row is only marked evaluated. Idempotent: false when it already was.
   */
  markEvaluated(outboxId: string): Promise<boolean> {
    return this.readings.markEvaluated(outboxId, this.clock.now());
  }
}
