import { Processor, WorkerHost } from '@nestjs/bullmq';
import { QueueName } from '@lyotrace/contracts';
import type { Job } from 'bullmq';
import { JobHandlerRegistry } from './job-handler.registry.js';

/** The BullMQ worker of the excursions queue: hands each job to its registered handler. */
@Processor(QueueName.Excursions, { concurrency: 4 })
export class ExcursionsProcessor extends WorkerHost {
  constructor(private readonly registry: JobHandlerRegistry) {
    super();
  }

  process(job: Job): Promise<unknown> {
    return this.registry.dispatch(job);
  }
}
