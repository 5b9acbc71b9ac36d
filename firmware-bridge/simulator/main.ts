import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { realClock } from './device-clock.js';
import { SpecError, parseDeviceSpec } from './simulator-config.js';
import { type FleetConfig, SimulatorFleet, readFleetConfig } from './simulator-fleet.js';

const USAGE = `lyotrace device simulator: emulates a logger or probe on one end of a socat pty pair.

  npm run simulator -- --device native|elitech-rc4|elitech-rc4hc|elitech-rc5|modbus
                       (--pair DIR | --link PATH) [options]
  npm run simulator -- --config devices.json [--pair DIR] [--manifest out.json]

  --pair DIR            make a socat pair in DIR and print the path the bridge opens
  --link PATH           open this existing pty end instead (the bridge opens the other end)
  --name NAME           label; in --pair mode the links are DIR/NAME-device and DIR/NAME-host
  --serial S            serial / device number
  --interval S          logging interval, seconds (default 60)
  --prefill N           N records ending now, as if logging had been running
  --capacity N          record memory (native default 50000, RC-4 16000, RC-5 32000)
  --full stop|wrap      Elitech memory-full behaviour (default stop)
  --drift-ppm P         clock drift, parts per million (default 0)
  --offset-s S          clock offset from host time, seconds
  --temperature C       mean temperature (default 5), --amplitude C, --period-s S, --jitter C
  --humidity PCT        mean RH, --station N (Elitech), --slave N (Modbus), --battery PCT (native)
  --noise P             probability a frame is corrupted; --noise-kinds garbage,bad-check,truncated,long-line
  --reply-delay-ms MS   slow replies; --chunk-delay-ms MS splits replies into slow pieces
  --miss-rate P         probability a sample is not taken (a hole in the device's timeline)
  --power-loss-every S  power off every S seconds for --power-loss-for S (default 5)
  --seed N              random seed (noise, jitter, misses)
  --first-seq N|clock   native: sequence of the first record (default 1); "clock" = intervals since the
                        epoch, so a device simulated again continues its numbering (it is never reset)
  --manifest FILE       write [{name, device, serial, path}] for whoever starts the bridge

A --config file is {"pairDir"?: DIR, "devices": [{"name", "device", "serial", ...the options above in
camelCase: interval, prefill, driftPpm, offsetS, temperature, noise, replyDelayMs, missRate, link, pair...}]}.`;

const FLAG_TO_KEY: Record<string, string> = {
  device: 'device',
  name: 'name',
  serial: 'serial',
  link: 'link',
  pair: 'pair',
  interval: 'interval',
  prefill: 'prefill',
  capacity: 'capacity',
  full: 'full',
  'drift-ppm': 'driftPpm',
  'offset-s': 'offsetS',
  temperature: 'temperature',
  amplitude: 'amplitude',
  'period-s': 'periodS',
  jitter: 'jitter',
  humidity: 'humidity',
  station: 'station',
  slave: 'slave',
  battery: 'battery',
  'miss-rate': 'missRate',
  'power-loss-every': 'powerLossEveryS',
  'power-loss-for': 'powerLossForS',
  seed: 'seed',
  'first-seq': 'firstSeq',
  noise: 'noise',
  'noise-kinds': 'noiseKinds',
  'reply-delay-ms': 'replyDelayMs',
  'chunk-delay-ms': 'chunkDelayMs',
};

function log(message: string): void {
  console.log(`${new Date().toISOString()} simulator: ${message}`);
}

type Values = Record<string, string | boolean | undefined>;

function readConfig(values: Values): FleetConfig {
  if (typeof values.config === 'string') {
    const config = readFleetConfig(values.config);
    return typeof values.pair === 'string' ? { ...config, pairDir: values.pair } : config;
  }
  const raw: Record<string, string> = {};
  for (const [flag, key] of Object.entries(FLAG_TO_KEY)) {
    const value = values[flag];
    if (typeof value === 'string') raw[key] = value;
  }
  if (!raw.device) throw new SpecError('--device: required (or --config FILE)');
  if (!raw.link && !raw.pair) throw new SpecError('--link PATH or --pair DIR: one is required');
  return { specs: [parseDeviceSpec(raw, '--', 0)] };
}

async function main(): Promise<void> {
  const options = Object.fromEntries(
    [...Object.keys(FLAG_TO_KEY), 'config', 'manifest'].map((flag) => [flag, { type: 'string' as const }]),
  );
  let values: Values;
  try {
    values = parseArgs({ options: { ...options, help: { type: 'boolean' } }, strict: true }).values;
  } catch (error) {
    throw new SpecError((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const config = readConfig(values);
  const single = typeof values.config !== 'string';
  const fleet = await SimulatorFleet.start(config, {
    clock: realClock,
    log,
    plainLinkNames: single && typeof values.name !== 'string',
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // `on`, not `once`: a second Ctrl-C must not kill the process halfway through closing the ptys.
    process.on(signal, () => {
      void fleet.stop().then(() => {
        log('stopped');
        process.exit(0);
      });
    });
  }
  if (typeof values.manifest === 'string') {
    writeFileSync(values.manifest, `${JSON.stringify(fleet.manifest(), null, 2)}\n`);
    log(`manifest written to ${values.manifest}`);
  }
  // The ptys and timers keep the process alive until a signal; unplugs and replugs are followed by the ports.
  setInterval(() => undefined, 2 ** 30);
}

main().catch((error: unknown) => {
  console.error(error instanceof SpecError ? `simulator: ${error.message}\n\n${USAGE}` : error);
  process.exit(error instanceof SpecError ? 2 : 1);
});
