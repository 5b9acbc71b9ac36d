import { type IngestDevice, LoggerProtocol } from '@lyotrace/contracts';
import { LogThrottle } from '../bridge-log.js';
import { hex } from '../codec/checksums.js';
import { skewOfExchange, skewOfPush, toIngestRecord, UNREADABLE_CALIBRATION } from '../clock/skew-policy.js';
import {
  abortable,
  type DeviceDriver,
  DeviceUnresponsiveError,
  type DriverContext,
  pauseFor,
  SessionEndedError,
} from '../devices/device-driver.js';
import type { SerialLink } from '../serial/serial-link.js';
import { SpoolFullError } from '../spool/spool.js';
import { NativeFrameParser, type ParserFault } from './native-frame-parser.js';
import {
  ackRequest,
  decodeAck,
  decodeDownload,
  decodeIdentify,
  decodeLive,
  decodeNak,
  decodeSetClock,
  downloadRequest,
  identifyRequest,
  MalformedPayloadError,
  MAX_DOWNLOAD,
  type NativeFrame,
  type NativeIdentity,
  type NativeRecord,
  NativeType,
  RecordFlag,
  REPLY_BIT,
  setClockRequest,
} from './native-protocol.js';

export interface NativeDriverOptions {
  /** PROTOCOL.md §2: 1 000 ms reply timeout, 3 retries. */
  replyTimeoutMs?: number;
  retries?: number;
  /** PROTOCOL.md §5: re-identify (skew, battery, calibration) this often. */
  identifyIntervalMs?: number;
  /** While the spool is full, look again this often. */
  stallRetryMs?: number;
}

/** DOWNLOAD replies gathered per spool write + ACK (8 × 64 = 512 records). */
const DOWNLOAD_BATCH = 8;

interface Live {
  deviceMs: number;
  receivedMs: number;
  record: NativeRecord;
}

interface Outstanding {
  tag: number;
  type: number;
  resolve(payload: Buffer): void;
  reject(error: Error): void;
}

class NakError extends Error {
  constructor(
    readonly requestType: number,
    readonly code: number,
    reason: string,
  ) {
    super(`device refused request 0x${requestType.toString(16)}: ${reason}`);
    this.name = 'NakError';
  }
}

/** One open link to one native logger: the framing, the request/reply discipline, the live queue. */
class NativeSession {
  private readonly parser: NativeFrameParser;
  private outstanding: Outstanding | null = null;
  private tag = 0;
  private lock: Promise<unknown> = Promise.resolve();
  private readonly live: Live[] = [];
  private wake: (() => void) | null = null;
  private expireTimer: NodeJS.Timeout | null = null;
  private readonly faultLog = new LogThrottle();

  constructor(
    private readonly link: SerialLink,
    private readonly ctx: DriverContext,
    private readonly signal: AbortSignal,
    private readonly options: Required<NativeDriverOptions>,
  ) {
    this.parser = new NativeFrameParser({
      counters: ctx.counters,
      onFrame: (frame) => this.onFrame(frame),
      onFault: (kind, bytes) => this.onFault(kind, bytes),
    });
    const off = link.onData((chunk) => {
      this.parser.push(chunk, ctx.now());
      this.armExpiry();
    });
    signal.addEventListener(
      'abort',
      () => {
        off();
        if (this.expireTimer) clearTimeout(this.expireTimer);
        this.outstanding?.reject(new SessionEndedError());
        this.outstanding = null;
        this.wake?.();
      },
      { once: true },
    );
  }

  /** PROTOCOL.md §1 step 6: a partial frame left waiting is abandoned after the inter-byte timeout. */
  private armExpiry(): void {
    if (this.parser.pending === 0 || this.expireTimer) return;
    this.expireTimer = setTimeout(() => {
      this.expireTimer = null;
      this.parser.expire(this.ctx.now());
      this.armExpiry();
    }, 110);
  }

  private onFault(kind: ParserFault, bytes: Buffer): void {
    const gate = this.faultLog.pass();
    if (!gate.ok) return;
    const held = gate.suppressed ? ` (${gate.suppressed} similar line(s) held back)` : '';
    this.ctx.log.warn(`${this.ctx.name}: ${kind} skipped: ${hex(bytes)}${held}`);
  }

