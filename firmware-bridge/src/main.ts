import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, loadBridgeConfig } from '@lyotrace/config';
import { BridgeApiClient } from './api-client.js';
import { Bridge } from './bridge.js';
import { type BridgeLog, createBridgeLog } from './bridge-log.js';
import { loadDeviceList } from './config/device-config.js';
import { SpoolLockedError } from './spool/spool.js';

/** Proves the credential at start (and after losing the API), so a wrong token shows at once in the log. */
async function checkCredential(
  api: BridgeApiClient,
  url: string,
  log: BridgeLog,
  signal: AbortSignal,
): Promise<void> {
  let backoff = 1_000;
  let known = false;
  while (!signal.aborted) {
    try {
      const me = await api.whoami();
      if (!known) log.info(`connected to ${url} as ${me.name} (site ${me.siteId})`);
      known = true;
      backoff = 1_000;
      await sleep(30_000, undefined, { signal });
    } catch (error) {
      if (signal.aborted) break;
      known = false;
      log.warn(`API not reachable (${(error as Error).message}); retrying in ${backoff / 1000} s`);
      await sleep(backoff, undefined, { signal }).catch(() => undefined);
      backoff = Math.min(backoff * 2, 30_000);
    }
  }
}

/**
 * The site bridge: devices → durable spool → API. Stops cleanly on SIGTERM/SIGINT: the record being spooled
 * is finished, the spool flushed, the ports closed. Exit 1 with a clear message on a bad configuration or a
 * spool owned by another bridge.
 */
async function main(): Promise<void> {
  const config = loadBridgeConfig();
  const ports = loadDeviceList(config);
  const log = createBridgeLog(config.LOG_LEVEL);
  const stop = new AbortController();
  // `on`, not `once`: Ctrl-C reaches us twice (the terminal and the supervisor), and a second signal must
  // not kill the process halfway through its shutdown.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop.abort());

  const api = config.BRIDGE_TOKEN ? new BridgeApiClient(config.BRIDGE_API_URL, config.BRIDGE_TOKEN) : null;
  if (!api)
    log.info('no BRIDGE_TOKEN configured: idle (issue one with `npm run cli -- bridge:create --site CODE`)');
  const bridge = new Bridge({
    spoolDir: config.BRIDGE_SPOOL_DIR,
    spoolMaxBytes: config.BRIDGE_SPOOL_MAX_BYTES,
    ports,
    api,
    apiUrl: api ? config.BRIDGE_API_URL : null,
    uploadMaxRecords: config.BRIDGE_UPLOAD_MAX_RECORDS,
    skew: { correctMs: config.BRIDGE_SKEW_CORRECT_MS, flagMs: config.BRIDGE_SKEW_FLAG_MS },
    log,
    statusPort: config.BRIDGE_STATUS_PORT,
  });
  log.info(
    `started: ${ports.length} port(s), spool ${config.BRIDGE_SPOOL_DIR} (max ${Math.round(config.BRIDGE_SPOOL_MAX_BYTES / 1048576)} MiB)`,
  );
  await Promise.all([
    bridge.run(stop.signal),
    api ? checkCredential(api, config.BRIDGE_API_URL, log, stop.signal) : Promise.resolve(),
  ]);
  log.info('stopped');
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof SpoolLockedError) console.error(error.message);
  else console.error(error);
  process.exit(1);
});
