import { closeSync, openSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { basename, dirname } from 'node:path';
import tty from 'node:tty';
import { SocatPair } from '../../firmware-bridge/simulator/socat-pair.js';

/**
 * Test-side devices for the bridge tests: a socat pty pair (the bridge opens A, the scripted device B),
 * scripted devices that speak the wire protocols from their specifications, and a recording stand-in for
 * the ingest API. Deliberately NOT built on the bridge's own code (no codec, no CRC shared): a peer that
 * reused the bridge's encoder would agree with it even when both are wrong.
 */

// ---------------------------------------------------------------------------------------------- pty pair

/**
 * The bridge's pty pair: the bridge opens `a`, the scripted device `b` (both in one folder). socat is driven by
 * the simulator's SocatPair, which shares no code with the bridge either; stop() kills socat with SIGKILL (an
 * abrupt unplug) and removes the links.
 */
export class PtyPair {
  private readonly pair: SocatPair;

  constructor(
    readonly a: string,
    readonly b: string,
  ) {
    if (dirname(a) !== dirname(b)) throw new Error('PtyPair: both ends go in one folder');
    this.pair = new SocatPair(dirname(a), { host: basename(a), device: basename(b) });
  }

  start(): Promise<void> {
    return this.pair.start();
  }

  async stop(): Promise<void> {
    await this.pair.stop('SIGKILL');
    for (const link of [this.a, this.b]) rmSync(link, { force: true });
  }
}

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function until<T>(what: string, check: () => T | undefined | false, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await pause(20);
  }
}

/** The device side of a pty: raw bytes in and out through a tty stream. */
export class PeerPort {
  private readonly fd: number;
  private readonly input: tty.ReadStream;
  private readonly output: tty.WriteStream;
  closed = false;

  constructor(path: string, onData: (chunk: Buffer) => void) {
    this.fd = openSync(path, 'r+');
    this.input = new tty.ReadStream(this.fd);
    this.output = new tty.WriteStream(this.fd);
    this.input.on('data', (chunk: Buffer) => onData(chunk));
    const gone = (): void => {
      this.closed = true;
    };
    this.input.on('end', gone);
    this.input.on('error', gone);
    this.output.on('error', gone);
  }

  write(bytes: Uint8Array): void {
    if (!this.closed) this.output.write(bytes);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.input.destroy();
    this.output.destroy();
    try {
      closeSync(this.fd);
    } catch {
      // the streams closed it
    }
  }
}

// ------------------------------------------------------------------------- native logger (PROTOCOL.md)

