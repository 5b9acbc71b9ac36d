import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadBridgeConfig } from '@lyotrace/config';
import { type BridgeStatus, formatStatus, STATUS_FILE } from './status/bridge-status.js';

/**
 * `npm run bridge:status [-- --json]`: what the running bridge reports. From its loopback endpoint when
 * BRIDGE_STATUS_PORT is set, else from the status file it rewrites every second in its spool directory.
 */
async function main(): Promise<void> {
  const config = loadBridgeConfig();
  const json = process.argv.includes('--json');
  let status: BridgeStatus;
  let source: string;
  if (config.BRIDGE_STATUS_PORT) {
    source = `http://127.0.0.1:${config.BRIDGE_STATUS_PORT}/status`;
    const res = await fetch(source, { signal: AbortSignal.timeout(3_000) });
    status = (await res.json()) as BridgeStatus;
  } else {
    source = join(config.BRIDGE_SPOOL_DIR, STATUS_FILE);
    status = JSON.parse(readFileSync(source, 'utf8')) as BridgeStatus;
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return;
  }
  const age = Date.now() - Date.parse(status.at);
  process.stdout.write(`${formatStatus(status)}\n`);
  if (age > 10_000) {
    process.stdout.write(`\n(from ${source}, ${Math.round(age / 1000)} s old: is the bridge running?)\n`);
    process.exitCode = 2;
  }
}

main().catch((error: unknown) => {
  console.error(
    error instanceof ConfigError ? error.message : `bridge status unavailable: ${(error as Error).message}`,
  );
  process.exit(1);
});
