import { type ClimateProfile, toFixedPoint } from './climate-profile.js';
import { type DeviceClock } from './device-clock.js';
import { type DeviceModel, DeviceModelBase } from './device-model.js';
import { FrameReader } from './frame-reader.js';
import {
  NATIVE_SOF,
  NakCode,
  type NativeFrame,
  type NativeRecord,
  NativeType,
  NO_HUMIDITY,
  RecordFlag,
  SENSOR_FAULT_CENTI_C,
  encodeDownloadPayload,
  encodeIdentifyPayload,
  encodeLiveRecordPayload,
  encodeNativeFrame,
  recogniseNativeFrame,
} from './native-codec.js';
import { RecordRing } from './record-ring.js';
import { SampleSchedule } from './sample-schedule.js';
import { type SeededRandom } from './seeded-random.js';

export interface NativeLoggerOptions {
  serial: string;
  clock: DeviceClock;
  climate: ClimateProfile;
  random: SeededRandom;
  model?: string;
  firmware?: readonly [number, number, number];
  intervalS?: number;
  capacity?: number;
  batteryPct?: number;
  calibrationDue?: { year: number; month: number; day: number } | null;
  /** Has an RH sensor (otherwise RH is 0xFFFF, "not measured"). */
  humidity?: boolean;
  missionRunning?: boolean;
  /** Sequence the first record gets (PROTOCOL.md: starts at 1 and is never reset). */
  firstSeq?: number;
  missRate?: number;
}

/** PROTOCOL.md §1 step 6. */
const PARTIAL_FRAME_TIMEOUT_MS = 100;
/** PROTOCOL.md §3.8: a host counts as connected for 60 s after any valid request. */
const HOST_CONNECTED_MS = 60_000;
const BATTERY_LOW_PCT = 20;
const MAX_DOWNLOAD = 64;
const MAX_INTERVAL_S = 86_400;

/** Fixed payload sizes of the requests (PROTOCOL.md §3); shorter → NAK 2, longer → extra bytes ignored. */
const REQUEST_PAYLOAD: Record<number, number> = {
  [NativeType.identify]: 0,
  [NativeType.setClock]: 8,
  [NativeType.download]: 5,
  [NativeType.ack]: 4,
  [NativeType.missionStart]: 0,
  [NativeType.missionStop]: 0,
  [NativeType.setInterval]: 4,
};

/** Our native logger (firmware-bridge/PROTOCOL.md v1), emulated from the specification only. */
export class NativeLogger extends DeviceModelBase implements DeviceModel {
  readonly kind = 'native' as const;
  readonly serial: string;
  private readonly reader = new FrameReader(recogniseNativeFrame, PARTIAL_FRAME_TIMEOUT_MS, 2048);
  private readonly schedule: SampleSchedule;
  private readonly ring: RecordRing<NativeRecord>;
  private readonly options: NativeLoggerOptions;
  // Kept across power loss (flash): ring, acked, interval, mission state (PROTOCOL.md §3.5).
  private acked: number;
  private missionRunning: boolean;
  private batteryPct: number;
  // Volatile.
  private clockSetSinceLastRecord = false;
  private clockUnset = false;
  private hostSeenAtOscillatorMs: number | null = null;
  private pendingLive: Buffer[] = [];

  constructor(options: NativeLoggerOptions) {
    super(options.clock, options.climate, options.random);
    this.options = options;
    this.serial = options.serial.slice(0, 16);
    const firstSeq = options.firstSeq ?? 1;
    this.ring = new RecordRing(options.capacity ?? 50_000, firstSeq);
    this.acked = firstSeq - 1;
    this.batteryPct = options.batteryPct ?? 100;
    this.schedule = new SampleSchedule(
      (options.intervalS ?? 60) * 1000,
      options.random,
      options.missRate ?? 0,
    );
    this.missionRunning = options.missionRunning ?? true;
    if (this.missionRunning) this.schedule.start(this.clock.oscillatorMs());
  }

