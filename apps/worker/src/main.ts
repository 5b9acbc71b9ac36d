import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ConfigError, loadAppConfig } from '@lyotrace/config';
import { Logger } from 'nestjs-pino';
import { WorkerModule } from './worker.module.js';

/**
 * The worker has no HTTP server: an application context running BullMQ processors. SIGTERM/SIGINT close
 * the workers (the job in hand finishes, or goes back to the queue when its lock lapses), then the pools.
 */
async function main(): Promise<void> {
  const config = loadAppConfig();
  const app = await NestFactory.createApplicationContext(WorkerModule.register(config), {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  // The workers finish the job in hand, then the pools close and the process exits 0.
  app.enableShutdownHooks([], { useProcessExit: true });
  await app.init();
  app.get(Logger).log('worker ready: processing queues', 'Worker');
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
