import 'reflect-metadata';
import { run as auth } from './auth.bench.js';
import { run as bridge } from './bridge.bench.js';
import { progress } from './bench-kit.js';
import { run as ingest } from './ingest.bench.js';
import { run as scan } from './scan.bench.js';
import { run as trace } from './trace.bench.js';

/**
 * Runs every benchmark, or the one named by the first argument (`node dist/test/bench/run-all.js auth`).
 * Started by scripts/bench.sh, which prepares the services. Each benchmark prints its own table and final
 * JSON line; the first failure stops the run with a non-zero exit status.
 */
const BENCHMARKS: Readonly<Record<string, () => Promise<void>>> = { auth, trace, scan, ingest, bridge };

/** Everything is closed by now: if something still holds the process open, say what and stop anyway. */
const HANG_GRACE_MS = 5_000;

async function main(argv: string[]): Promise<number> {
  const wanted = argv[0];
  if (argv.length > 1) {
    console.error(`usage: run-all.js [name]  (one of: ${Object.keys(BENCHMARKS).join(', ')})`);
    return 2;
  }
  if (wanted !== undefined && !(wanted in BENCHMARKS)) {
    console.error(`no benchmark named "${wanted}"; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    return 2;
  }
  const names = wanted === undefined ? Object.keys(BENCHMARKS) : [wanted];
  for (const name of names) {
    const started = Date.now();
    progress(`${name}: starting`);
    await BENCHMARKS[name]!();
    progress(`${name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return 0;
}

void main(process.argv.slice(2))
  .catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    return 1;
  })
  .then((code) => {
    process.exitCode = code;
    setTimeout(() => {
      console.error(
        `run-all: still running ${HANG_GRACE_MS} ms after the end; open handles: ` +
          process.getActiveResourcesInfo().join(', '),
      );
      process.exit(code === 0 ? 1 : code);
    }, HANG_GRACE_MS).unref();
  });
