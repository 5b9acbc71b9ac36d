import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, AppConfigModule } from '@lyotrace/config';
import { PersistenceModule } from '@lyotrace/persistence';
import { ServicesModule } from '@lyotrace/services';

/** The services without HTTP or queues: what an operator's command needs. */
@Module({})
export class CliModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: CliModule,
      imports: [
        AppConfigModule.forRoot(config),
        PersistenceModule.forRoot({
          databaseUrl: config.DATABASE_URL,
          poolSize: 2,
          auditLanes: config.AUDIT_CHAIN_LANES,
          applicationName: 'lyotrace-cli',
        }),
        ServicesModule.forRoot(config, { redis: 'none' }),
      ],
    };
  }
}
