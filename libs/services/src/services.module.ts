import { createSecretKey } from 'node:crypto';
import { BullModule } from '@nestjs/bullmq';
import type { ConnectionOptions } from 'bullmq';
import { DynamicModule, Global, Module, Provider } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import type { AppConfig } from '@lyotrace/config';
import { QueueName } from '@lyotrace/contracts';
import { AuditService, AuditVerificationScheduler } from './audit.service.js';
import { AuthenticationService, LOCKOUT_POLICY } from './authentication.service.js';
import { BridgeCredentialService } from './bridge-credential.service.js';
import { DemoSeedService } from './demo-seed.service.js';
import { DemoLoggerSeeder, DemoStockSeeder } from './demo-stock.seed.js';
import { DoseService } from './dose.service.js';
import { EpcisQueryService } from './epcis-query.service.js';
import { GenealogyService } from './genealogy.service.js';
import { VialLabelRenderer } from './labels/index.js';
import { TraceService } from './trace.service.js';
import { VialLabelService } from './vial-label.service.js';
import { IngestService } from './ingest.service.js';
import { JobQueue } from './job-queue.js';
import { LoggerService } from './logger.service.js';
import { PasswordHasher } from './password-hasher.js';
import { redisOptions } from './redis-connection.js';
import { RecallDependencies, RecallService } from './recall.service.js';
import { RedisProbe } from './redis-probe.js';
import { SignatureService } from './signature.service.js';
import { SiteService } from './site.service.js';
import { UserService } from './user.service.js';
import { ReceiptDependencies, ReceiptService } from './custody/receipt.service.js';
import { ScanService } from './custody/scan.service.js';
import { ShippingService } from './custody/shipping.service.js';

const CORE: Provider[] = [
  PasswordHasher,
  AuthenticationService,
  UserService,
  SiteService,
  BridgeCredentialService,
  SignatureService,
  AuditService,
  DemoSeedService,
  DemoStockSeeder,
  DemoLoggerSeeder,
  GenealogyService,
  TraceService,
  VialLabelRenderer,
  VialLabelService,
  EpcisQueryService,
  DoseService,
  LoggerService,
  ShippingService,
  ReceiptDependencies,
  ReceiptService,
  ScanService,
];

export interface ServicesOptions {
  /** Which Redis role this process plays; `none` for the CLI, which needs no Redis. */
  redis: 'producer' | 'worker' | 'none';
}

/** The use cases, shared by api, worker and cli. Persistence must be imported alongside. */
@Global()
@Module({})
export class ServicesModule {
  static forRoot(config: AppConfig, options: ServicesOptions): DynamicModule {
    const providers: Provider[] = [
      ...CORE,
      {
        provide: LOCKOUT_POLICY,
        useValue: { threshold: config.LOCKOUT_THRESHOLD, lockMinutes: config.LOCKOUT_MINUTES },
      },
    ];
    const imports = [
      JwtModule.register({
        // A KeyObject, not the string: jsonwebtoken 9 otherwise tries to parse a string secret as a public
        // key on every sign and verify, which cost half the CPU of an authenticated read.
        secret: createSecretKey(Buffer.from(config.JWT_SECRET, 'utf8')),
        signOptions: { expiresIn: config.JWT_TTL_SECONDS, algorithm: 'HS256' },
        verifyOptions: { algorithms: ['HS256'] },
      }),
    ];
    const exports: Provider[] = [...providers];
    if (options.redis !== 'none') {
      const connection = redisOptions(config.REDIS_URL, options.redis) as ConnectionOptions;
      const queues = BullModule.registerQueue(...Object.values(QueueName).map((name) => ({ name })));
      imports.push(BullModule.forRoot({ connection, prefix: 'lyotrace' }), queues);
      exports.push(queues as never);
      const queueProviders: Provider[] = [
        JobQueue,
        RecallDependencies,
        RecallService,
        AuditVerificationScheduler,
        IngestService,
        { provide: RedisProbe, useFactory: () => new RedisProbe(redisOptions(config.REDIS_URL, 'probe')) },
      ];
      providers.push(...queueProviders);
      exports.push(...queueProviders);
    }
    return { module: ServicesModule, imports, providers, exports: [...exports, JwtModule] };
  }
}
