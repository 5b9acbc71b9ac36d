import { type ClimateProfile } from './climate-profile.js';
import { type DeviceClock } from './device-clock.js';
import { type SeededRandom } from './seeded-random.js';

export const DEVICE_KINDS = ['native', 'elitech-rc4', 'elitech-rc4hc', 'elitech-rc5', 'modbus'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/**
 * One emulated device, independent of how bytes reach it: the runtime (DeviceSimulator) feeds it what the host
 * wrote and sends what it returns. `realNowMs` is monotonic real time, for inter-byte timeouts, which stay real
 * even when the device's own time is virtual.
 */
export interface DeviceModel {
  readonly kind: DeviceKind;
  readonly serial: string;
  readonly clock: DeviceClock;
  /** Requests complete in `bytes` → frames to send, in order (live records taken meanwhile come first). */
  receive(bytes: Buffer, realNowMs: number): Buffer[];
  /** Brings sampling up to the clock; unsolicited frames to send (live records). */
  tick(): Buffer[];
  /** The same frame with a wrong checksum/CRC (noise injection). */
  corruptCheck(frame: Buffer): Buffer;
  /** A burst with no frame start in it, longer than any frame (noise: "a long line without delimiter"). */
  longLine(random: SeededRandom): Buffer;
  /** Volatile state goes; stored records stay as the real device keeps them. */
  powerOff(): void;
  powerOn(): void;
  /** The line went away (unplug): partial requests are dropped. */
  disconnected(): void;
  /** Missed-sample fault: the next `count` samples (or reads, for a probe) are not taken. */
  missSamples(count: number): void;
  setMissRate(rate: number): void;
  /** Forces the sensor reading from now on (null: back to the profile). */
  setTemperature(celsius: number | null): void;
  /** Sensor fault from now on (open/short probe). */
  setSensorFault(fault: boolean): void;
}

/** What every model shares: clock, climate, overrides. Sampling devices catch up before every change. */
export abstract class DeviceModelBase {
  protected temperatureOverride: number | null = null;
  protected sensorFault = false;

  protected constructor(
    readonly clock: DeviceClock,
    protected readonly climate: ClimateProfile,
    protected readonly random: SeededRandom,
  ) {}

  /** Catch up on samples due before a change takes effect. */
  protected abstract catchUp(): void;

  setTemperature(celsius: number | null): void {
    this.catchUp();
    this.temperatureOverride = celsius;
  }

  setSensorFault(fault: boolean): void {
    this.catchUp();
    this.sensorFault = fault;
  }

  protected temperatureAt(hostMs: number): number {
    return this.temperatureOverride ?? this.climate.temperatureAt(hostMs);
  }
}