  /** Held sequences [lowest, next) and the highest acknowledged. */
  get state(): { lowest: number; next: number; acked: number; missionRunning: boolean; intervalS: number } {
    this.catchUp();
    return {
      lowest: this.ring.lowest,
      next: this.ring.next,
      acked: this.acked,
      missionRunning: this.missionRunning,
      intervalS: this.schedule.intervalMs / 1000,
    };
  }

  /** Held records from `from` (test inspection). */
  records(from = 0, max = Number.MAX_SAFE_INTEGER): NativeRecord[] {
    this.catchUp();
    return this.ring.from(from, max).map(({ record }) => record);
  }

  /** `count` samples ending now, as if the mission had been running for (count − 1) intervals. */
  prefill(count: number): void {
    this.missionRunning = true;
    this.schedule.start(this.clock.oscillatorMs() - (count - 1) * this.schedule.intervalMs);
    this.catchUp();
  }

  setBattery(pct: number): void {
    this.catchUp();
    this.batteryPct = pct;
  }

  receive(bytes: Buffer, realNowMs: number): Buffer[] {
    if (!this.clock.powered) return [];
    this.catchUp();
    const out = this.takeLive();
    for (const frame of this.reader.push(bytes, realNowMs)) {
      const reply = this.answer(frame);
      if (reply) out.push(reply);
    }
    return out;
  }

  tick(): Buffer[] {
    this.catchUp();
    return this.takeLive();
  }

  corruptCheck(frame: Buffer): Buffer {
    const copy = Buffer.from(frame);
    const last = copy.length - 1;
    copy[last] = (copy[last] ?? 0) ^ 0x5a;
    return copy;
  }

  longLine(random: SeededRandom): Buffer {
    return random.bytes(4096, [NATIVE_SOF]);
  }

  powerOff(): void {
    this.catchUp();
    this.clock.powerOff();
    this.reader.reset();
    this.hostSeenAtOscillatorMs = null;
    this.pendingLive = [];
    this.clockSetSinceLastRecord = false;
  }

  powerOn(): void {
    if (this.clock.powered) return;
    this.clock.powerOn();
    // PROTOCOL.md §3.0 bit3: the clock restarts from 1970 and says so until the host sets it.
    this.clockUnset = true;
  }

  disconnected(): void {
    this.reader.reset();
    this.hostSeenAtOscillatorMs = null;
  }

  missSamples(count: number): void {
    this.catchUp();
    this.schedule.missSamples(count);
  }

  setMissRate(rate: number): void {
    this.catchUp();
    this.schedule.missRate = rate;
  }

  protected catchUp(): void {
    if (!this.clock.powered) return;
    for (const tick of this.schedule.due(this.clock.oscillatorMs())) {
      // A missed sample leaves a hole in time, not in sequence: seq counts records (PROTOCOL.md §3.0).
      if (tick.missed) continue;
      const record = this.sample(tick.oscillatorMs);
      this.ring.push(record);
      const seen = this.hostSeenAtOscillatorMs;
      if (seen !== null && tick.oscillatorMs >= seen && tick.oscillatorMs - seen <= HOST_CONNECTED_MS) {
        this.pendingLive.push(
          encodeNativeFrame(NativeType.liveRecord, 0, encodeLiveRecordPayload(this.clock.wallMs(), record)),
        );
      }
    }
  }

  private sample(oscillatorMs: number): NativeRecord {
    const hostMs = this.clock.hostAt(oscillatorMs);
    let flags = 0;
    let centiC: number;
    if (this.sensorFault) {
      centiC = SENSOR_FAULT_CENTI_C;
      flags |= RecordFlag.sensorFault;
    } else {
      centiC = Math.max(-32767, Math.min(32767, toFixedPoint(this.temperatureAt(hostMs), 100)));
    }
    const centiRh = this.options.humidity
      ? Math.max(0, Math.min(10_000, toFixedPoint(this.climate.humidityAt(hostMs), 100)))
      : NO_HUMIDITY;
    if (this.clockSetSinceLastRecord) flags |= RecordFlag.clockSet;
    if (this.batteryPct < BATTERY_LOW_PCT) flags |= RecordFlag.batteryLow;
    if (this.clockUnset) flags |= RecordFlag.clockUnset;
    this.clockSetSinceLastRecord = false;
    const timeS = Math.max(0, Math.min(0xffffffff, Math.floor(this.clock.wallAt(oscillatorMs) / 1000)));
    return { seq: this.ring.next, timeS, centiC, centiRh, flags };
  }

