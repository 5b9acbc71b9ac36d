import { type ClimateProfile, toFixedPoint } from './climate-profile.js';
import { type DeviceClock } from './device-clock.js';
import { type DeviceKind, type DeviceModel, DeviceModelBase } from './device-model.js';
import {
  ELITECH_RESPONSE,
  type ElitechParameters,
  type ElitechRequest,
  encodeElitechAck,
  encodeElitechHeader,
  encodeElitechInfo,
  encodeElitechPage,
  recogniseElitechRequest,
} from './elitech-codec.js';
import { FrameReader } from './frame-reader.js';
import { RecordRing } from './record-ring.js';
import { SampleSchedule } from './sample-schedule.js';
import { type SeededRandom } from './seeded-random.js';

export type ElitechVariant = 'rc4' | 'rc4hc' | 'rc5';

/** Per model: model byte, records per data page, memory (ELITECH.md). */
export const ELITECH_VARIANTS: Record<
  ElitechVariant,
  { kind: DeviceKind; modelCode: number; perPage: number; capacity: number; humidity: boolean }
> = {
  rc4: { kind: 'elitech-rc4', modelCode: 40, perPage: 100, capacity: 16_000, humidity: false },
  rc4hc: { kind: 'elitech-rc4hc', modelCode: 42, perPage: 200, capacity: 16_000, humidity: true },
  rc5: { kind: 'elitech-rc5', modelCode: 50, perPage: 500, capacity: 32_000, humidity: false },
};

/** The value the simulator stores for a failed sensor (ELITECH.md): not a temperature. */
export const ELITECH_SENSOR_FAULT = -32768;

export interface ElitechLoggerOptions {
  variant: ElitechVariant;
  /** Device number (info offset 138), at most 10 ASCII characters. */
  serial: string;
  clock: DeviceClock;
  climate: ClimateProfile;
  random: SeededRandom;
  station?: number;
  intervalS?: number;
  capacity?: number;
  /** Factory default 'stop' (status 2 when memory is full); 'wrap' overwrites the oldest. */
  whenFull?: 'stop' | 'wrap';
  upperC?: number;
  lowerC?: number;
  calibrationC?: number;
  userInfo?: string;
  /** Start logging at creation (default true). */
  started?: boolean;
  missRate?: number;
}

interface ElitechRecord {
  tenthsC: number;
  tenthsRh: number;
}

/** A partial request is dropped after this much line silence (ELITECH.md). */
const INTER_BYTE_TIMEOUT_MS = 500;

export class ElitechLogger extends DeviceModelBase implements DeviceModel {
  readonly kind: DeviceKind;
  private readonly variant: (typeof ELITECH_VARIANTS)[ElitechVariant];
  private readonly capacity: number;
  private readonly whenFull: 'stop' | 'wrap';
  private readonly reader = new FrameReader(recogniseElitechRequest, INTER_BYTE_TIMEOUT_MS);
  private readonly schedule: SampleSchedule;
  private ring: RecordRing<ElitechRecord>;
  private station: number;
  private deviceNumber: string;
  private userInfo: string;
  private status: 0 | 1 | 2 = 0;
  /** Device wall clock at the first sample of the mission: the origin of the index timeline. */
  private missionStartWallMs: number | null = null;
  private lastOnlineMs: number | null = null;
  private parameters: Omit<ElitechParameters, 'intervalS' | 'newStation'>;

  constructor(options: ElitechLoggerOptions) {
    super(options.clock, options.climate, options.random);
    this.variant = ELITECH_VARIANTS[options.variant];
    this.kind = this.variant.kind;
    this.capacity = options.capacity ?? this.variant.capacity;
    this.whenFull = options.whenFull ?? 'stop';
    this.ring = new RecordRing(this.capacity);
    this.station = options.station ?? 1;
    this.deviceNumber = options.serial.slice(0, 10);
    this.userInfo = options.userInfo ?? 'lyotrace simulated logger';
    this.schedule = new SampleSchedule(
      (options.intervalS ?? 60) * 1000,
      options.random,
      options.missRate ?? 0,
    );
    this.parameters = {
      upperTenthsC: toFixedPoint(options.upperC ?? 8, 10),
      lowerTenthsC: toFixedPoint(options.lowerC ?? 2, 10),
      stopButton: 0x31,
      delayCode: 0,
      tone: 0x31,
      alarm: 0,
      unit: 0x31,
      calibrationTenthsC: toFixedPoint(options.calibrationC ?? 0, 10),
      humidityUpperTenths: this.variant.humidity ? 800 : 0,
      humidityLowerTenths: this.variant.humidity ? 200 : 0,
      humidityCalibrationTenths: 0,
    };
    if (options.started ?? true) this.startMission(this.clock.oscillatorMs());
  }

  get serial(): string {
    return this.deviceNumber;
  }

  /** Records held and the device-clock time of the first, as the data header reports them. */
  get held(): { count: number; startMs: number | null; status: 0 | 1 | 2 } {
    this.catchUp();
    return { count: this.ring.size, startMs: this.heldStartMs(), status: this.status };
  }

