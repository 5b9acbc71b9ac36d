import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DeviceModel } from './device-model.js';
import { FaultInjector, type FaultSettings, NO_FAULTS, type NoiseKind } from './faults.js';
import { PtyPort } from './pty-port.js';
import { SeededRandom } from './seeded-random.js';

export interface DeviceSimulatorOptions {
  model: DeviceModel;
  /** The simulator's end of the pty pair. */
  path: string;
  faults?: Partial<FaultSettings>;
  /** How often sampling is brought up to the clock and live records pushed (ms). */
  tickEveryMs?: number;
  seed?: number;
  log?: (message: string) => void;
}

export interface DeviceSimulatorEvents {
  attached: [];
  detached: [reason: string];
  /** A frame left for the line, with the noise it got. */
  sent: [frame: Buffer, noise: NoiseKind | null];
  received: [bytes: Buffer];
}

export interface SimulatorCounters {
  bytesIn: number;
  framesOut: number;
  noisy: number;
  attaches: number;
  detaches: number;
}

/**
 * Runs a device model on a pty: feeds it the host's bytes, sends its replies and live records through the fault
 * injector, keeps sampling on a timer, and survives the pty going away and coming back. Power and fault
 * controls are the in-process API tests use; the CLI drives the same methods from flags.
 */
export class DeviceSimulator extends EventEmitter<DeviceSimulatorEvents> {
  readonly model: DeviceModel;
  readonly port: PtyPort;
  readonly counters: SimulatorCounters = { bytesIn: 0, framesOut: 0, noisy: 0, attaches: 0, detaches: 0 };
  private readonly faults: FaultInjector;
  private readonly tickEveryMs: number;
  private readonly log: (message: string) => void;
  private ticker: NodeJS.Timeout | null = null;
  private sending: Promise<void> = Promise.resolve();
  /** Bumped by power loss and unplug: frames queued before it must not leave afterwards. */
  private epoch = 0;
  private powerSchedule: NodeJS.Timeout | null = null;

  constructor(options: DeviceSimulatorOptions) {
    super();
    this.model = options.model;
    this.port = new PtyPort(options.path);
    this.faults = new FaultInjector(
      { ...NO_FAULTS, ...options.faults },
      new SeededRandom(options.seed ?? 42),
    );
    this.tickEveryMs = options.tickEveryMs ?? 250;
    this.log = options.log ?? (() => undefined);
    this.port.on('data', (bytes) => this.onData(bytes));
    this.port.on('attached', () => {
      this.counters.attaches++;
      this.log(`${this.model.serial}: attached to ${this.port.path}`);
      this.emit('attached');
    });
    this.port.on('detached', (reason) => {
      this.counters.detaches++;
      this.epoch++;
      this.model.disconnected();
      this.log(`${this.model.serial}: detached (${reason}); waiting for ${this.port.path} to come back`);
      this.emit('detached', reason);
    });
  }

  get attached(): boolean {
    return this.port.attached;
  }

  get powered(): boolean {
    return this.model.clock.powered;
  }

  get faultSettings(): FaultSettings {
    return this.faults.settings;
  }

  /** Opens the port (waiting for the link if it is not there yet) and starts sampling. */
  async start(attachTimeoutMs = 5000): Promise<void> {
    this.port.start();
    if (!this.ticker) {
      this.ticker = setInterval(() => this.tick(), this.tickEveryMs);
      this.ticker.unref();
    }
    await this.port.whenAttached(attachTimeoutMs);
  }

  /** Waits for the in-flight frames to leave, then closes the port. */
  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    if (this.powerSchedule) clearTimeout(this.powerSchedule);
    this.ticker = null;
    this.powerSchedule = null;
    await this.sending;
    this.port.stop();
  }

  whenAttached(timeoutMs = 5000): Promise<void> {
    return this.port.whenAttached(timeoutMs);
  }

  /** Brings sampling up to the device clock now and sends live records (tests call it after moving a clock). */
  tick(): void {
    if (!this.powered) return;
    for (const frame of this.model.tick()) this.send(frame, false);
  }

  /** Power loss: silent, volatile state gone, frames not yet sent are lost. */
  powerOff(): void {
    this.epoch++;
    this.model.powerOff();
    this.log(`${this.model.serial}: power off`);
  }

  powerOn(): void {
    this.model.powerOn();
    this.log(`${this.model.serial}: power on`);
  }

  /** Repeating outages: off for `offMs` every `everyMs` (real time; the CLI's --power-loss-every). */
  schedulePowerLoss(everyMs: number, offMs: number): void {
    const cycle = (): void => {
      this.powerSchedule = setTimeout(() => {
        this.powerOff();
        this.powerSchedule = setTimeout(() => {
          this.powerOn();
          cycle();
        }, offMs);
        this.powerSchedule.unref();
      }, everyMs);
      this.powerSchedule.unref();
    };
    if (this.powerSchedule) clearTimeout(this.powerSchedule);
    cycle();
  }

  setFaults(settings: Partial<FaultSettings>): void {
    this.faults.settings = { ...this.faults.settings, ...settings };
  }

  /** The next frame out gets this noise. */
  injectNoise(kind: NoiseKind): void {
    this.faults.injectOnce(kind);
  }

  /** Writes raw bytes to the line now (a glitch between frames). */
  sendRaw(bytes: Buffer): void {
    this.port.write(bytes);
  }

  private onData(bytes: Buffer): void {
    this.counters.bytesIn += bytes.length;
    this.emit('received', bytes);
    if (!this.powered) return;
    for (const frame of this.model.receive(bytes, performance.now())) this.send(frame, true);
  }

  private send(frame: Buffer, isReply: boolean): void {
    const epoch = this.epoch;
    const { noise, parts } = this.faults.plan(frame, this.model, isReply);
    this.sending = this.sending.then(async () => {
      for (const part of parts) {
        if (part.delayMs > 0) await sleep(part.delayMs);
        if (epoch !== this.epoch || !this.powered) return;
        this.port.write(part.bytes);
      }
      this.counters.framesOut++;
      if (noise) this.counters.noisy++;
      this.emit('sent', frame, noise);
    });
  }
}