  private onFrame(frame: NativeFrame): void {
    const { counters } = this.ctx;
    try {
      if (frame.type === NativeType.LiveRecord) {
        const { deviceMs, record } = decodeLive(frame.payload);
        this.live.push({ deviceMs, record, receivedMs: this.ctx.now() });
        this.wake?.();
        return;
      }
      const pending = this.outstanding;
      const known =
        frame.type === NativeType.Nak ||
        (frame.type >= (NativeType.Identify | REPLY_BIT) &&
          frame.type <= (NativeType.SetInterval | REPLY_BIT));
      if (!known) {
        counters.unknownMessages++;
        if (this.faultLog.pass().ok)
          this.ctx.log.warn(
            `${this.ctx.name}: unknown message type 0x${frame.type.toString(16)} skipped: ${hex(frame.payload)}`,
          );
        return;
      }
      if (!pending || frame.tag !== pending.tag) {
        counters.staleReplies++;
        return;
      }
      if (frame.type === NativeType.Nak) {
        const nak = decodeNak(frame.payload);
        counters.refusals++;
        this.outstanding = null;
        pending.reject(new NakError(nak.requestType, nak.code, nak.reason));
        return;
      }
      if (frame.type !== (pending.type | REPLY_BIT)) {
        counters.staleReplies++;
        return;
      }
      this.outstanding = null;
      pending.resolve(Buffer.from(frame.payload));
    } catch (error) {
      if (!(error instanceof MalformedPayloadError)) throw error;
      counters.unknownMessages++;
      this.ctx.log.warn(`${this.ctx.name}: ${error.message}: ${hex(frame.payload)}`);
    }
  }

  /** One request at a time (PROTOCOL.md §2), a fresh tag per attempt, retries on timeout and on "busy". */
  request(
    type: number,
    build: (tag: number) => Buffer,
    what: string,
  ): Promise<{ payload: Buffer; sentMs: number; receivedMs: number }> {
    const run = async (): Promise<{ payload: Buffer; sentMs: number; receivedMs: number }> => {
      for (let attempt = 0; attempt <= this.options.retries; attempt++) {
        if (this.signal.aborted) throw new SessionEndedError();
        this.tag = (this.tag % 255) + 1;
        const tag = this.tag;
        const reply = new Promise<Buffer>(
          (resolve, reject) => (this.outstanding = { tag, type, resolve, reject }),
        );
        // The session can end while the write is still in flight: that rejection is expected, not unhandled.
        reply.catch(() => undefined);
        const sentMs = this.ctx.now();
        try {
          await this.link.write(build(tag));
          const payload = await withTimeout(reply, this.options.replyTimeoutMs);
          if (payload) return { payload, sentMs, receivedMs: this.ctx.now() };
          this.ctx.counters.timeouts++;
        } catch (error) {
          if (error instanceof NakError && error.code === 4) {
            await pauseFor(50, this.signal);
            continue;
          }
          throw error;
        } finally {
          if (this.outstanding?.tag === tag) this.outstanding = null;
        }
      }
      throw new DeviceUnresponsiveError(what);
    };
    const next = this.lock.then(run, run);
    this.lock = next.catch(() => undefined);
    return next;
  }

  takeLive(): Live[] {
    return this.live.splice(0);
  }

  get liveWaiting(): number {
    return this.live.length;
  }

