import { type IngestDevice, LoggerProtocol } from '@lyotrace/contracts';
import { LogThrottle } from '../bridge-log.js';
import { hex } from '../codec/checksums.js';
import { skewOfExchange, toIngestRecord } from '../clock/skew-policy.js';
import {
  type DeviceDriver,
  DeviceUnresponsiveError,
  type DriverContext,
  pauseFor,
  SessionEndedError,
} from '../devices/device-driver.js';
import { ReplyReader } from '../devices/reply-reader.js';
import type { SerialLink } from '../serial/serial-link.js';
import { SpoolFullError } from '../spool/spool.js';
import {
  dataHeaderRequest,
  dataPageRequest,
  decodeDataHeader,
  decodeDeviceInfo,
  decodePage,
  deviceInfoRequest,
  DEVICE_INFO_BYTES,
  type ElitechDeviceInfo,
  HEADER_REPLY_BYTES,
  initRequest,
  pageReplyBytes,
  replyValid,
} from './elitech-protocol.js';

export interface ElitechDriverOptions {
  pollIntervalMs?: number;
  replyTimeoutMs?: number;
  retries?: number;
  /** The device does not report one: from the port configuration. */
  calibrationDue?: string;
}

/**
 * Elitech RC-4 / RC-4HC / RC-5 over USB-serial. Every poll: handshake, device info (identity, clock →
 * skew), data header (count, mission start), then only the pages holding records the spool does not have.
 * Records carry no time: time = mission start + index × interval on the device clock (COLD-CHAIN.md), and
 * their identity is (device number, mission start, index). The logger has no acknowledgement: it keeps its
 * mission until someone starts a new one, so the spool's cursor alone decides what is new.
 */
export class ElitechDriver implements DeviceDriver {
  readonly protocol = LoggerProtocol.Elitech;
  private readonly pollIntervalMs: number;
  private readonly replyTimeoutMs: number;
  private readonly retries: number;

  constructor(private readonly options: ElitechDriverOptions = {}) {
    this.pollIntervalMs = options.pollIntervalMs ?? 60_000;
    this.replyTimeoutMs = options.replyTimeoutMs ?? 1_500;
    this.retries = options.retries ?? 2;
  }

  async run(link: SerialLink, ctx: DriverContext, signal: AbortSignal): Promise<void> {
    const reader = new ReplyReader(link, signal);
    const faults = new LogThrottle();
    let known: IngestDevice | null = null;

    /** One request, one fixed-length reply, checked; retried with the stale bytes thrown away. */
    const exchange = async (
      request: Buffer,
      bytes: number,
      what: string,
      check: (r: Buffer) => boolean = replyValid,
    ): Promise<{ reply: Buffer; sentMs: number; receivedMs: number }> => {
      for (let attempt = 0; attempt <= this.retries; attempt++) {
        const stale = reader.discard();
        if (stale.length > 0) {
          ctx.counters.garbageBytes += stale.length;
          if (faults.pass().ok) ctx.log.warn(`${ctx.name}: unexpected bytes skipped: ${hex(stale)}`);
        }
        const sentMs = ctx.now();
        await link.write(request);
        const reply = await reader.read(bytes, this.replyTimeoutMs);
        if (!reply) {
          ctx.counters.timeouts++;
          continue;
        }
        if (!check(reply)) {
          ctx.counters.badChecksum++;
          if (faults.pass().ok) ctx.log.warn(`${ctx.name}: ${what}: bad reply skipped: ${hex(reply)}`);
          // Let the rest of a garbled reply arrive, so that the retry starts clean.
          await pauseFor(50, signal);
          continue;
        }
        ctx.counters.framesOk++;
        return { reply, sentMs, receivedMs: ctx.now() };
      }
      throw new DeviceUnresponsiveError(what);
    };

    try {
      while (!signal.aborted) {
        known = await this.poll(ctx, exchange, reader, signal, known);
        await pauseFor(this.pollIntervalMs, signal);
      }
    } catch (error) {
      if (error instanceof SessionEndedError || signal.aborted) return;
      throw error;
    } finally {
      reader.close();
    }
  }

