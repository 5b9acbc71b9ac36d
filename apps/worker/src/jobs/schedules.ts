import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '@lyotrace/config';
import { JobName, QueueName } from '@lyotrace/contracts';
import { Queue } from 'bullmq';

/**
 * Repeating jobs. `upsertJobScheduler` is idempotent by id, so N workers starting together still leave one
 * schedule.
 */
@Injectable()
export class Schedules implements OnApplicationBootstrap {
  private readonly logger = new Logger(Schedules.name);

  constructor(
    @InjectQueue(QueueName.Maintenance) private readonly maintenance: Queue,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      // Every minute, recalls whose propagation never ran are queued again (deterministic job ids: no doubles).
      await this.maintenance.upsertJobScheduler(
        'recall-sweep',
        { every: 60_000 },
        { name: JobName.RecallSweep, data: {} },
      );
    } catch (error) {
      this.logger.warn(`could not set the recall sweep schedule now: ${(error as Error).message}`);
    }
    try {
      // Ingest outbox rows left unevaluated (their job lost with Redis) are queued again (every minute).
      await this.maintenance.upsertJobScheduler(
        'ingest-outbox-sweep',
        { every: this.config.INGEST_SWEEP_INTERVAL_MS },
        { name: JobName.IngestOutboxSweep, data: {} },
      );
    } catch (error) {
      this.logger.warn(`could not set the ingest outbox sweep schedule now: ${(error as Error).message}`);
    }
    if (!this.config.AUDIT_VERIFY_CRON) return;
    try {
      await this.maintenance.upsertJobScheduler(
        'audit-chain-verify-daily',
        { pattern: this.config.AUDIT_VERIFY_CRON },
        { name: JobName.AuditChainVerify, data: { verificationId: null } },
      );
    } catch (error) {
      // Redis down at boot must not stop the worker: the schedule is set again at the next start.
      this.logger.warn(`could not set the audit-chain schedule now: ${(error as Error).message}`);
    }
  }
}
