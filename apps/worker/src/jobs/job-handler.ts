import { SetMetadata } from '@nestjs/common';
import type { JobName, JobPayloads } from '@lyotrace/contracts';

export const JOB_HANDLER_KEY = 'lyotrace:job-handler';

export interface JobHandlerMeta {
  job: JobName;
  /** class-validator class the payload must satisfy, checked as strictly as an HTTP body. */
  payload: new () => object;
}

/** Marks a provider as THE handler of one job name. The worker refuses to start with none or two. */
export const HandlesJob = (job: JobName, payload: new () => object): ClassDecorator =>
  SetMetadata(JOB_HANDLER_KEY, { job, payload } satisfies JobHandlerMeta);

export interface JobHandler<J extends JobName = JobName> {
  handle(payload: JobPayloads[J], attempt: number): Promise<unknown>;
}