/** CRC-16/CCITT-FALSE, bit by bit, straight from its definition (PROTOCOL.md §1). */
export function crcCcittBitwise(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

export function nativeFrame(type: number, tag: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const len = payload.length;
  const header = [0x01, type, tag, len & 0xff, len >> 8];
  const hchk = ~header.reduce((a, b) => a + b, 0) & 0xff;
  const body = Buffer.from([...header, hchk, ...payload]);
  const crc = crcCcittBitwise(body);
  return Buffer.concat([Buffer.from([0xa5]), body, Buffer.from([crc & 0xff, crc >> 8])]);
}

export interface PeerRecord {
  seq: number;
  timeS: number;
  centiC: number;
  flags?: number;
}

/** Temperature of record `seq` in the scripted logger: deterministic, so the test can check every value. */
export const peerTemperature = (seq: number): number => 400 + (seq % 300);

/**
 * A native logger as PROTOCOL.md describes it: ring of `capacity` records kept until ACKed, IDENTIFY,
 * DOWNLOAD, ACK, live pushes. Survives unplug/replug (its state lives here, not in the pty).
 */
export class NativeLoggerPeer {
  readonly records: PeerRecord[] = [];
  lowest = 1;
  next = 1;
  acked = 0;
  clockOffsetMs = 0;
  livePush = true;
  /** Set by SET_CLOCK: the next record carries flag bit1 (PROTOCOL.md §3.2). */
  private clockWasSet = false;
  clockSets = 0;
  /** Frames received that failed the device's CRC check. */
  badFrames = 0;
  requests: Record<string, number> = {};
  private port: PeerPort | null = null;
  private buf: Buffer = Buffer.alloc(0);

  constructor(
    readonly serial = 'LT-TEST-0001',
    readonly capacity = 100_000,
  ) {}

  attach(path: string): void {
    this.port = new PeerPort(path, (chunk) => this.receive(chunk));
  }

  detach(): void {
    this.port?.close();
    this.port = null;
  }

  /** Raw bytes onto the wire (noise injection). */
  raw(bytes: Uint8Array): void {
    this.port?.write(bytes);
  }

  nowMs(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Logs `count` records now (1 s apart, ending now); pushes them live when connected. */
  log(count: number, push = this.livePush): PeerRecord[] {
    const made: PeerRecord[] = [];
    const nowS = Math.floor(this.nowMs() / 1000);
    for (let i = 0; i < count; i++) {
      const r: PeerRecord = {
        seq: this.next,
        timeS: nowS - (count - 1 - i),
        centiC: peerTemperature(this.next),
      };
      if (this.clockWasSet) {
        r.flags = 0x02;
        this.clockWasSet = false;
      }
      this.next++;
      this.records.push(r);
      made.push(r);
      if (this.next - this.lowest > this.capacity) {
        this.records.shift();
        this.lowest++;
      }
      if (push && this.port) this.port.write(this.liveFrame(r));
    }
    return made;
  }

  liveFrame(r: PeerRecord): Buffer {
    const p = Buffer.alloc(22);
    p.writeBigInt64LE(BigInt(Math.round(this.nowMs())), 0);
    this.writeRecord(p, 8, r);
    return nativeFrame(0xc0, 0, p);
  }

  private writeRecord(p: Buffer, at: number, r: PeerRecord): void {
    p.writeUInt32LE(r.seq, at);
    p.writeUInt32LE(r.timeS, at + 4);
    p.writeInt16LE(r.centiC, at + 8);
    p.writeUInt16LE(0xffff, at + 10);
    p[at + 12] = r.flags ?? 0;
    p[at + 13] = 0;
  }

  private receive(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const sof = this.buf.indexOf(0xa5);
      if (sof < 0) {
        this.buf = Buffer.alloc(0);
        return;
      }
      this.buf = this.buf.subarray(sof);
      if (this.buf.length < 7) return;
      const len = this.buf.readUInt16LE(4);
      if (this.buf.length < 9 + len) return;
      const crc = this.buf.readUInt16LE(7 + len);
      if (crc !== crcCcittBitwise(this.buf.subarray(1, 7 + len))) {
        this.badFrames++;
        this.buf = this.buf.subarray(1);
        continue;
      }
      const type = this.buf[2]!;
      const tag = this.buf[3]!;
      const payload = Buffer.from(this.buf.subarray(7, 7 + len));
      this.buf = this.buf.subarray(9 + len);
      this.handle(type, tag, payload);
    }
  }

  private handle(type: number, tag: number, payload: Buffer): void {
    const name = { 1: 'identify', 3: 'download', 4: 'ack' }[type] ?? `0x${type.toString(16)}`;
    this.requests[name] = (this.requests[name] ?? 0) + 1;
    const reply = (t: number, p: Uint8Array): void => this.port?.write(nativeFrame(t, tag, p));
    if (type === 0x01) {
      const p = Buffer.alloc(66);
      p.write(this.serial, 0, 'latin1');
      p.write('LYO-T1', 16, 'latin1');
      p[32] = 1;
      p[33] = 2;
      p.writeUInt16LE(3, 34);
      p.writeUInt32LE(60, 36);
      p[40] = 90;
      p[41] = 1;
      p.writeUInt16LE(2099, 42);
      p[44] = 12;
      p[45] = 31;
      p.writeBigInt64LE(BigInt(Math.round(this.nowMs())), 46);
      p.writeUInt32LE(this.lowest, 54);
      p.writeUInt32LE(this.next, 58);
      p.writeUInt32LE(this.capacity, 62);
      reply(0x81, p);
    } else if (type === 0x03) {
      const from = payload.readUInt32LE(0);
      const max = Math.min(64, payload[4]!);
      const start = Math.max(from, this.lowest);
      const picked = this.records.filter((r) => r.seq >= start).slice(0, max);
      const p = Buffer.alloc(9 + 14 * picked.length);
      p.writeUInt32LE(this.lowest, 0);
      p.writeUInt32LE(this.next, 4);
      p[8] = picked.length;
      picked.forEach((r, i) => this.writeRecord(p, 9 + i * 14, r));
      reply(0x83, p);
    } else if (type === 0x04) {
      const upTo = payload.readUInt32LE(0);
      if (upTo >= this.next) {
        reply(0xff, Buffer.from([0x04, 3]));
        return;
      }
      this.acked = Math.max(this.acked, upTo);
      while (this.records.length > 0 && this.records[0]!.seq <= this.acked) this.records.shift();
      this.lowest = Math.max(this.lowest, this.acked + 1);
      const p = Buffer.alloc(8);
      p.writeUInt32LE(this.acked, 0);
      p.writeUInt32LE(this.lowest, 4);
      reply(0x84, p);
    } else if (type === 0x02) {
      const before = this.nowMs();
      this.clockOffsetMs = Number(payload.readBigInt64LE(0)) - Date.now();
      this.clockWasSet = true;
      this.clockSets++;
      const p = Buffer.alloc(16);
      p.writeBigInt64LE(BigInt(Math.round(before)), 0);
      p.writeBigInt64LE(BigInt(Math.round(this.nowMs())), 8);
      reply(0x82, p);
    } else {
      reply(0xff, Buffer.from([type, 1]));
    }
  }
}

// ---------------------------------------------------------------------------------- recording ingest API

export interface IngestCall {
  status: number;
  batch: {
    batchId: string;
    device: { protocol: string; serial: string; model: string };
    mission: string;
    live: boolean;
    records: {
      seq: number;
      time: string;
      deviceTime: string;
      temperatureC: number | null;
      flags: string[];
    }[];
  };
}

/**
 * Stands in for POST /api/ingest/readings: keeps each record once per (serial, mission, seq), as the API
 * does, and counts what came twice. `down` answers 503 (the API unreachable from the bridge's view).
 */
export class RecordingApi {
  readonly calls: IngestCall[] = [];
  readonly stored = new Map<string, IngestCall['batch']['records'][number]>();
  duplicates = 0;
  down = false;
  private server: Server | null = null;
  url = '';

  async start(port = 0): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (
          this.down ||
          req.url !== '/api/ingest/readings' ||
          req.headers.authorization !== 'Bearer lyb_test'
        ) {
          const status = this.down ? 503 : req.url !== '/api/ingest/readings' ? 404 : 401;
          res.writeHead(status, { 'content-type': 'application/problem+json' });
          res.end(JSON.stringify({ status, code: this.down ? 'DEPENDENCY_UNAVAILABLE' : 'NOPE' }));
          return;
        }
        const batch = JSON.parse(Buffer.concat(chunks).toString('utf8')) as IngestCall['batch'];
        let accepted = 0;
        let duplicates = 0;
        for (const r of batch.records) {
          const key = `${batch.device.serial}|${batch.mission}|${r.seq}`;
          if (this.stored.has(key)) duplicates++;
          else {
            this.stored.set(key, r);
            accepted++;
          }
        }
        this.duplicates += duplicates;
        this.calls.push({ status: 201, batch });
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            batchId: batch.batchId,
            loggerId: 'l',
            accepted,
            duplicates,
            highestContiguousSeq: null,
          }),
        );
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    this.url = `http://127.0.0.1:${address.port}`;
  }

  /** Sequences stored for a device, ascending. */
  seqs(serial: string): number[] {
    return [...this.stored.keys()]
      .filter((k) => k.startsWith(`${serial}|`))
      .map((k) => Number(k.split('|')[2]))
      .sort((a, b) => a - b);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

// ------------------------------------------------------------------------------ Elitech RC-4 / RC-5 peer

const sum8 = (bytes: Uint8Array): number => bytes.reduce((a, b) => a + b, 0) & 0xff;
const withSum = (bytes: number[]): Buffer => Buffer.from([...bytes, sum8(Uint8Array.from(bytes))]);

function elitechDate(ms: number): number[] {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  return [
    y >> 8,
    y & 0xff,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
  ];
}

/** An Elitech logger as COLD-CHAIN.md describes its serial protocol (model 40 = RC-4, 50 = RC-5). */
export class ElitechPeer {
  readonly values: number[] = [];
  clockOffsetMs = 0;
  /** Replies to corrupt (their checksum) before answering properly. */
  corruptNext = 0;
  requests = 0;
  private port: PeerPort | null = null;
  private buf: Buffer = Buffer.alloc(0);

  constructor(
    readonly deviceNumber = 'EL12345678',
    readonly modelCode = 40,
    readonly intervalS = 300,
    public startMs = Date.UTC(2026, 0, 5, 8, 0, 0),
  ) {}

  attach(path: string): void {
    this.port = new PeerPort(path, (chunk) => this.receive(chunk));
  }

  detach(): void {
    this.port?.close();
    this.port = null;
  }

  get pageSize(): number {
    return this.modelCode === 50 ? 500 : this.modelCode === 42 ? 200 : 100;
  }

  private send(bytes: Buffer): void {
    if (this.corruptNext > 0) {
      this.corruptNext--;
      const bad = Buffer.from(bytes);
      bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x5a;
      this.port?.write(bad);
      return;
    }
    this.port?.write(bytes);
  }

  private receive(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 5) {
      const req = this.buf.subarray(0, 5);
      this.buf = this.buf.subarray(5);
      if (sum8(req.subarray(0, 4)) !== req[4]) {
        this.buf = Buffer.alloc(0);
        return;
      }
      this.requests++;
      this.handle(req);
    }
  }

  private handle(req: Buffer): void {
    const [kind, station, cmd, page] = [req[0]!, req[1]!, req[2]!, req[3]!];
    if (kind === 0xcc && cmd === 0x0a) this.send(withSum([0x55, 0xa5]));
    else if (kind === 0xcc && cmd === 0x06) {
      const info = Buffer.alloc(159);
      info[0] = 0x55;
      info[1] = 1;
      info[3] = this.modelCode;
      info[5] = Math.floor(this.intervalS / 3600);
      info[6] = Math.floor((this.intervalS % 3600) / 60);
      info[7] = this.intervalS % 60;
      info.writeInt16BE(80, 8);
      info.writeInt16BE(20, 10);
      info[19] = 1;
      Buffer.from(elitechDate(this.startMs)).copy(info, 20);
      info.writeUInt16BE(this.values.length, 29);
      Buffer.from(elitechDate(Date.now() + this.clockOffsetMs)).copy(info, 31);
      info.write(this.deviceNumber, 138, 'latin1');
      this.send(withSum([...info]));
    } else if (kind === 0x33 && station === 1 && cmd === 0x01) {
      this.send(
        withSum([0x55, this.values.length >> 8, this.values.length & 0xff, ...elitechDate(this.startMs)]),
      );
    } else if (kind === 0x33 && station === 1 && cmd === 0x02) {
      const slice = this.values.slice(page * this.pageSize, (page + 1) * this.pageSize);
      const body = Buffer.alloc(slice.length * 2);
      slice.forEach((v, i) => body.writeInt16BE(Math.round(v * 10), i * 2));
      this.send(withSum([0x55, ...body]));
    }
  }
}

