import type { Clock } from '@lyotrace/domain';

/**
 * What a device's wall clock does while it has no power:
 * - `stopped`: it stands still and resumes where it stopped (the Elitech RC-4/RC-5: the battery is the only
 *   supply, so a battery swap leaves the clock behind by the outage);
 * - `kept`: a backup cell keeps it counting;
 * - `reset`: it restarts from the epoch (our native logger: PROTOCOL.md §3.0 flag bit3 "clock not set
 *   since power loss, time counts from 1970").
 */
export type ClockAfterPowerLoss = 'stopped' | 'kept' | 'reset';

export interface DeviceClockOptions {
  /** Crystal error in parts per million: +50 makes the device gain 4.3 s a day. */
  driftPpm?: number;
  /** Wall-clock offset from host time at creation, ms. */
  offsetMs?: number;
  afterPowerLoss: ClockAfterPowerLoss;
}

/**
 * The device's notion of time, derived from the host clock (real or virtual). Two quantities:
 * - the *oscillator* time: monotonic, runs at (1 + ppm) × host rate while powered, stands still without
 *   power. Sampling is scheduled on it, because a logger samples on its own crystal, whatever its wall clock
 *   says after a SET_CLOCK;
 * - the *wall* time: oscillator + an offset that SET_CLOCK, power loss and the offset fault change.
 */
export class DeviceClock {
  private rate: number;
  private anchorHostMs: number;
  private anchorOscillatorMs: number;
  private wallOffsetMs: number;
  private poweredOffAtHostMs: number | null = null;

  constructor(
    private readonly host: Clock,
    private readonly options: DeviceClockOptions,
  ) {
    this.rate = 1 + (options.driftPpm ?? 0) / 1e6;
    this.anchorHostMs = host.now().getTime();
    this.anchorOscillatorMs = this.anchorHostMs;
    this.wallOffsetMs = options.offsetMs ?? 0;
  }

  get driftPpm(): number {
    return (this.rate - 1) * 1e6;
  }

  get powered(): boolean {
    return this.poweredOffAtHostMs === null;
  }

  hostNowMs(): number {
    return this.host.now().getTime();
  }

  oscillatorMs(): number {
    if (this.poweredOffAtHostMs !== null) return this.anchorOscillatorMs;
    return this.anchorOscillatorMs + (this.hostNowMs() - this.anchorHostMs) * this.rate;
  }

  wallMs(): number {
    return this.wallAt(this.oscillatorMs());
  }

  wallAt(oscillatorMs: number): number {
    return oscillatorMs + this.wallOffsetMs;
  }

  /** Host time at which the oscillator read `oscillatorMs` (exact in the current powered stretch). */
  hostAt(oscillatorMs: number): number {
    return this.anchorHostMs + (oscillatorMs - this.anchorOscillatorMs) / this.rate;
  }

  setWall(wallMs: number): void {
    this.wallOffsetMs = wallMs - this.oscillatorMs();
  }

  /** Steps the wall clock (a fault: someone set it wrong, or a glitch). */
  stepWall(deltaMs: number): void {
    this.wallOffsetMs += deltaMs;
  }

  setDriftPpm(ppm: number): void {
    this.reanchor();
    this.rate = 1 + ppm / 1e6;
  }

  powerOff(): void {
    if (this.poweredOffAtHostMs !== null) return;
    this.reanchor();
    this.poweredOffAtHostMs = this.anchorHostMs;
  }

  powerOn(): void {
    if (this.poweredOffAtHostMs === null) return;
    const outageMs = this.hostNowMs() - this.poweredOffAtHostMs;
    this.poweredOffAtHostMs = null;
    this.anchorHostMs = this.hostNowMs();
    if (this.options.afterPowerLoss === 'kept') this.wallOffsetMs += outageMs * this.rate;
    else if (this.options.afterPowerLoss === 'reset') this.wallOffsetMs = -this.anchorOscillatorMs;
  }

  private reanchor(): void {
    this.anchorOscillatorMs = this.oscillatorMs();
    this.anchorHostMs = this.hostNowMs();
  }
}

/** The host's real time, for the CLI. Tests pass a FixedClock from @lyotrace/domain instead. */
export const realClock: Clock = { now: () => new Date() };