  /** Waits for a live record, or `ms`, or the end of the session. */
  waitLive(ms: number): Promise<void> {
    if (this.live.length > 0 || this.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(null), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * Our logger firmware (PROTOCOL.md). Session: IDENTIFY → catch up by DOWNLOAD from the spool's cursor →
 * live records; every delivery is spooled (fsync) before it is ACKed, so the device keeps anything the
 * bridge has not made durable. Re-identifies periodically (skew, battery, calibration due).
 */
export class NativeDriver implements DeviceDriver {
  readonly protocol = LoggerProtocol.Native;
  private readonly options: Required<NativeDriverOptions>;

  constructor(options: NativeDriverOptions = {}) {
    this.options = {
      replyTimeoutMs: options.replyTimeoutMs ?? 1_000,
      retries: options.retries ?? 3,
      identifyIntervalMs: options.identifyIntervalMs ?? 60_000,
      stallRetryMs: options.stallRetryMs ?? 5_000,
    };
  }

  async run(link: SerialLink, ctx: DriverContext, signal: AbortSignal): Promise<void> {
    const session = new NativeSession(link, ctx, signal, this.options);
    try {
      await new NativeLogger(session, ctx, signal, this.options).run();
    } catch (error) {
      if (error instanceof SessionEndedError || signal.aborted) return;
      throw error;
    }
  }
}

/** The logger-level logic of one session (cursor, gaps, spool-then-ack). */
class NativeLogger {
  private device!: IngestDevice;
  private calibrationDue: string | null = null;
  /** Skew of the last IDENTIFY: applied to downloaded records (PROTOCOL.md §6). */
  private skewMs = 0;
  /** Next sequence the bridge needs. */
  private expected = 0;
  private stalledUntil = 0;
  /**
   * After a SET_CLOCK: records from `fromSeq` on were stamped on the old clock until the first one flagged
   * "clock was set" (PROTOCOL.md §3.2), so they take the skew measured before the set.
   */
  private beforeSet: { fromSeq: number; skewMs: number } | null = null;
  private clockSettable = true;

  constructor(
    private readonly session: NativeSession,
    private readonly ctx: DriverContext,
    private readonly signal: AbortSignal,
    private readonly options: Required<NativeDriverOptions>,
  ) {}

  async run(): Promise<void> {
    let ident = await this.identify();
    let cursor = this.ctx.sink.cursor(this.device, '');
    if (cursor !== null && cursor >= ident.next) {
      // PROTOCOL.md §3.0 forbids it; a reflashed or swapped board might still do it. Never skip its data.
      this.ctx.log.error(
        `ALARM: ${this.ctx.name}: ${this.device.serial} numbers records from ${ident.next} but ${cursor} was ` +
          'already received: sequence went backwards; downloading everything it holds',
      );
      cursor = null;
    }
    // A crash between the fsync and the ACK leaves records both spooled and on the device: ACK them now.
    if (cursor !== null && cursor >= ident.lowest) await this.ack(cursor);
    this.expected = cursor === null ? ident.lowest : cursor + 1;
    await this.download();
    await this.keepClockRight();

    let identifyAt = this.ctx.now() + this.options.identifyIntervalMs;
    while (!this.signal.aborted) {
      await abortable(
        this.session.waitLive(Math.max(10, Math.min(identifyAt, this.nextStallRetry()) - this.ctx.now())),
        this.signal,
      );
      if (this.signal.aborted) break;
      if (this.session.liveWaiting > 0) await this.onLive(this.session.takeLive());
      if (this.stalledUntil > 0 && this.ctx.now() >= this.stalledUntil) await this.download();
      if (this.ctx.now() >= identifyAt) {
        ident = await this.identify();
        identifyAt = this.ctx.now() + this.options.identifyIntervalMs;
        // Live pushes are best effort: anything the device logged that we did not get, we fetch.
        if (ident.next > this.expected) await this.download();
        await this.keepClockRight();
      }
    }
  }

  private nextStallRetry(): number {
    return this.stalledUntil > 0 ? this.stalledUntil : Number.POSITIVE_INFINITY;
  }

  private async identify(): Promise<NativeIdentity> {
    const { payload, sentMs, receivedMs } = await this.session.request(
      NativeType.Identify,
      (tag) => identifyRequest(tag),
      'IDENTIFY',
    );
    const ident = decodeIdentify(payload);
    this.skewMs = skewOfExchange(ident.deviceMs, sentMs, receivedMs);
    this.calibrationDue = ident.calibrationDue;
    const device: IngestDevice = {
      protocol: LoggerProtocol.Native,
      serial: ident.serial,
      model: ident.model || 'unknown',
      firmware: ident.firmware,
    };
    if (ident.calibrationDue === UNREADABLE_CALIBRATION) {
      this.ctx.log.warn(
        `${this.ctx.name}: logger ${ident.serial} reports a calibration due date that is no date: its readings are marked uncalibrated`,
      );
    } else if (ident.calibrationDue) device.calibrationDue = ident.calibrationDue;
    const details = {
      batteryPct: ident.batteryPct,
      intervalS: ident.intervalS,
      missionRunning: ident.missionRunning,
      note: `ring ${ident.next - ident.lowest}/${ident.capacity}`,
    };
    if (!this.device) this.ctx.identified(device, details);
    else if (this.device.serial !== device.serial) {
      // A different logger behind the same link without a hang-up in between: start over for it.
      this.ctx.log.warn(`${this.ctx.name}: logger ${this.device.serial} was replaced by ${device.serial}`);
      this.ctx.identified(device, details);
      this.expected = (this.ctx.sink.cursor(device, '') ?? ident.lowest - 1) + 1;
    }
    this.device = device;
    this.ctx.contact(device, this.skewMs, details);
    return ident;
  }

  /**
   * PROTOCOL.md §6: a device clock off by more than the flag threshold (or never set since power loss) is set
   * to host time, but only once the device holds nothing unacknowledged, so that no stored record is
   * delivered later against the new clock. EU GMP Annex 11 §9 / 21 CFR 11.10(e): the change is logged with
   * the offset it removed.
   */
  private async keepClockRight(): Promise<void> {
    if (!this.clockSettable || Math.abs(this.skewMs) <= this.ctx.skew.flagMs || this.stalledUntil > 0) return;
    const ident = await this.identify();
    if (Math.abs(this.skewMs) <= this.ctx.skew.flagMs || ident.lowest !== ident.next) return;
    const oldSkew = this.skewMs;
    let payload: Buffer;
    try {
      ({ payload } = await this.session.request(
        NativeType.SetClock,
        (tag) => setClockRequest(tag, this.ctx.now()),
        'SET_CLOCK',
      ));
    } catch (error) {
      if (!(error instanceof NakError)) throw error;
      this.clockSettable = false;
      this.ctx.log.warn(
        `${this.ctx.name}: ${this.device.serial} refused SET_CLOCK (${error.message}); its readings stay corrected and flagged`,
      );
      return;
    }
    const set = decodeSetClock(payload);
    // A sample taken between our IDENTIFY and the set still carries the old clock.
    this.beforeSet = { fromSeq: ident.next, skewMs: oldSkew };
    this.ctx.log.info(
      `${this.ctx.name}: clock of ${this.device.serial} set to host time: it was ${new Date(set.beforeMs).toISOString()}, ` +
        `off by ${(oldSkew / 1000).toFixed(1)} s`,
    );
    await this.identify();
  }

  private skewFor(r: NativeRecord, deliverySkewMs: number): number {
    const b = this.beforeSet;
    if (!b || r.seq < b.fromSeq) return deliverySkewMs;
    if ((r.flags & RecordFlag.ClockSet) !== 0) {
      this.beforeSet = null;
      return deliverySkewMs;
    }
    return b.skewMs;
  }

  private toRecords(records: NativeRecord[], skewMs: number) {
    return records.map((r) =>
      toIngestRecord(
        {
          seq: r.seq,
          deviceMs: r.timeMs,
          temperatureC: r.temperatureC,
          humidityPct: r.humidityPct,
          sensorFault: (r.flags & RecordFlag.SensorFault) !== 0,
          clockUnset: (r.flags & RecordFlag.ClockUnset) !== 0,
        },
        this.skewFor(r, skewMs),
        this.ctx.skew,
        this.calibrationDue,
      ),
    );
  }

  /**
   * Spools, then ACKs what is durable. False when the spool refused all or part of it (full or failed): the
   * device keeps the rest, and a DOWNLOAD fetches it once there is room.
   */
  private async deliver(records: NativeRecord[], skewMs: number, live: boolean): Promise<boolean> {
    if (records.length === 0) return true;
    let durable: number;
    try {
      durable = await this.ctx.sink.append({
        device: this.device,
        mission: '',
        live,
        records: this.toRecords(records, skewMs),
      });
    } catch (error) {
      this.stall(error instanceof SpoolFullError ? 'spool full' : (error as Error).message);
      return false;
    }
    const last = records[durable - 1]!.seq;
    this.expected = last + 1;
    await this.ack(last);
    if (durable < records.length) {
      this.stall('spool full');
      return false;
    }
    if (this.stalledUntil > 0) {
      this.stalledUntil = 0;
      this.ctx.stalled(null);
    }
    return true;
  }

  private stall(reason: string): void {
    this.stalledUntil = this.ctx.now() + this.options.stallRetryMs;
    this.ctx.stalled(reason);
  }

  private async ack(upTo: number): Promise<void> {
    const { payload } = await this.session.request(
      NativeType.Ack,
      (tag) => ackRequest(tag, upTo),
      `ACK ${upTo}`,
    );
    decodeAck(payload);
  }

  /**
   * DOWNLOAD from `expected` until the device has nothing newer (PROTOCOL.md §3.3, §4). Several replies are
   * gathered per spool write and ACK: one fsync and one ACK per DOWNLOAD_BATCH replies, not per reply.
   */
  private async download(): Promise<void> {
    while (!this.signal.aborted) {
      const gathered: NativeRecord[] = [];
      let from = this.expected;
      let more = true;
      for (let i = 0; i < DOWNLOAD_BATCH && more; i++) {
        const at = from;
        const { payload } = await this.session.request(
          NativeType.Download,
          (tag) => downloadRequest(tag, at, MAX_DOWNLOAD),
          `DOWNLOAD ${at}`,
        );
        const reply = decodeDownload(payload);
        if (reply.lowest > from) {
          this.gap(from, reply.lowest);
          from = reply.lowest;
        }
        // Only the consecutive run starting where we are: a device bug must not open a hole in the cursor.
        let expectedSeq = from;
        const run = [];
        for (const r of reply.records) {
          if (r.seq < expectedSeq) continue;
          if (r.seq !== expectedSeq) break;
          run.push(r);
          expectedSeq++;
        }
        if (run.length === 0) more = false;
        else {
          for (const r of run) gathered.push(r);
          from = expectedSeq;
          if (from >= reply.next) more = false;
        }
      }
      if (gathered.length === 0) {
        this.expected = from;
        if (this.stalledUntil > 0 && !this.ctx.sink.full) {
          this.stalledUntil = 0;
          this.ctx.stalled(null);
        }
        return;
      }
      this.ctx.contact(this.device);
      if (!(await this.deliver(gathered, this.skewMs, false))) return;
      if (!more) return;
    }
  }

  private gap(from: number, lowest: number): void {
    this.ctx.counters.gaps++;
    this.ctx.counters.lostRecords += lowest - from;
    // PROTOCOL.md §4: the ring wrapped before we could read these; record the hole, never wait for it.
    this.ctx.log.warn(
      `${this.ctx.name}: ${this.device.serial} lost records ${from}–${lowest - 1} (ring wrapped before download)`,
    );
  }

  private async onLive(items: Live[]): Promise<void> {
    if (this.stalledUntil > 0) return; // the device keeps them; the stall retry downloads them
    const fresh = items.filter((l) => l.record.seq >= this.expected);
    if (fresh.length === 0) {
      // Only records we already have: the ACK may have been lost; repeat it so the device can free them.
      const top = items.reduce((m, l) => Math.max(m, l.record.seq), -1);
      if (top >= 0 && top < this.expected) await this.ack(this.expected - 1);
      return;
    }
    let contiguous = true;
    fresh.forEach((l, i) => {
      if (l.record.seq !== this.expected + i) contiguous = false;
    });
    if (!contiguous) {
      // A push went missing (noise): fetch the hole and everything after it by DOWNLOAD instead.
      await this.download();
      return;
    }
    const last = fresh[fresh.length - 1]!;
    const skewMs = skewOfPush(last.deviceMs, last.receivedMs);
    this.ctx.contact(this.device, skewMs);
    await this.deliver(
      fresh.map((l) => l.record),
      skewMs,
      true,
    );
  }
}
