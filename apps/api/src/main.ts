import 'reflect-metadata';
import { ConfigError, loadAppConfig } from '@lyotrace/config';
import { createApiApp } from './create-api-app.js';

async function main(): Promise<void> {
  const config = loadAppConfig();
  const app = await createApiApp(config);
  // SIGTERM/SIGINT: stop taking requests, close the pools, then exit 0 (not by re-raising the signal).
  app.enableShutdownHooks([], { useProcessExit: true });
  await app.listen({ port: config.PORT, host: config.HOST });
}

main().catch((error: unknown) => {
  // Fail fast and say why (a bad variable is named by ConfigError).
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