// ------------------------------------------------------------------------------ Modbus RTU probe (XY-MD02)

/** CRC-16/MODBUS bit by bit (poly 0xA001 reflected, init 0xFFFF). */
export function crcModbusBitwise(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

const withCrc = (bytes: number[]): Buffer => {
  const crc = crcModbusBitwise(Uint8Array.from(bytes));
  return Buffer.from([...bytes, crc & 0xff, crc >> 8]);
};

/** Modbus RTU slaves on one bus: function 04, input registers 1 (°C × 10) and 2 (%RH × 10). */
export class ModbusBusPeer {
  /** slave → [temperature °C, RH %]; a slave not listed never answers. */
  readonly slaves = new Map<number, [number, number]>();
  /** Per request: noise to send before the reply, or 'truncate' to send half a reply. */
  script: (Buffer | 'truncate' | null)[] = [];
  requests = 0;
  private port: PeerPort | null = null;
  private buf: Buffer = Buffer.alloc(0);

  attach(path: string): void {
    this.port = new PeerPort(path, (chunk) => this.receive(chunk));
  }

  detach(): void {
    this.port?.close();
    this.port = null;
  }

  private receive(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 8) {
      const req = this.buf.subarray(0, 8);
      const crc = crcModbusBitwise(req.subarray(0, 6));
      if (req[6] !== (crc & 0xff) || req[7] !== crc >> 8) {
        this.buf = this.buf.subarray(1);
        continue;
      }
      this.buf = this.buf.subarray(8);
      this.requests++;
      const [slave, fn] = [req[0]!, req[1]!];
      const start = req.readUInt16BE(2);
      const count = req.readUInt16BE(4);
      const values = this.slaves.get(slave);
      if (!values) continue;
      const step = this.script.shift() ?? null;
      if (fn !== 4 || start < 1 || start + count - 1 > 2) {
        this.port?.write(withCrc([slave, fn | 0x80, 2]));
        continue;
      }
      const words = values.slice(start - 1, start - 1 + count).map((v) => Math.round(v * 10) & 0xffff);
      const reply = withCrc([slave, 4, count * 2, ...words.flatMap((w) => [w >> 8, w & 0xff])]);
      if (step === 'truncate') this.port?.write(reply.subarray(0, 4));
      else {
        if (step) this.port?.write(step);
        this.port?.write(reply);
      }
    }
  }
}
