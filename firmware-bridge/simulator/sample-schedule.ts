import { type SeededRandom } from './seeded-random.js';

/** One sampling instant of a running mission, on the device's oscillator. */
export interface SampleTick {
  /** Tick number since the mission (or the last interval change) began. */
  index: number;
  oscillatorMs: number;
  /** The sensor was not read at this tick (missed-sample fault): nothing is stored. */
  missed: boolean;
}

/**
 * When a logger samples: every `interval` of its own oscillator from the mission start. Lazy: the owner asks
 * for the ticks due up to "now", so a virtual clock moved a month ahead yields a month of samples at once.
 */
export class SampleSchedule {
  private running = false;
  private baseOscillatorMs = 0;
  private baseIndex = 0;
  private nextIndex = 0;
  private missNext = 0;

  constructor(
    private intervalMsValue: number,
    private readonly random: SeededRandom,
    public missRate = 0,
  ) {}

  get intervalMs(): number {
    return this.intervalMsValue;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** First sample at `firstAtOscillatorMs` (may lie in the past: a prefill). */
  start(firstAtOscillatorMs: number): void {
    this.running = true;
    this.baseOscillatorMs = firstAtOscillatorMs;
    this.baseIndex = 0;
    this.nextIndex = 0;
  }

  stop(): void {
    this.running = false;
  }

  /** Takes effect from the next sample: the one after the last taken comes one new interval later. */
  setInterval(intervalMs: number): void {
    if (this.running && this.nextIndex > this.baseIndex) {
      this.baseOscillatorMs += (this.nextIndex - 1 - this.baseIndex) * this.intervalMsValue;
      this.baseIndex = this.nextIndex - 1;
    }
    this.intervalMsValue = intervalMs;
  }

  /** The next `count` samples are not taken: a hole in the device's own timeline. */
  missSamples(count: number): void {
    this.missNext += count;
  }

  *due(nowOscillatorMs: number): Generator<SampleTick> {
    while (this.running) {
      const at = this.baseOscillatorMs + (this.nextIndex - this.baseIndex) * this.intervalMsValue;
      if (at > nowOscillatorMs) return;
      let missed = false;
      if (this.missNext > 0) {
        this.missNext--;
        missed = true;
      } else if (this.missRate > 0 && this.random.next() < this.missRate) {
        missed = true;
      }
      yield { index: this.nextIndex++, oscillatorMs: at, missed };
    }
  }
}
