import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Clock } from '@lyotrace/domain';
import { DeviceSimulator } from './device-simulator.js';
import { SocatPair } from './socat-pair.js';
import { type DeviceSpec, SpecError, buildDeviceModel, parseDeviceSpec } from './simulator-config.js';

/** A --config file: several devices at once (npm start: one logger per demo location and shipper). */
export interface FleetConfig {
  pairDir?: string;
  specs: DeviceSpec[];
}

export function parseFleetConfig(json: unknown, source: string): FleetConfig {
  const root = json as { pairDir?: unknown; devices?: unknown };
  if (
    typeof root !== 'object' ||
    root === null ||
    !Array.isArray(root.devices) ||
    root.devices.length === 0
  ) {
    throw new SpecError(`${source}: expected {"devices": [ ... ]} with at least one device`);
  }
  for (const key of Object.keys(root)) {
    if (key !== 'pairDir' && key !== 'devices') throw new SpecError(`${source} ${key}: unknown field`);
  }
  if (root.pairDir !== undefined && typeof root.pairDir !== 'string') {
    throw new SpecError(`${source} pairDir: expected a folder path`);
  }
  const names = new Set<string>();
  const specs = root.devices.map((raw, i) => {
    const spec = parseDeviceSpec(raw, `${source} devices[${i}].`, i);
    if (names.has(spec.name))
      throw new SpecError(`${source} devices[${i}].name: "${spec.name}" is used twice`);
    names.add(spec.name);
    return spec;
  });
  return { ...(typeof root.pairDir === 'string' ? { pairDir: root.pairDir } : {}), specs };
}

export function readFleetConfig(path: string): FleetConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new SpecError(`--config ${path}: ${(error as Error).message}`);
  }
  return parseFleetConfig(json, `--config ${path}`);
}

export interface FleetMember {
  spec: DeviceSpec;
  simulator: DeviceSimulator;
  /** The socat pair made for it (null when it opened an existing --link). */
  pair: SocatPair | null;
  /** What the bridge opens: the pair's host end, or null for a --link device (the other end of that pair). */
  hostPath: string | null;
}

export interface FleetManifestEntry {
  name: string;
  device: string;
  serial: string;
  path: string;
}

/** Running simulated devices, each on its own pty. */
export class SimulatorFleet {
  readonly members: FleetMember[] = [];
  private readonly tempDirs: string[] = [];
  private stopped = false;

  /**
   * Starts every device: a socat pair per device without `link` (links `<name>-device` / `<name>-host` in
   * `pairDir`, a fresh temp folder if none; `device` / `host` for a lone unnamed device), then the simulator.
   */
  static async start(
    config: FleetConfig,
    options: { clock: Clock; log?: (message: string) => void; plainLinkNames?: boolean },
  ): Promise<SimulatorFleet> {
    const fleet = new SimulatorFleet();
    const log = options.log ?? (() => undefined);
    try {
      for (const spec of config.specs) {
        let pair: SocatPair | null = null;
        let devicePath = spec.link ? resolve(spec.link) : null;
        if (!devicePath) {
          const given = spec.pair ?? config.pairDir;
          const dir = resolve(given ?? mkdtempSync(join(tmpdir(), 'lyotrace-sim-')));
          if (!given) fleet.tempDirs.push(dir);
          pair = new SocatPair(
            dir,
            options.plainLinkNames
              ? { device: 'device', host: 'host' }
              : { device: `${spec.name}-device`, host: `${spec.name}-host` },
          );
          await pair.start();
          devicePath = pair.devicePath;
        }
        const simulator = new DeviceSimulator({
          model: buildDeviceModel(spec, options.clock),
          path: devicePath,
          faults: spec.faults,
          seed: spec.seed,
          log: (message) => log(`[${spec.name}] ${message}`),
        });
        fleet.members.push({ spec, simulator, pair, hostPath: pair?.hostPath ?? null });
        await simulator.start();
        if (spec.powerLossEveryS > 0) {
          simulator.schedulePowerLoss(spec.powerLossEveryS * 1000, spec.powerLossForS * 1000);
        }
        const where = pair
          ? `the bridge opens ${pair.hostPath}`
          : `on ${devicePath}; the bridge opens the other end`;
        log(`[${spec.name}] ${spec.device} serial ${spec.serial} ready: ${where}`);
      }
    } catch (error) {
      await fleet.stop();
      throw error;
    }
    return fleet;
  }

  get(name: string): FleetMember {
    const member = this.members.find((m) => m.spec.name === name);
    if (!member) throw new Error(`no simulated device named ${name}`);
    return member;
  }

  manifest(): FleetManifestEntry[] {
    return this.members.map((m) => ({
      name: m.spec.name,
      device: m.spec.device,
      serial: m.spec.serial,
      path: m.hostPath ?? m.simulator.port.path,
    }));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const member of this.members) await member.simulator.stop();
    for (const member of this.members) await member.pair?.stop();
    for (const dir of this.tempDirs) rmSync(dir, { recursive: true, force: true });
  }
}
