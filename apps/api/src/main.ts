import 'reflect-metadata';
import cluster from 'node:cluster';
import { type AppConfig, ConfigError, loadAppConfig } from '@lyotrace/config';
import { createApiApp } from './create-api-app.js';

async function serve(config: AppConfig): Promise<void> {
  const app = await createApiApp(config);
  // SIGTERM/SIGINT: stop taking requests, close the pools, then exit 0 (not by re-raising the signal).
  app.enableShutdownHooks([], { useProcessExit: true });
  await app.listen({ port: config.PORT, host: config.HOST });
}

/**
 * API_PROCESSES > 1: this primary process only forks the API processes, which share the port (node:cluster
 * hands each new connection to one of them). A process that dies after it started serving is started again; one
 * that dies before it ever served (bad configuration, database unreachable) stops them all, as a single process
 * would. SIGTERM/SIGINT stop every process gracefully, then the primary exits 0.
 */
function supervise(config: AppConfig): void {
  let stopping = false;
  const start = (index: number): void => {
    let served = false;
    const worker = cluster.fork({ API_PROCESS_INDEX: String(index) });
    worker.once('listening', () => {
      served = true;
    });
    worker.once('exit', (code, signal) => {
      const alive = Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead()).length;
      if (stopping) {
        if (alive === 0) process.exit(0);
        return;
      }
      if (!served) {
        console.error(`api process ${index} ended before serving (${signal ?? code}): stopping the API`);
        stopping = true;
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
        if (alive === 0) process.exit(1);
        process.exitCode = 1;
        return;
      }
      console.error(`api process ${index} ended (${signal ?? code}); starting it again`);
      setTimeout(() => start(index), 1_000).unref();
    });
  };
  for (let index = 0; index < config.API_PROCESSES; index += 1) start(index);
  const stop = (): void => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function main(): Promise<void> {
  const config = loadAppConfig();
  if (cluster.isPrimary && config.API_PROCESSES > 1) supervise(config);
  else await serve(config);
}

main().catch((error: unknown) => {
  // Fail fast and say why (a bad variable is named by ConfigError).
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
