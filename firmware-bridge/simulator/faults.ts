import { type DeviceModel } from './device-model.js';
import { type SeededRandom } from './seeded-random.js';

export const NOISE_KINDS = ['garbage', 'bad-check', 'truncated', 'long-line'] as const;
export type NoiseKind = (typeof NOISE_KINDS)[number];

export interface FaultSettings {
  /** Delay before every reply, ms (slow device). */
  replyDelayMs: number;
  /** > 0: replies leave in 2–4 pieces this many ms apart (a slow UART, a USB bridge flushing late). */
  chunkDelayMs: number;
  /** Probability that an outgoing frame is hit by one of `noiseKinds`. */
  noise: number;
  noiseKinds: readonly NoiseKind[];
}

export const NO_FAULTS: FaultSettings = {
  replyDelayMs: 0,
  chunkDelayMs: 0,
  noise: 0,
  noiseKinds: NOISE_KINDS,
};

export interface Transmission {
  bytes: Buffer;
  delayMs: number;
}

/**
 * Turns a frame the device means to send into what actually reaches the line: delayed, split, preceded by
 * garbage, with a wrong check value, cut short, or after a long burst without a frame start.
 */
export class FaultInjector {
  private readonly queued: NoiseKind[] = [];

  constructor(
    public settings: FaultSettings,
    private readonly random: SeededRandom,
  ) {}

  /** The next outgoing frame gets this noise, whatever the probability. */
  injectOnce(kind: NoiseKind): void {
    this.queued.push(kind);
  }

  plan(
    frame: Buffer,
    model: DeviceModel,
    isReply: boolean,
  ): { noise: NoiseKind | null; parts: Transmission[] } {
    const { replyDelayMs, chunkDelayMs, noise, noiseKinds } = this.settings;
    let kind = this.queued.shift() ?? null;
    if (kind === null && noise > 0 && noiseKinds.length > 0 && this.random.next() < noise) {
      kind = this.random.pick(noiseKinds);
    }
    let bytes = frame;
    let prefix: Buffer | null = null;
    switch (kind) {
      case 'garbage':
        prefix = this.random.bytes(this.random.int(1, 16));
        break;
      case 'long-line':
        prefix = model.longLine(this.random);
        break;
      case 'bad-check':
        bytes = model.corruptCheck(frame);
        break;
      case 'truncated':
        bytes = frame.subarray(0, this.random.int(1, Math.max(1, frame.length - 1)));
        break;
      case null:
        break;
    }
    const parts: Transmission[] = [];
    const firstDelay = isReply ? replyDelayMs : 0;
    if (prefix) parts.push({ bytes: prefix, delayMs: firstDelay });
    const pieces = chunkDelayMs > 0 && bytes.length > 1 ? this.split(bytes) : [bytes];
    pieces.forEach((piece, i) =>
      parts.push({ bytes: piece, delayMs: i === 0 ? (prefix ? 0 : firstDelay) : chunkDelayMs }),
    );
    return { noise: kind, parts };
  }

  private split(bytes: Buffer): Buffer[] {
    const count = Math.min(bytes.length, this.random.int(2, 4));
    const cuts = new Set<number>();
    while (cuts.size < count - 1) cuts.add(this.random.int(1, bytes.length - 1));
    const sorted = [0, ...[...cuts].sort((a, b) => a - b), bytes.length];
    return sorted.slice(1).map((end, i) => bytes.subarray(sorted[i], end));
  }
}
