/**
 * A small seeded generator (mulberry32) so that a noisy run can be replayed byte for byte: tests pass a seed
 * and get the same garbage, the same dropped samples and the same temperatures every time.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  bytes(length: number, exclude: readonly number[] = []): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) {
      let byte = this.int(0, 255);
      while (exclude.includes(byte)) byte = (byte + 1) & 0xff;
      out[i] = byte;
    }
    return out;
  }
}

/** A stable hash of (seed, n) into [-1, 1): per-sample jitter that does not depend on the order of reads. */
export function hashNoise(seed: number, n: number): number {
  let h =
    Math.imul((seed ^ 0x9e3779b9) >>> 0, 0x85ebca6b) ^ Math.imul(n | 0, 0xc2b2ae35) ^ Math.floor(n / 2 ** 32);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 31 - 1;
}
