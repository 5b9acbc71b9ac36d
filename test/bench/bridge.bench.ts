import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { currentEnvironment } from '@lyotrace/config';
import { LoggerProtocol } from '@lyotrace/contracts';
import { Bridge } from '../../firmware-bridge/src/bridge.js';
import { silentLog } from '../../firmware-bridge/src/bridge-log.js';
import { DEFAULT_SKEW } from '../../firmware-bridge/src/clock/skew-policy.js';
import { newLinkCounters } from '../../firmware-bridge/src/devices/link-counters.js';
import { NativeFrameParser } from '../../firmware-bridge/src/native/native-frame-parser.js';
import { emit, type Figures, idleCheck, machineNote, progress, round } from './bench-kit.js';
import type { PeerJob } from './bridge-peer-worker.js';

/**
 * How many frames per second the bridge parses and makes durable, against what one 115 200-baud line can
 * carry (11 520 bytes/s: 371 live frames of 31 bytes). Three scenarios:
 *   parse     the frame parser alone on an in-memory stream (CPU bound)
 *   live      live records pushed through a socat pty by a device thread as fast as the pty takes them;
 *             the real driver spools each batch (fsync, group commit) and ACKs it
 *   download  a 64-record DOWNLOAD per request/reply round trip, spooled then ACKed
 * "lines" = the rate as a multiple of one line's; "per core" divides by the bridge thread's event-loop
 * utilisation, i.e. what one fully busy core would do. BENCH_BRIDGE_FRAMES sets the size (default 100 000).
 */
const LINE_BYTES_PER_S = 115_200 / 10;
const LIVE_FRAME_BYTES = 31;
const DOWNLOAD_FRAME_BYTES = 9 + 9 + 64 * 14;
const LINE_LIVE_FPS = LINE_BYTES_PER_S / LIVE_FRAME_BYTES;

interface Result {
  scenario: string;
  frames: number;
  records: number;
  seconds: number;
  fps: number;
  recordsPerS: number;
  lines: number;
  elu: number;
}

function liveFrames(count: number): Buffer {
  // Built here with a local encoder: this measures the parser, not the peer.
  const out = Buffer.alloc(count * LIVE_FRAME_BYTES);
  const crc = (b: Buffer): number => {
    let c = 0xffff;
    for (const x of b) {
      c ^= x << 8;
      for (let i = 0; i < 8; i++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    }
    return c;
  };
  for (let i = 0; i < count; i++) {
    const at = i * LIVE_FRAME_BYTES;
    out.set([0xa5, 1, 0xc0, 0, 22, 0, ~(1 + 0xc0 + 22) & 0xff], at);
    out.writeBigInt64LE(BigInt(Date.now()), at + 7);
    out.writeUInt32LE(i + 1, at + 15);
    out.writeUInt32LE(1_767_225_600 + i, at + 19);
    out.writeInt16LE(525, at + 23);
    out.writeUInt16LE(0xffff, at + 25);
    out.writeUInt16LE(crc(out.subarray(at + 1, at + 29)), at + 29);
  }
  return out;
}

function parseScenario(count: number): Result {
  const stream = liveFrames(count);
  let frames = 0;
  const parser = new NativeFrameParser({ counters: newLinkCounters(), onFrame: () => frames++ });
  const started = performance.now();
  for (let at = 0; at < stream.length; at += 4096) parser.push(stream.subarray(at, at + 4096));
  const seconds = (performance.now() - started) / 1000;
  if (frames !== count) throw new Error(`parse: ${frames} of ${count} frames`);
  const fps = count / seconds;
  return {
    scenario: 'parse',
    frames,
    records: frames,
    seconds,
    fps,
    recordsPerS: fps,
    lines: fps / LINE_LIVE_FPS,
    elu: 1,
  };
}

async function ptyPair(dir: string): Promise<{ a: string; b: string; proc: ChildProcess }> {
  const a = join(dir, 'A');
  const b = join(dir, 'B');
  const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const deadline = Date.now() + 5_000;
  while (!existsSync(a) || !existsSync(b)) {
    if (Date.now() > deadline || proc.exitCode !== null)
      throw new Error('socat did not make a pty pair (is the Debian package socat installed?)');
    await new Promise((r) => setTimeout(r, 20));
  }
  return { a, b, proc };
}

async function ptyScenario(mode: 'live' | 'download', count: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), `lyo-bench-bridge-${mode}-`));
  const { a, b, proc } = await ptyPair(dir);
  const worker = new Worker(new URL('./bridge-peer-worker.js', import.meta.url), {
    workerData: { path: b, mode, count } satisfies PeerJob,
  });
  const events = new Map<string, number>();
  worker.on('message', (m: { event: string; at: number }) => events.set(m.event, m.at));
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    const check = setInterval(() => {
      if (events.has('ready')) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });
  const bridge = new Bridge({
    spoolDir: join(dir, 'spool'),
    spoolMaxBytes: 2 * 1024 * 1024 * 1024,
    ports: [
      {
        name: 'bench',
        protocol: LoggerProtocol.Native,
        path: a,
        baudRate: 115_200,
        pollIntervalMs: 3_600_000,
        replyTimeoutMs: 2_000,
        probes: [],
      },
    ],
    api: null,
    apiUrl: null,
    uploadMaxRecords: 10_000,
    skew: DEFAULT_SKEW,
    log: silentLog,
    statusIntervalMs: 60_000,
  });
  const device = { protocol: LoggerProtocol.Native, serial: 'LT-BENCH-1' };
  // Wall-clock ms on both threads: from the device's first byte of data (its first push, or the first
  // DOWNLOAD reply) to the moment the last record is durable in the spool.
  let firstAppend = 0;
  let done = 0;
  let entries = 0;
  bridge.spool.onAppend(() => {
    entries++;
    firstAppend ||= Date.now();
    if (!done && (bridge.spool.cursor(device, '') ?? 0) >= count) done = Date.now();
  });
  const stop = new AbortController();
  const eluStart = performance.eventLoopUtilization();
  const running = bridge.run(stop.signal);
  const deadline = Date.now() + 600_000;
  while (!done) {
    if (Date.now() > deadline) throw new Error(`${mode}: not all ${count} records spooled within 10 min`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const elu = performance.eventLoopUtilization(eluStart).utilization;
  const counters = bridge.status().ports[0]!.counters;
  stop.abort();
  await running;
  worker.postMessage({ stop: true });
  await worker.terminate();
  proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });

  const from =
    mode === 'live' ? (events.get('streaming') ?? firstAppend) : (events.get('first-data') ?? firstAppend);
  const seconds = (done - from) / 1000;
  const frames = mode === 'live' ? count : Math.ceil(count / 64);
  const bytes = mode === 'live' ? count * LIVE_FRAME_BYTES : frames * DOWNLOAD_FRAME_BYTES;
  const bad = counters.badChecksum + counters.badHeader + counters.garbageBytes + counters.truncated;
  if (bad > 0) throw new Error(`${mode}: the link reported errors ${JSON.stringify(counters)}`);
  progress(`bridge ${mode}: ${count} records in ${entries} spool entries, ${seconds.toFixed(2)} s`);
  return {
    scenario: `${mode} (pty → spool, fsync, ACK)`,
    frames,
    records: count,
    seconds,
    fps: frames / seconds,
    recordsPerS: count / seconds,
    lines: bytes / seconds / LINE_BYTES_PER_S,
    elu,
  };
}

