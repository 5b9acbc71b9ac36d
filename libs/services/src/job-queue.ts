import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { JOB_QUEUE, JobName, JobPayloads, ProblemCode, QueueName } from '@lyotrace/contracts';
import { DomainError } from '@lyotrace/domain';
import { Queue } from 'bullmq';

const ENQUEUE_TIMEOUT_MS = 2_000;

/**
 * The one way business code puts work on a queue. Fails fast (503 QUEUE_UNAVAILABLE) when Redis is down
 * instead of hanging a request: the producer connection has no offline queue, and every add has a deadline.
 */
@Injectable()
export class JobQueue {
  private readonly queues: Readonly<Record<QueueName, Queue>>;

  private readonly logger = new Logger(JobQueue.name);
  private lastWarning = 0;

  constructor(
    @InjectQueue(QueueName.Maintenance) maintenance: Queue,
    @InjectQueue(QueueName.Recalls) recalls: Queue,
    @InjectQueue(QueueName.Excursions) excursions: Queue,
  ) {
    this.queues = {
      [QueueName.Maintenance]: maintenance,
      [QueueName.Recalls]: recalls,
      [QueueName.Excursions]: excursions,
    };
    for (const queue of Object.values(this.queues)) {
      // Without a listener every reconnect attempt would print a raw stack trace; one line per 30 s will do.
      queue.on('error', (error) => {
        const now = Date.now();
        if (now - this.lastWarning < 30_000) return;
        this.lastWarning = now;
        this.logger.warn(`Redis unreachable for queue ${queue.name}: ${error.message} (retrying)`);
      });
    }
  }

  async enqueue<J extends JobName>(
    name: J,
    payload: JobPayloads[J],
    options: { jobId?: string } = {},
  ): Promise<string> {
    const queue = this.queues[JOB_QUEUE[name]];
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`enqueue timed out after ${ENQUEUE_TIMEOUT_MS} ms`)),
        ENQUEUE_TIMEOUT_MS,
      );
    });
    try {
      const job = await Promise.race([
        queue.add(name, payload, {
          jobId: options.jobId,
          removeOnComplete: 1000,
          removeOnFail: 5000,
          attempts: 3,
          backoff: { type: 'exponential', delay: 2000 },
        }),
        deadline,
      ]);
      return job.id ?? '';
    } catch (error) {
      throw new DomainError(
        ProblemCode.QueueUnavailable,
        `the job queue is unavailable: ${(error as Error).message}`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Queues a job under a deterministic id again. A job of that id still waiting or running is left alone
   * (re-adding it is a no-op); one that ended (failed for good, or completed without its work being recorded)
   * is removed first, since BullMQ would otherwise ignore the add. For sweeps that rebuild lost work.
   */
  async enqueueAgain<J extends JobName>(name: J, payload: JobPayloads[J], jobId: string): Promise<string> {
    const queue = this.queues[JOB_QUEUE[name]];
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`job lookup timed out after ${ENQUEUE_TIMEOUT_MS} ms`)),
        ENQUEUE_TIMEOUT_MS,
      );
    });
    try {
      const ended = async (): Promise<void> => {
        const existing = await queue.getJob(jobId);
        if (existing && ((await existing.isFailed()) || (await existing.isCompleted())))
          await existing.remove();
      };
      await Promise.race([ended(), deadline]);
    } catch (error) {
      throw new DomainError(
        ProblemCode.QueueUnavailable,
        `the job queue is unavailable: ${(error as Error).message}`,
      );
    } finally {
      clearTimeout(timer);
    }
    return this.enqueue(name, payload, { jobId });
  }
}
