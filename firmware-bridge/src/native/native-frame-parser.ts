import { crc16Ccitt } from '../codec/checksums.js';
import type { LinkCounters } from '../devices/link-counters.js';
import {
  HEADER_BYTES,
  headerCheck,
  MAX_FRAME,
  MAX_PAYLOAD,
  NATIVE_VERSION,
  type NativeFrame,
  SOF,
} from './native-protocol.js';

export type ParserFault = 'garbage' | 'badHeader' | 'badVersion' | 'badChecksum' | 'truncated';

export interface NativeFrameParserOptions {
  onFrame(frame: NativeFrame): void;
  /** Called with the offending bytes (a copy) for the hex log. */
  onFault?(kind: ParserFault, bytes: Buffer): void;
  counters: LinkCounters;
  /** PROTOCOL.md §1 step 6: a partial frame idle this long is abandoned. */
  interByteTimeoutMs?: number;
}

/**
 * The receiver state machine of PROTOCOL.md §1. Resync never throws bytes away blindly: after any failure it
 * drops the one SOF byte and scans the bytes it already holds again, so a good frame that started inside a
 * damaged or truncated one is still found. Memory is bounded by one maximum frame plus one read.
 */
export class NativeFrameParser {
  private buf = Buffer.allocUnsafe(MAX_FRAME * 4);
  private start = 0;
  private end = 0;
  private lastByteAt = 0;
  private readonly interByteTimeoutMs: number;

  constructor(private readonly options: NativeFrameParserOptions) {
    this.interByteTimeoutMs = options.interByteTimeoutMs ?? 100;
  }

  /** Bytes of an incomplete frame waiting for more. */
  get pending(): number {
    return this.end - this.start;
  }

  push(chunk: Uint8Array, nowMs: number = Date.now()): void {
    this.lastByteAt = nowMs;
    let offset = 0;
    while (offset < chunk.length) {
      const room = this.buf.length - this.end;
      if (room === 0) {
        // Cannot happen while scan() keeps at most one frame pending; compact defensively anyway.
        this.compact();
        if (this.buf.length - this.end === 0) this.grow();
        continue;
      }
      const n = Math.min(room, chunk.length - offset);
      this.buf.set(chunk.subarray(offset, offset + n), this.end);
      this.end += n;
      offset += n;
      this.scan();
      this.compact();
    }
  }

  /** Abandons a partial frame idle past the inter-byte timeout (call from a timer). True if it did. */
  expire(nowMs: number = Date.now()): boolean {
    if (this.pending === 0 || nowMs - this.lastByteAt < this.interByteTimeoutMs) return false;
    this.options.counters.truncated++;
    this.fault('truncated', this.start, this.end);
    this.start++;
    this.scan();
    this.compact();
    return true;
  }

  private fault(kind: ParserFault, from: number, to: number): void {
    this.options.onFault?.(kind, Buffer.from(this.buf.subarray(from, to)));
  }

  private scan(): void {
    const { buf, options } = this;
    const counters = options.counters;
    for (;;) {
      if (this.start >= this.end) {
        this.start = this.end = 0;
        return;
      }
      if (buf[this.start] !== SOF) {
        let sof = buf.indexOf(SOF, this.start);
        if (sof === -1 || sof >= this.end) sof = this.end;
        counters.garbageBytes += sof - this.start;
        this.fault('garbage', this.start, sof);
        this.start = sof;
        continue;
      }
      const available = this.end - this.start;
      if (available < HEADER_BYTES) return;
      const s = this.start;
      const version = buf[s + 1]!;
      const type = buf[s + 2]!;
      const tag = buf[s + 3]!;
      const length = buf[s + 4]! | (buf[s + 5]! << 8);
      if (buf[s + 6] !== headerCheck(version, type, tag, length) || length > MAX_PAYLOAD) {
        counters.badHeader++;
        this.fault('badHeader', s, s + HEADER_BYTES);
        this.start++;
        continue;
      }
      if (version !== NATIVE_VERSION) {
        counters.badVersion++;
        this.fault('badVersion', s, s + HEADER_BYTES);
        this.start++;
        continue;
      }
      const total = length + HEADER_BYTES + 2;
      if (available < total) return;
      const crcAt = s + HEADER_BYTES + length;
      const crc = buf[crcAt]! | (buf[crcAt + 1]! << 8);
      if (crc !== crc16Ccitt(buf, s + 1, crcAt)) {
        counters.badChecksum++;
        this.fault('badChecksum', s, s + total);
        this.start++;
        continue;
      }
      counters.framesOk++;
      this.start += total;
      options.onFrame({ version, type, tag, payload: buf.subarray(s + HEADER_BYTES, crcAt) });
    }
  }

  private compact(): void {
    if (this.start === 0) return;
    if (this.start === this.end) {
      this.start = this.end = 0;
      return;
    }
    // Only when the tail is short of a maximum frame: copying on every push would cost more than it saves.
    if (this.buf.length - this.end >= MAX_FRAME) return;
    this.buf.copy(this.buf, 0, this.start, this.end);
    this.end -= this.start;
    this.start = 0;
  }

  private grow(): void {
    const bigger = Buffer.allocUnsafe(this.buf.length * 2);
    this.buf.copy(bigger, 0, this.start, this.end);
    this.end -= this.start;
    this.start = 0;
    this.buf = bigger;
  }
}
