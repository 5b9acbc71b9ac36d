import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AppConfig, AppConfigModule } from '@lyotrace/config';
import { PersistenceModule } from '@lyotrace/persistence';
import { ServicesModule } from '@lyotrace/services';
import { LoggerModule } from 'nestjs-pino';
import { AuditChainVerifyHandler } from './jobs/audit-chain-verify.handler.js';
import { ExcursionsProcessor } from './jobs/excursions.processor.js';
import { ExcursionEvaluateHandler, IngestOutboxSweepHandler } from './jobs/ingest.handlers.js';
import { JobHandlerRegistry } from './jobs/job-handler.registry.js';
import { MaintenanceProcessor } from './jobs/maintenance.processor.js';
import { RecallPropagateHandler, RecallSweepHandler } from './jobs/recall.handlers.js';
import { RecallsProcessor } from './jobs/recalls.processor.js';
import { Schedules } from './jobs/schedules.js';

@Module({})
export class WorkerModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        AppConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            name: 'worker',
            level: config.LOG_LEVEL,
            transport: config.LOG_PRETTY
              ? {
                  target: 'pino-pretty',
                  options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
                }
              : undefined,
          },
        }),
        PersistenceModule.forRoot({
          databaseUrl: config.DATABASE_URL,
          poolSize: config.DB_POOL_SIZE,
          auditLanes: config.AUDIT_CHAIN_LANES,
          applicationName: 'lyotrace-worker',
        }),
        ServicesModule.forRoot(config, { redis: 'worker' }),
        DiscoveryModule,
      ],
      providers: [
        JobHandlerRegistry,
        MaintenanceProcessor,
        RecallsProcessor,
        AuditChainVerifyHandler,
        RecallPropagateHandler,
        RecallSweepHandler,
        ExcursionsProcessor,
        ExcursionEvaluateHandler,
        IngestOutboxSweepHandler,
        Schedules,
      ],
    };
  }
}