  private async poll(
    ctx: DriverContext,
    exchange: (
      request: Buffer,
      bytes: number,
      what: string,
      check?: (r: Buffer) => boolean,
    ) => Promise<{ reply: Buffer; sentMs: number; receivedMs: number }>,
    reader: ReplyReader,
    signal: AbortSignal,
    known: IngestDevice | null,
  ): Promise<IngestDevice> {
    // Handshake: 55 A5, with or without a trailing checksum byte, which the pause lets arrive and go.
    await exchange(initRequest(), 2, 'handshake', (r) => r[0] === 0x55 && r[1] === 0xa5);
    await pauseFor(20, signal);
    reader.discard();

    const infoReply = await exchange(deviceInfoRequest(), DEVICE_INFO_BYTES, 'device info');
    const info = decodeDeviceInfo(infoReply.reply);
    if (!info.model) {
      ctx.counters.unknownMessages++;
      throw new Error(`unknown Elitech model code ${info.modelCode} (RC-4 = 40, RC-4HC = 42, RC-5 = 50)`);
    }
    const device = this.deviceOf(ctx, info);
    const skewMs =
      info.deviceMs === null
        ? undefined
        : skewOfExchange(info.deviceMs, infoReply.sentMs, infoReply.receivedMs);
    const details = {
      intervalS: info.intervalS,
      missionRunning: info.workStatus === 1,
      note: `${info.recordCount} record(s), status ${['not started', 'logging', 'stopped', 'delayed start'][info.workStatus] ?? info.workStatus}`,
    };
    if (!known || known.serial !== device.serial) ctx.identified(device, details);
    ctx.contact(device, skewMs, details);

    const header = decodeDataHeader(
      (await exchange(dataHeaderRequest(info.station), HEADER_REPLY_BYTES, 'data header')).reply,
    );
    if (header.recordCount === 0 || header.startMs === null || info.intervalS === 0) return device;
    const intervalMs = info.intervalS * 1000;
    const { mission, offset } = this.missionOf(
      ctx,
      device,
      header.startMs,
      header.recordCount,
      intervalMs,
      info,
    );
    this.checkTimeline(ctx, device, info, header.recordCount, mission);
    // In device indexes: the record at index i has identity (mission, offset + i).
    const cursor = Math.max(-1, (ctx.sink.cursor(device, mission) ?? offset - 1) - offset);
    if (cursor + 1 >= header.recordCount) {
      ctx.stalled(null);
      return device;
    }
    const model = info.model;
    for (
      let page = Math.floor((cursor + 1) / model.pageSize);
      page * model.pageSize < header.recordCount;
      page++
    ) {
      if (signal.aborted) break;
      const bytes = pageReplyBytes(model, header.recordCount, page);
      const { reply } = await exchange(dataPageRequest(info.station, page), bytes, `data page ${page}`);
      const values = decodePage(model, reply);
      const first = page * model.pageSize;
      const records = [];
      for (let i = 0; i < values.length; i++) {
        const index = first + i;
        if (index <= cursor) continue;
        const v = values[i]!;
        records.push(
          toIngestRecord(
            {
              seq: offset + index,
              deviceMs: header.startMs + index * intervalMs,
              temperatureC: v.temperatureC,
              humidityPct: v.humidityPct,
              sensorFault: v.temperatureC === null,
            },
            skewMs ?? 0,
            ctx.skew,
            this.options.calibrationDue,
          ),
        );
      }
      try {
        const durable = await ctx.sink.append({ device, mission, live: false, records });
        if (durable < records.length) {
          ctx.stalled('spool full');
          return device;
        }
      } catch (error) {
        // No acknowledgement to withhold: the logger keeps its mission; the next poll tries again.
        ctx.stalled(error instanceof SpoolFullError ? 'spool full' : (error as Error).message);
        return device;
      }
    }
    ctx.stalled(null);
    return device;
  }

  /**
   * The identity namespace of the records: the mission start. In loop recording a full logger drops its
   * oldest record and moves `start` forward by one interval: still the same mission, whose indexes now
   * begin at an offset. Recognised when the logger is at capacity and `start` moved by whole intervals from
   * a mission the spool already knows; otherwise every poll would re-number the same readings.
   */
  private missionOf(
    ctx: DriverContext,
    device: IngestDevice,
    startMs: number,
    count: number,
    intervalMs: number,
    info: ElitechDeviceInfo,
  ): { mission: string; offset: number } {
    const own = new Date(startMs).toISOString();
    if (ctx.sink.cursor(device, own) !== null || !info.model || count < info.model.capacity)
      return { mission: own, offset: 0 };
    for (const known of ctx.sink.cursors(device)) {
      const from = Date.parse(known.mission);
      const shift = startMs - from;
      if (Number.isNaN(from) || shift <= 0 || shift % intervalMs !== 0) continue;
      const offset = shift / intervalMs;
      if (offset > known.seq + 1) {
        ctx.counters.gaps++;
        ctx.counters.lostRecords += offset - known.seq - 1;
        ctx.log.warn(
          `${ctx.name}: ${device.serial} overwrote records ${known.seq + 1}–${offset - 1} of mission ${known.mission} before they were read`,
        );
      }
      return { mission: known.mission, offset };
    }
    return { mission: own, offset: 0 };
  }

  private readonly warnedTimeline = new Set<string>();

  /**
   * A logging device should hold one record per interval since `start`. Fewer means samples were not taken
   * (power loss, missed samples): every record after the hole is stamped early, and only the operator can
   * tell where the hole is. Said once per mission, and counted as a gap.
   */
  private checkTimeline(
    ctx: DriverContext,
    device: IngestDevice,
    info: ElitechDeviceInfo,
    count: number,
    mission: string,
  ): void {
    if (info.workStatus !== 1 || info.deviceMs === null || info.startMs === null || info.intervalS === 0)
      return;
    const due = Math.floor((info.deviceMs - info.startMs) / (info.intervalS * 1000)) + 1;
    if (due - count <= 1 || this.warnedTimeline.has(`${device.serial}|${mission}`)) return;
    this.warnedTimeline.add(`${device.serial}|${mission}`);
    ctx.counters.gaps++;
    ctx.log.warn(
      `${ctx.name}: ${device.serial} holds ${count} records but ${due} intervals passed since its mission began: ` +
        `${due - count} samples were not taken (power loss?); the readings after that hole are stamped early`,
    );
  }

  private deviceOf(ctx: DriverContext, info: ElitechDeviceInfo): IngestDevice {
    let serial = info.deviceNumber;
    if (!/^[\x21-\x7e][\x20-\x7e]*$/.test(serial)) {
      // Never programmed: the station number is all there is; say so, it is weaker than a serial.
      serial = `station-${info.station}`;
      ctx.log.warn(`${ctx.name}: Elitech logger without a device number; identified as ${serial}`);
    }
    const device: IngestDevice = {
      protocol: LoggerProtocol.Elitech,
      serial: serial.trim(),
      model: info.model!.name,
    };
    if (this.options.calibrationDue) device.calibrationDue = this.options.calibrationDue;
    return device;
  }
}
