import { hashNoise } from './seeded-random.js';

/** What the sensor sees, as a function of true (host) time: the device samples it on its own clock. */
export interface ClimateProfile {
  temperatureAt(hostMs: number): number;
  humidityAt(hostMs: number): number;
}

export interface WaveProfileOptions {
  meanC?: number;
  /** Half the peak-to-peak swing of a slow sine (compressor cycles, day/night). */
  amplitudeC?: number;
  periodS?: number;
  /** Per-second deterministic jitter, ± this many °C. */
  jitterC?: number;
  humidityPct?: number;
  /** Per-minute deterministic RH jitter, ± this many %RH. */
  humidityJitterPct?: number;
  seed?: number;
}

/** A fridge-like default: 5 °C ± 0.5 over 40 minutes, ±0.05 °C jitter, 45 %RH. */
export class WaveProfile implements ClimateProfile {
  private readonly meanC: number;
  private readonly amplitudeC: number;
  private readonly periodMs: number;
  private readonly jitterC: number;
  private readonly humidityPct: number;
  private readonly humidityJitterPct: number;
  private readonly seed: number;

  constructor(options: WaveProfileOptions = {}) {
    this.meanC = options.meanC ?? 5;
    this.amplitudeC = options.amplitudeC ?? 0.5;
    this.periodMs = (options.periodS ?? 2400) * 1000;
    this.jitterC = options.jitterC ?? 0.05;
    this.humidityPct = options.humidityPct ?? 45;
    this.humidityJitterPct = options.humidityJitterPct ?? 2;
    this.seed = options.seed ?? 1;
  }

  temperatureAt(hostMs: number): number {
    const wave = this.periodMs > 0 ? Math.sin((2 * Math.PI * hostMs) / this.periodMs) : 0;
    return (
      this.meanC + this.amplitudeC * wave + this.jitterC * hashNoise(this.seed, Math.floor(hostMs / 1000))
    );
  }

  humidityAt(hostMs: number): number {
    return this.humidityPct + this.humidityJitterPct * hashNoise(this.seed + 1, Math.floor(hostMs / 60_000));
  }
}

/** Device-side rounding of a physical value to a fixed-point integer: half away from zero, like firmware. */
export function toFixedPoint(value: number, scale: number): number {
  const scaled = value * scale;
  return Math.sign(scaled) * Math.round(Math.abs(scaled));
}
