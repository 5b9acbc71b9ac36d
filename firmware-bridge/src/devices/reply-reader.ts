import type { SerialLink } from '../serial/serial-link.js';
import { SessionEndedError } from './device-driver.js';

/**
 * Byte collector for request/response protocols without framing of their own (Elitech): read exactly n
 * bytes within a deadline, or discard whatever arrived unasked. Bounded: unread bytes beyond `maxBytes`
 * are dropped (and reported by the next `discard`).
 */
export class ReplyReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private overflow = 0;
  private waiter: (() => void) | null = null;
  private readonly off: () => void;

  constructor(
    link: SerialLink,
    private readonly signal: AbortSignal,
    private readonly maxBytes = 64 * 1024,
  ) {
    this.off = link.onData((chunk) => {
      if (this.length + chunk.length > this.maxBytes) {
        this.overflow += chunk.length;
        return;
      }
      this.chunks.push(chunk);
      this.length += chunk.length;
      this.waiter?.();
    });
    signal.addEventListener('abort', () => this.waiter?.(), { once: true });
  }

  /** Drops everything buffered; returns it (what the device said unasked: counted as garbage). */
  discard(): Buffer {
    const dropped = Buffer.concat(this.chunks);
    const overflow = this.overflow;
    this.chunks = [];
    this.length = 0;
    this.overflow = 0;
    return overflow > 0 ? Buffer.concat([dropped, Buffer.alloc(overflow)]) : dropped;
  }

  /** Exactly `n` bytes, or null at the deadline (what did arrive stays buffered for `discard`). */
  async read(n: number, timeoutMs: number): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.length < n) {
      if (this.signal.aborted) throw new SessionEndedError();
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.waiter = null;
          resolve();
        };
        const timer = setTimeout(done, left);
        this.waiter = done;
      });
    }
    const all = Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.length = rest.length;
    return Buffer.from(out);
  }

  close(): void {
    this.off();
  }
}