  private takeLive(): Buffer[] {
    const live = this.pendingLive;
    this.pendingLive = [];
    return live;
  }

  private answer(frame: NativeFrame): Buffer | null {
    const { type, tag, payload } = frame;
    const nak = (code: number): Buffer => encodeNativeFrame(NativeType.nak, tag, Buffer.from([type, code]));
    const required = REQUEST_PAYLOAD[type];
    if (required === undefined) return nak(NakCode.unknownType);
    if (payload.length < required) return nak(NakCode.badLength);
    this.hostSeenAtOscillatorMs = this.clock.oscillatorMs();
    const reply = (body: Buffer): Buffer => encodeNativeFrame(0x80 | type, tag, body);

    switch (type) {
      case NativeType.identify:
        return reply(
          encodeIdentifyPayload({
            serial: this.serial,
            model: this.options.model ?? 'LT-N1',
            firmware: this.options.firmware ?? [1, 0, 0],
            intervalS: this.schedule.intervalMs / 1000,
            batteryPct: this.batteryPct,
            missionRunning: this.missionRunning,
            calibrationDue: this.options.calibrationDue ?? null,
            clockMs: this.clock.wallMs(),
            lowest: this.ring.lowest,
            next: this.ring.next,
            capacity: this.ring.capacity,
          }),
        );
      case NativeType.setClock: {
        const wanted = Number(payload.readBigInt64LE(0));
        if (wanted < 0 || wanted / 1000 > 0xffffffff) return nak(NakCode.badArgument);
        const before = this.clock.wallMs();
        this.clock.setWall(wanted);
        this.clockSetSinceLastRecord = true;
        this.clockUnset = false;
        const body = Buffer.alloc(16);
        body.writeBigInt64LE(BigInt(Math.floor(before)), 0);
        body.writeBigInt64LE(BigInt(Math.floor(this.clock.wallMs())), 8);
        return reply(body);
      }
      case NativeType.download: {
        const from = payload.readUInt32LE(0);
        const max = payload[4] ?? 0;
        if (max < 1 || max > MAX_DOWNLOAD) return nak(NakCode.badArgument);
        const records = this.ring.from(from, max).map(({ record }) => record);
        return reply(encodeDownloadPayload(this.ring.lowest, this.ring.next, records));
      }
      case NativeType.ack: {
        const upTo = payload.readUInt32LE(0);
        if (upTo >= this.ring.next) return nak(NakCode.badArgument);
        this.acked = Math.max(this.acked, upTo);
        this.ring.freeUpTo(this.acked);
        const body = Buffer.alloc(8);
        body.writeUInt32LE(this.acked >>> 0, 0);
        body.writeUInt32LE(this.ring.lowest >>> 0, 4);
        return reply(body);
      }
      case NativeType.missionStart:
      case NativeType.missionStop: {
        const start = type === NativeType.missionStart;
        if (start && !this.missionRunning) this.schedule.start(this.clock.oscillatorMs());
        if (!start) this.schedule.stop();
        this.missionRunning = start;
        const body = Buffer.alloc(5);
        body[0] = start ? 1 : 0;
        body.writeUInt32LE(this.ring.next >>> 0, 1);
        return reply(body);
      }
      case NativeType.setInterval: {
        const seconds = payload.readUInt32LE(0);
        if (seconds < 1 || seconds > MAX_INTERVAL_S) return nak(NakCode.badArgument);
        this.schedule.setInterval(seconds * 1000);
        const body = Buffer.alloc(4);
        body.writeUInt32LE(seconds, 0);
        return reply(body);
      }
      default:
        return nak(NakCode.unknownType);
    }
  }
}