export async function run(): Promise<void> {
  const count = Number(currentEnvironment().BENCH_BRIDGE_FRAMES ?? 100_000);
  if (!Number.isInteger(count) || count < 100)
    throw new Error('BENCH_BRIDGE_FRAMES must be an integer ≥ 100');
  const idle = await idleCheck();
  progress(`bridge: parse ${count} frames in memory…`);
  parseScenario(Math.min(count, 10_000)); // warm-up (JIT)
  const parse = parseScenario(count);
  progress(`bridge: ${count} live frames through a pty…`);
  const live = await ptyScenario('live', count);
  progress(`bridge: download of ${count} records through a pty…`);
  const download = await ptyScenario('download', count);

  const rows = [parse, live, download];
  const figures: Figures = {
    lineLiveFramesPerS: round(LINE_LIVE_FPS, 1),
    parseFramesPerS: round(parse.fps, 1),
    parseLines: round(parse.lines, 1),
    liveFramesPerS: round(live.fps, 1),
    liveLines: round(live.lines, 1),
    liveElu: round(live.elu, 3),
    liveLinesPerCore: round(live.lines / Math.max(live.elu, 0.01), 1),
    downloadRecordsPerS: round(download.recordsPerS, 1),
    downloadFramesPerS: round(download.fps, 1),
    downloadLines: round(download.lines, 1),
    downloadElu: round(download.elu, 3),
    records: count,
  };
  emit('bridge', figures, {
    notes: [
      machineNote(),
      `one 115 200-baud line = ${LINE_BYTES_PER_S} bytes/s = ${LINE_LIVE_FPS.toFixed(1)} live frames/s; target ≥ 50 lines`,
      ...(idle.warning ? [`WARNING: ${idle.warning}`] : []),
    ],
    table: {
      headers: ['scenario', 'frames', 'records', 's', 'frames/s', 'records/s', 'lines', 'bridge ELU'],
      rows: rows.map((r) => [
        r.scenario,
        r.frames,
        r.records,
        round(r.seconds, 2),
        round(r.fps, 0),
        round(r.recordsPerS, 0),
        round(r.lines, 1),
        round(r.elu, 2),
      ]),
    },
  });
}
