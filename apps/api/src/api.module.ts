import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE, DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { AppConfig, AppConfigModule } from '@lyotrace/config';
import { PersistenceModule } from '@lyotrace/persistence';
import { ServicesModule } from '@lyotrace/services';
import { LoggerModule } from 'nestjs-pino';
import { AuditController } from './audit/audit.controller.js';
import { AuthController } from './auth/auth.controller.js';
import { BridgesController } from './bridges/bridges.controller.js';
import { GenealogyController } from './genealogy/genealogy.controller.js';
import { TraceController } from './genealogy/trace.controller.js';
import { EpcisController } from './genealogy/epcis.controller.js';
import { RecallsController } from './genealogy/recalls.controller.js';
import { HealthController } from './health/health.controller.js';
import { IngestController } from './ingest/ingest.controller.js';
import { LoggersController } from './loggers/loggers.controller.js';
import { ScansController } from './custody/scans.controller.js';
import { ShipmentsController } from './custody/shipments.controller.js';
import { DosesController } from './custody/doses.controller.js';
import { RedisHealthIndicator } from './health/redis.health.js';
import { AccessGuard } from './http/access.guard.js';
import { pinoHttpOptions } from './http/logging.js';
import { ProblemFilter } from './http/problem.filter.js';
import { RouteAccessCheck } from './http/route-access.check.js';
import { globalValidationPipe } from './http/validation.js';
import { SignaturesController } from './signatures/signatures.controller.js';
import { SitesController } from './sites/sites.controller.js';
import { UsersController } from './users/users.controller.js';

@Module({})
export class ApiModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        AppConfigModule.forRoot(config),
        LoggerModule.forRoot({ pinoHttp: pinoHttpOptions(config, 'api') }),
        PersistenceModule.forRoot({
          databaseUrl: config.DATABASE_URL,
          poolSize: config.DB_POOL_SIZE,
          auditLanes: config.AUDIT_CHAIN_LANES,
          applicationName: 'lyotrace-api',
        }),
        ServicesModule.forRoot(config, { redis: 'producer' }),
        TerminusModule.forRoot({ gracefulShutdownTimeoutMs: 0 }),
        DiscoveryModule,
      ],
      controllers: [
        AuthController,
        UsersController,
        SitesController,
        BridgesController,
        AuditController,
        SignaturesController,
        GenealogyController,
        TraceController,
        EpcisController,
        RecallsController,
        ScansController,
        ShipmentsController,
        DosesController,
        HealthController,
        IngestController,
        LoggersController,
      ],
      providers: [
        RedisHealthIndicator,
        RouteAccessCheck,
        { provide: APP_GUARD, useClass: AccessGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_PIPE, useFactory: globalValidationPipe },
      ],
    };
  }
}
