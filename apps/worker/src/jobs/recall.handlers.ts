import { Injectable, Logger } from '@nestjs/common';
import { JobName, type RecallPropagateJob, type RecallSweepJob } from '@lyotrace/contracts';
import { RecallService } from '@lyotrace/services';
import { IsUUID } from 'class-validator';
import { HandlesJob, type JobHandler } from './job-handler.js';

export class RecallPropagatePayload implements RecallPropagateJob {
  @IsUUID()
  recallId!: string;
}

export class RecallSweepPayload {}

/** Marks every downstream vial of a recall. Safe to run twice (set-based, conditional updates). */
@Injectable()
@HandlesJob(JobName.RecallPropagate, RecallPropagatePayload)
export class RecallPropagateHandler implements JobHandler<JobName.RecallPropagate> {
  private readonly logger = new Logger(RecallPropagateHandler.name);

  constructor(private readonly recalls: RecallService) {}

  async handle(payload: RecallPropagateJob): Promise<unknown> {
    const result = await this.recalls.propagate(payload.recallId);
    this.logger.log(`recall ${payload.recallId}: ${result.marked} vial(s) marked`);
    return result;
  }
}

/** Re-queues recalls whose propagation has not run: a job lost with Redis is queued again from PostgreSQL. */
@Injectable()
@HandlesJob(JobName.RecallSweep, RecallSweepPayload)
export class RecallSweepHandler implements JobHandler<JobName.RecallSweep> {
  constructor(private readonly recalls: RecallService) {}

  async handle(_payload: RecallSweepJob): Promise<unknown> {
    return { requeued: await this.recalls.sweep() };
  }
}