  /** A mission that began `count − 1` intervals ago: `count` samples are due now (fewer if memory fills). */
  prefill(count: number): void {
    this.startMission(this.clock.oscillatorMs() - (count - 1) * this.schedule.intervalMs);
    this.catchUp();
  }

  /** The stop button: the logger keeps its records and stops sampling. */
  stopMission(): void {
    this.catchUp();
    this.schedule.stop();
    if (this.status === 1) this.status = 2;
  }

  receive(bytes: Buffer, realNowMs: number): Buffer[] {
    if (!this.clock.powered) return [];
    this.catchUp();
    const replies: Buffer[] = [];
    for (const request of this.reader.push(bytes, realNowMs)) {
      const reply = this.answer(request);
      if (reply) replies.push(reply);
    }
    return replies;
  }

  tick(): Buffer[] {
    this.catchUp();
    return [];
  }

  corruptCheck(frame: Buffer): Buffer {
    const copy = Buffer.from(frame);
    const last = copy.length - 1;
    copy[last] = ((copy[last] ?? 0) + 1) & 0xff;
    return copy;
  }

  longLine(random: SeededRandom): Buffer {
    return random.bytes(4096, [ELITECH_RESPONSE]);
  }

  powerOff(): void {
    this.catchUp();
    this.clock.powerOff();
    this.reader.reset();
  }

  powerOn(): void {
    this.clock.powerOn();
  }

  disconnected(): void {
    this.reader.reset();
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
      if (tick.missed) continue;
      if (this.ring.full && this.whenFull === 'stop') {
        // Factory setting: a full logger stops (status 2) rather than overwrite the start of its mission.
        this.schedule.stop();
        this.status = 2;
        break;
      }
      const hostMs = this.clock.hostAt(tick.oscillatorMs);
      const tenthsC = this.sensorFault
        ? ELITECH_SENSOR_FAULT
        : clampInt16(toFixedPoint(this.temperatureAt(hostMs), 10) + this.parameters.calibrationTenthsC);
      const tenthsRh = clampInt16(
        toFixedPoint(this.climate.humidityAt(hostMs), 10) + this.parameters.humidityCalibrationTenths,
      );
      this.ring.push({ tenthsC, tenthsRh });
    }
  }

  private startMission(firstAtOscillatorMs: number): void {
    this.ring = new RecordRing(this.capacity);
    this.status = 1;
    this.missionStartWallMs = this.clock.wallAt(firstAtOscillatorMs);
    this.schedule.start(firstAtOscillatorMs);
  }

  /** Records carry no time: record n (from 1) was taken at start + (n − 1) × interval on the device clock. */
  private heldStartMs(): number | null {
    if (this.missionStartWallMs === null) return null;
    return this.missionStartWallMs + (this.ring.lowest - 1) * this.schedule.intervalMs;
  }

  private answer(request: ElitechRequest): Buffer | null {
    if (request.kind === 'handshake') return encodeElitechAck(0xa5);
    if (request.kind === 'device-info') {
      const nowMs = this.clock.wallMs();
      const reply = encodeElitechInfo({
        ...this.parameters,
        station: this.station,
        modelCode: this.variant.modelCode,
        intervalS: Math.round(this.schedule.intervalMs / 1000),
        lastOnlineMs: this.lastOnlineMs,
        status: this.status,
        startMs: this.status === 0 ? null : this.heldStartMs(),
        recordCount: this.ring.size,
        nowMs,
        userInfo: this.userInfo,
        deviceNumber: this.deviceNumber,
      });
      this.lastOnlineMs = nowMs;
      return reply;
    }
    // Station-addressed requests for another station are not ours: silence, as on a shared bus.
    if (request.station !== this.station) return null;
    switch (request.kind) {
      case 'data-header':
        return encodeElitechHeader(this.ring.size, this.status === 0 ? null : this.heldStartMs());
      case 'data-page': {
        const perPage = this.variant.perPage;
        const records = this.ring.from(this.ring.lowest + request.page * perPage, perPage);
        return encodeElitechPage(
          records.map(({ record }) =>
            this.variant.humidity ? [record.tenthsC, record.tenthsRh] : [record.tenthsC],
          ),
        );
      }
      case 'set-clock':
        // Only the clock changes: the stored index timeline keeps its origin (ELITECH.md).
        this.clock.setWall(request.wallMs);
        return encodeElitechAck(0xa3);
      case 'set-parameters': {
        const { intervalS, newStation, ...rest } = request.parameters;
        if (intervalS < 1) return null;
        this.parameters = { ...rest, unit: 0x31 };
        this.station = newStation;
        this.schedule.setInterval(intervalS * 1000);
        // A new configuration clears the memory and starts a new mission (ELITECH.md).
        this.startMission(this.clock.oscillatorMs());
        this.catchUp();
        return encodeElitechAck(0xa0);
      }
      case 'set-device-number':
        this.deviceNumber = request.deviceNumber;
        return encodeElitechAck(0xa7);
      case 'set-user-info':
        this.userInfo = request.userInfo;
        return encodeElitechAck(0xab);
    }
  }
}

function clampInt16(value: number): number {
  return Math.max(-32767, Math.min(32767, value));
}
