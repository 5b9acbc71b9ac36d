import { Injectable, Logger } from '@nestjs/common';
import { type ExcursionEvaluateJob, type IngestOutboxSweepJob, JobName } from '@lyotrace/contracts';
import { IngestService } from '@lyotrace/services';
import { IsInt, IsOptional, Matches, Min } from 'class-validator';
import { HandlesJob, type JobHandler } from './job-handler.js';

export class ExcursionEvaluatePayload implements ExcursionEvaluateJob {
  @Matches(/^[1-9]\d{0,18}$/, { message: 'outboxId must be a positive integer (decimal string)' })
  outboxId!: string;
}

export class IngestOutboxSweepPayload implements IngestOutboxSweepJob {
  @IsOptional()
  @IsInt()
  @Min(0)
  olderThanMs?: number;
}

/**
 * Evaluates the readings an ingest outbox row names. The excursion engine comes with a later issue: for now
 * the row is marked evaluated, which is what the sweep watches. Safe to run twice.
 */
@Injectable()
@HandlesJob(JobName.ExcursionEvaluate, ExcursionEvaluatePayload)
export class ExcursionEvaluateHandler implements JobHandler<JobName.ExcursionEvaluate> {
  private readonly logger = new Logger(ExcursionEvaluateHandler.name);

  constructor(private readonly ingest: IngestService) {}

  async handle(payload: ExcursionEvaluateJob): Promise<unknown> {
    const marked = await this.ingest.markEvaluated(payload.outboxId);
    if (!marked) this.logger.debug(`ingest outbox ${payload.outboxId}: already evaluated`);
    return { outboxId: payload.outboxId, marked };
  }
}

/** Queues again the evaluations Redis lost (or that were never queued): rebuilt from PostgreSQL's outbox. */
@Injectable()
@HandlesJob(JobName.IngestOutboxSweep, IngestOutboxSweepPayload)
export class IngestOutboxSweepHandler implements JobHandler<JobName.IngestOutboxSweep> {
  constructor(private readonly ingest: IngestService) {}

  async handle(payload: IngestOutboxSweepJob): Promise<unknown> {
    return { requeued: await this.ingest.sweep(payload.olderThanMs) };
  }
}
