import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { JobName } from '@lyotrace/contracts';
import { UnrecoverableError, type Job } from 'bullmq';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { JOB_HANDLER_KEY, type JobHandler, type JobHandlerMeta } from './job-handler.js';

/**
 * Finds the handler of each job and checks at boot that every job name has exactly one (STYLE.md habit 3):
 * a job nobody handles would wait forever; a job two classes handle would be done twice or by chance.
 */
@Injectable()
export class JobHandlerRegistry implements OnApplicationBootstrap {
  private readonly logger = new Logger('Jobs');
  private readonly handlers = new Map<string, { handler: JobHandler; meta: JobHandlerMeta }>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
  ) {}

  onApplicationBootstrap(): void {
    const found = new Map<string, string[]>();
    for (const wrapper of this.discovery.getProviders()) {
      if (!wrapper.metatype || !wrapper.instance) continue;
      const meta = this.reflector.get<JobHandlerMeta | undefined>(
        JOB_HANDLER_KEY,
        wrapper.metatype as object as () => void,
      );
      if (!meta) continue;
      found.set(meta.job, [...(found.get(meta.job) ?? []), String(wrapper.name)]);
      this.handlers.set(meta.job, { handler: wrapper.instance as JobHandler, meta });
    }
    assertOneHandlerPerJob(found);
    this.logger.log(`handlers: ${[...found.entries()].map(([job, [cls]]) => `${job} → ${cls}`).join(', ')}`);
  }

  async dispatch(job: Job): Promise<unknown> {
    const entry = this.handlers.get(job.name);
    // Not retryable: retrying cannot make an unknown job known.
    if (!entry) throw new UnrecoverableError(`no handler for job ${job.name}`);
    const payload = checkedPayload(entry.meta.payload, job.data);
    if (typeof payload === 'string')
      throw new UnrecoverableError(`invalid payload for ${job.name}: ${payload}`);
    return entry.handler.handle(payload, job.attemptsMade + 1);
  }
}

export function assertOneHandlerPerJob(found: ReadonlyMap<string, readonly string[]>): void {
  const problems: string[] = [];
  for (const name of Object.values(JobName)) {
    const classes = found.get(name) ?? [];
    if (classes.length === 0) problems.push(`job ${name} has no handler`);
    if (classes.length > 1)
      problems.push(`job ${name} has ${classes.length} handlers: ${classes.join(', ')}`);
  }
  if (problems.length > 0) throw new Error(`worker job wiring is wrong: ${problems.join('; ')}`);
}

/**
 * The job's data as its payload class, validated as strictly as an HTTP body; a string says what is wrong.
 * forbidUnknownValues is off: a job without fields (a sweep) has a payload class with no decorators, which
 * class-validator would otherwise refuse outright; the whitelist still refuses any field it does not declare.
 */
export function checkedPayload(payloadClass: new () => object, data: unknown): object | string {
  const payload = plainToInstance(payloadClass, data ?? {});
  const errors = validateSync(payload, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: false,
  });
  if (errors.length === 0) return payload;
  return errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join('; ')}`).join(', ');
}
