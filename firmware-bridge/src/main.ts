import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, loadBridgeConfig } from '@lyotrace/config';
import { BridgeApiClient } from './api-client.js';

/**
 * The site bridge. For now a shell: it proves its credential against the API and keeps a heartbeat. The
 * device drivers, the spool and the upload arrive with the bridge issue. Stops cleanly on SIGTERM/SIGINT.
 */
async function main(): Promise<void> {
  const config = loadBridgeConfig();
  const stop = new AbortController();
  // `on`, not `once`: Ctrl-C reaches us twice (the terminal and the supervisor), and a second signal must
  // not kill the process halfway through its shutdown.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop.abort());
  const log = (msg: string): void => console.log(`${new Date().toISOString()} bridge: ${msg}`);

  if (!config.BRIDGE_TOKEN) {
    log('no BRIDGE_TOKEN configured: idle (issue one with `npm run cli -- bridge:create --site CODE`)');
    await sleep(2 ** 31 - 1, undefined, { signal: stop.signal }).catch(() => undefined);
    log('stopped');
    return;
  }
  const api = new BridgeApiClient(config.BRIDGE_API_URL, config.BRIDGE_TOKEN);
  let backoff = 1_000;
  let known = false;
  while (!stop.signal.aborted) {
    try {
      const me = await api.whoami();
      if (!known) log(`connected to ${config.BRIDGE_API_URL} as ${me.name} (site ${me.siteId})`);
      known = true;
      backoff = 1_000;
      await sleep(30_000, undefined, { signal: stop.signal });
    } catch (error) {
      if (stop.signal.aborted) break;
      known = false;
      log(`API not reachable (${(error as Error).message}); retrying in ${backoff / 1000} s`);
      await sleep(backoff, undefined, { signal: stop.signal }).catch(() => undefined);
      backoff = Math.min(backoff * 2, 30_000);
    }
  }
  log('stopped');
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
