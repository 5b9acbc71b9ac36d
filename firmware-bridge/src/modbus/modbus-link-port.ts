import { EventEmitter } from 'node:events';
import { crc16Modbus } from '../codec/checksums.js';
import type { LinkCounters } from '../devices/link-counters.js';
import type { SerialLink } from '../serial/serial-link.js';

/**
 * The port object modbus-serial drives (`new ModbusRTU(port)`), over our SerialLink, so that the bridge
 * keeps a single importer of `serialport`. It does the RTU framing modbus-serial's own buffered port does,
 * with two differences that matter on a noisy RS-485 bus:
 *  - every request first drops whatever is buffered (COLD-CHAIN.md: after a truncated reply, stale bytes make
 *    the next valid reply fail its CRC);
 *  - a reply is handed over only once a candidate at some offset passes CRC-16/MODBUS, so noise before it
 *    is skipped (counted) instead of failing the transaction.
 */
export class ModbusLinkPort extends EventEmitter {
  private buffer: Buffer = Buffer.alloc(0);
  private unit = 0;
  private fn = 0;
  private expected = 0;
  private detach: (() => void) | null = null;
  // modbus-serial keeps its transaction counters on the port object.
  _transactionIdRead = 1;
  _transactionIdWrite = 1;

  constructor(
    private readonly link: SerialLink,
    private readonly counters: LinkCounters,
    private readonly onNoise: (bytes: Buffer) => void,
  ) {
    super();
  }

  get isOpen(): boolean {
    return this.link.isOpen && this.detach !== null;
  }

  open(callback: (error: Error | null) => void): void {
    this.detach ??= this.link.onData((chunk) => this.onData(chunk));
    void this.link.closed.then(() => this.emit('close'));
    callback(null);
  }

  /** The link belongs to the supervisor: closing the Modbus client only detaches from it. */
  close(callback?: (error: Error | null) => void): void {
    this.detach?.();
    this.detach = null;
    callback?.(null);
  }

  write(data: Buffer): void {
    if (this.buffer.length > 0) {
      this.counters.garbageBytes += this.buffer.length;
      this.onNoise(this.buffer);
    }
    this.buffer = Buffer.alloc(0);
    this.unit = data[0]!;
    this.fn = data[1]!;
    // Reply length for the read functions we use (03/04: 5 + 2 × count); others are not used by the bridge.
    this.expected = this.fn === 3 || this.fn === 4 ? 5 + 2 * data.readUInt16BE(4) : 8;
    this.link.write(data).catch((error: Error) => this.emit('error', error));
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (this.buffer.length > 512) {
      // No reply is that long: the front is noise.
      const drop = this.buffer.length - 512;
      this.counters.garbageBytes += drop;
      this.onNoise(this.buffer.subarray(0, drop));
      this.buffer = this.buffer.subarray(drop);
    }
    for (let i = 0; i + 5 <= this.buffer.length; i++) {
      if (this.buffer[i] !== this.unit) continue;
      const code = this.buffer[i + 1]!;
      const length = code === this.fn ? this.expected : code === (this.fn | 0x80) ? 5 : 0;
      if (length === 0 || i + length > this.buffer.length) continue;
      const candidate = this.buffer.subarray(i, i + length);
      const crc = crc16Modbus(candidate, 0, length - 2);
      if ((crc & 0xff) !== candidate[length - 2] || crc >>> 8 !== candidate[length - 1]) continue;
      if (i > 0) {
        this.counters.garbageBytes += i;
        this.onNoise(this.buffer.subarray(0, i));
      }
      this.buffer = Buffer.alloc(0);
      this.emit('data', Buffer.from(candidate));
      return;
    }
  }
}
