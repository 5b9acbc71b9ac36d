import { DynamicModule, Global, Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { systemClock, type Clock } from '@lyotrace/domain';
import { DataSource } from 'typeorm';
import { AuditLog } from './audit-log.js';
import { dataSourceOptions } from './data-source.js';
import {
  AuditRepository,
  AuditVerificationRepository,
  BridgeCredentialRepository,
  CustodyBatchRepository,
  CustodyRepository,
  DoseRepository,
  EpcisRepository,
  GenealogyRepository,
  LoggerRepository,
  ReadingRepository,
  RecallRepository,
  SignatureRepository,
  SiteRepository,
  TraceRepository,
  UserRepository,
} from './repositories/index.js';
import { TransactionRunner } from './transaction-runner.js';

/** Injection token of the Clock (libs/domain) used by everything that stamps time. */
export const CLOCK = Symbol('Clock');

export interface PersistenceOptions {
  databaseUrl: string;
  poolSize: number;
  auditLanes: number;
  applicationName: string;
}

const REPOSITORIES = [
  SiteRepository,
  UserRepository,
  BridgeCredentialRepository,
  AuditRepository,
  SignatureRepository,
  AuditVerificationRepository,
  GenealogyRepository,
  TraceRepository,
  EpcisRepository,
  RecallRepository,
  CustodyRepository,
  CustodyBatchRepository,
  LoggerRepository,
  ReadingRepository,
  DoseRepository,
] as const;

@Global()
@Module({})
export class PersistenceModule {
  static forRoot(options: PersistenceOptions): DynamicModule {
    const logger = new Logger('PostgreSQL');
    return {
      module: PersistenceModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            ...dataSourceOptions({
              databaseUrl: options.databaseUrl,
              poolSize: options.poolSize,
              applicationName: options.applicationName,
              onPoolError: (error) =>
                logger.warn(`pool error (connection dropped, will reconnect): ${error.message}`),
            }),
            retryAttempts: 10,
            retryDelay: 2_000,
          }),
        }),
      ],
      providers: [
        { provide: CLOCK, useValue: systemClock },
        {
          provide: AuditLog,
          useFactory: (clock: Clock) => new AuditLog(options.auditLanes, clock),
          inject: [CLOCK],
        },
        {
          provide: TransactionRunner,
          useFactory: (ds: DataSource, log: AuditLog) => new TransactionRunner(ds, log),
          inject: [DataSource, AuditLog],
        },
        ...REPOSITORIES.map((R) => ({
          provide: R,
          useFactory: (ds: DataSource) => new R(ds),
          inject: [DataSource],
        })),
      ],
      exports: [CLOCK, AuditLog, TransactionRunner, ...REPOSITORIES],
    };
  }
}
