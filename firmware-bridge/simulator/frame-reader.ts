/** What a protocol's frame recogniser says about the bytes at the head of the buffer. */
export type FrameVerdict<T> =
  /** A complete, valid request of `length` bytes. */
  | { frame: T; length: number }
  /** A complete frame to skip silently (e.g. addressed to another station). */
  | { skip: number }
  /** Could become a frame: wait for more bytes. */
  | 'incomplete'
  /** Not a frame here: drop one byte and look again (resync). */
  | 'invalid';

/**
 * The device side of a byte stream: recognises requests at the head of the buffer, resyncs one byte at a time
 * after anything invalid, and abandons a partial request once the line has been silent for `staleAfterMs`
 * (re-examining the bytes behind its first byte, so a good request that began inside a broken one is still
 * found). The buffer is capped, so a flood without a request start cannot grow it without limit.
 */
export class FrameReader<T> {
  private buffer = Buffer.alloc(0);
  private lastByteAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly recognise: (buffer: Buffer) => FrameVerdict<T>,
    private readonly staleAfterMs: number,
    private readonly maxBuffered = 4096,
  ) {}

  push(bytes: Buffer, realNowMs: number): T[] {
    const frames: T[] = [];
    if (this.buffer.length > 0 && realNowMs - this.lastByteAtMs > this.staleAfterMs) this.drain(frames, true);
    this.lastByteAtMs = realNowMs;
    this.buffer = this.buffer.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.buffer, bytes]);
    this.drain(frames, false);
    if (this.buffer.length > this.maxBuffered)
      this.buffer = Buffer.from(this.buffer.subarray(-this.maxBuffered));
    return frames;
  }

  reset(): void {
    this.buffer = Buffer.alloc(0);
  }

  private drain(frames: T[], stale: boolean): void {
    let buffer = this.buffer;
    while (buffer.length > 0) {
      const verdict = this.recognise(buffer);
      if (verdict === 'incomplete') {
        if (!stale) break;
        buffer = buffer.subarray(1);
      } else if (verdict === 'invalid') {
        buffer = buffer.subarray(1);
      } else if ('skip' in verdict) {
        buffer = buffer.subarray(verdict.skip);
      } else {
        frames.push(verdict.frame);
        buffer = buffer.subarray(verdict.length);
      }
    }
    this.buffer = Buffer.from(buffer);
  }
}
