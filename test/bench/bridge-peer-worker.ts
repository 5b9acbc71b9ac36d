import { openSync } from 'node:fs';
import tty from 'node:tty';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * The device side of the bridge benchmark, on its own thread (its own core): a native logger (PROTOCOL.md)
 * on the pty's B side, written independently of the bridge's codec. `live`: answers IDENTIFY and the
 * catch-up DOWNLOAD, then pushes `count` LIVE_RECORD frames as fast as the pty takes them, answering ACKs.
 * `download`: holds `count` records and serves DOWNLOAD requests (64 per reply).
 */
export interface PeerJob {
  path: string;
  mode: 'live' | 'download';
  count: number;
}

if (!parentPort) throw new Error('bridge-peer-worker.js runs as a worker thread only');
const job = workerData as PeerJob;
const port = parentPort;

function crc(bytes: Uint8Array): number {
  let c = 0xffff;
  for (const b of bytes) {
    c ^= b << 8;
    for (let i = 0; i < 8; i++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  }
  return c;
}

function frame(type: number, tag: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = [0x01, type, tag, len & 0xff, len >> 8];
  const out = Buffer.alloc(9 + len);
  out[0] = 0xa5;
  out.set(head, 1);
  out[6] = ~head.reduce((a, b) => a + b, 0) & 0xff;
  payload.copy(out, 7);
  out.writeUInt16LE(crc(out.subarray(1, 7 + len)), 7 + len);
  return out;
}

const T0 = Math.floor(Date.now() / 1000) - job.count;
function record(p: Buffer, at: number, seq: number): void {
  p.writeUInt32LE(seq, at);
  p.writeUInt32LE(T0 + seq, at + 4);
  p.writeInt16LE(400 + (seq % 300), at + 8);
  p.writeUInt16LE(0xffff, at + 10);
  p[at + 12] = 0;
  p[at + 13] = 0;
}

const fd = openSync(job.path, 'r+');
const input = new tty.ReadStream(fd);
const output = new tty.WriteStream(fd);

let acked = 0;
/** Highest sequence the device holds: all of them in download mode, those pushed so far in live mode. */
let logged = job.mode === 'download' ? job.count : 0;
let streaming = false;
let firstData = false;
/** Pre-built live frames (seq 1…count): the push loop only copies bytes. */
function liveStream(): Buffer {
  const size = 31;
  const all = Buffer.alloc(size * job.count);
  const payload = Buffer.alloc(22);
  for (let seq = 1; seq <= job.count; seq++) {
    payload.writeBigInt64LE(BigInt(Date.now()), 0);
    record(payload, 8, seq);
    const at = (seq - 1) * size;
    all[at] = 0xa5;
    all[at + 1] = 0x01;
    all[at + 2] = 0xc0;
    all[at + 3] = 0;
    all[at + 4] = 22;
    all[at + 5] = 0;
    all[at + 6] = ~(1 + 0xc0 + 22) & 0xff;
    payload.copy(all, at + 7);
    all.writeUInt16LE(crc(all.subarray(at + 1, at + 29)), at + 29);
  }
  return all;
}

async function push(stream: Buffer): Promise<void> {
  const chunk = 31 * 128;
  port.postMessage({ event: 'streaming', at: Date.now() });
  for (let at = 0; at < stream.length; at += chunk) {
    const end = Math.min(stream.length, at + chunk);
    logged = end / 31;
    if (!output.write(stream.subarray(at, end)))
      await new Promise((resolve) => output.once('drain', resolve));
  }
  port.postMessage({ event: 'pushed', at: Date.now() });
}

const prepared = job.mode === 'live' ? liveStream() : null;
let buf: Buffer = Buffer.alloc(0);
input.on('data', (chunk: Buffer) => {
  buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
  for (;;) {
    const sof = buf.indexOf(0xa5);
    if (sof < 0) {
      buf = Buffer.alloc(0);
      return;
    }
    if (sof > 0) buf = buf.subarray(sof);
    if (buf.length < 7) return;
    const len = buf.readUInt16LE(4);
    if (buf.length < 9 + len) return;
    const type = buf[2]!;
    const tag = buf[3]!;
    const payload = buf.subarray(7, 7 + len);
    buf = buf.subarray(9 + len);
    if (type === 0x01) {
      const p = Buffer.alloc(66);
      p.write('LT-BENCH-1', 0, 'latin1');
      p.write('LYO-T1', 16, 'latin1');
      p.writeUInt32LE(1, 36);
      p[40] = 100;
      p[41] = 1;
      p.writeBigInt64LE(BigInt(Date.now()), 46);
      p.writeUInt32LE(acked + 1, 54);
      p.writeUInt32LE(logged + 1, 58);
      p.writeUInt32LE(1_000_000, 62);
      output.write(frame(0x81, tag, p));
    } else if (type === 0x03) {
      const from = Math.max(payload.readUInt32LE(0), acked + 1);
      const n = Math.max(0, Math.min(payload[4]!, logged - from + 1));
      const p = Buffer.alloc(9 + 14 * n);
      p.writeUInt32LE(acked + 1, 0);
      p.writeUInt32LE(logged + 1, 4);
      p[8] = n;
      for (let i = 0; i < n; i++) record(p, 9 + i * 14, from + i);
      if (n > 0 && !firstData) {
        firstData = true;
        port.postMessage({ event: 'first-data', at: Date.now() });
      }
      output.write(frame(0x83, tag, p));
      if (job.mode === 'live' && !streaming && prepared) {
        streaming = true;
        void push(prepared);
      }
    } else if (type === 0x04) {
      acked = Math.max(acked, payload.readUInt32LE(0));
      const p = Buffer.alloc(8);
      p.writeUInt32LE(acked, 0);
      p.writeUInt32LE(acked + 1, 4);
      output.write(frame(0x84, tag, p));
      if (acked >= job.count) port.postMessage({ event: 'acked', at: Date.now() });
    }
  }
});

port.on('message', (message: { stop?: boolean }) => {
  if (message.stop) {
    input.destroy();
    output.destroy();
    port.close();
  }
});
port.postMessage({ event: 'ready' });
