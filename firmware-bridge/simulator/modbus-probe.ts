import { type ClimateProfile, toFixedPoint } from './climate-profile.js';
import { type DeviceClock } from './device-clock.js';
import { type DeviceModel, DeviceModelBase } from './device-model.js';
import { FrameReader } from './frame-reader.js';
import {
  MODBUS_EXCEPTION,
  type ModbusRequest,
  encodeExceptionReply,
  encodeReadRegistersReply,
  encodeWriteSingleReply,
  recogniseModbusRequest,
} from './modbus-rtu-codec.js';
import { type SeededRandom } from './seeded-random.js';

export interface ModbusProbeOptions {
  serial: string;
  clock: DeviceClock;
  climate: ClimateProfile;
  random: SeededRandom;
  /** Slave address (XY-MD02 default 1). */
  address?: number;
  missRate?: number;
}

/** Line silence that ends a partial RTU frame. t3.5 at 9600 baud is 4 ms; a pty and a busy event loop need more. */
const RTU_SILENCE_MS = 50;
/** XY-MD02 holding registers: slave address, baud-rate code (0 = 9600, 1 = 14400, 2 = 19200). */
const HOLDING_ADDRESS = 0x0101;
const HOLDING_BAUD = 0x0102;
const MAX_READ = 125;

/**
 * An XY-MD02/SHT20 RS-485 probe: input register 1 = temperature × 10 (signed), 2 = RH × 10. It has no memory
 * and no clock: the bridge's polling is the timeline, so drift settings do nothing here, and a "missed sample"
 * is a read it does not answer.
 */
export class ModbusProbe extends DeviceModelBase implements DeviceModel {
  readonly kind = 'modbus' as const;
  readonly serial: string;
  private readonly reader = new FrameReader(recogniseModbusRequest, RTU_SILENCE_MS, 512);
  private address: number;
  private baudCode = 0;
  private missNext = 0;
  private missRate: number;

  constructor(options: ModbusProbeOptions) {
    super(options.clock, options.climate, options.random);
    this.serial = options.serial;
    this.address = options.address ?? 1;
    this.missRate = options.missRate ?? 0;
  }

  receive(bytes: Buffer, realNowMs: number): Buffer[] {
    if (!this.clock.powered) return [];
    const replies: Buffer[] = [];
    for (const request of this.reader.push(bytes, realNowMs)) {
      const reply = this.answer(request);
      if (reply) replies.push(reply);
    }
    return replies;
  }

  tick(): Buffer[] {
    return [];
  }

  corruptCheck(frame: Buffer): Buffer {
    const copy = Buffer.from(frame);
    const last = copy.length - 1;
    copy[last] = (copy[last] ?? 0) ^ 0xff;
    return copy;
  }

  longLine(random: SeededRandom): Buffer {
    return random.bytes(4096);
  }

  powerOff(): void {
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
    this.missNext += count;
  }

  setMissRate(rate: number): void {
    this.missRate = rate;
  }

  protected catchUp(): void {
    // Nothing accumulates: the probe measures when asked.
  }

  private answer(request: ModbusRequest): Buffer | null {
    const { address, functionCode, data } = request;
    // Modbus: a broadcast (address 0) is never answered; another slave's request is not ours.
    if (address !== this.address && address !== 0) return null;
    const broadcast = address === 0;
    const exception = (code: number): Buffer | null =>
      broadcast ? null : encodeExceptionReply(this.address, functionCode, code);

    if (functionCode === 0x04 || functionCode === 0x03) {
      if (broadcast || data.length < 4) return null;
      if (this.missNext > 0 || (this.missRate > 0 && this.random.next() < this.missRate)) {
        if (this.missNext > 0) this.missNext--;
        return null;
      }
      const start = data.readUInt16BE(0);
      const quantity = data.readUInt16BE(2);
      if (quantity < 1 || quantity > MAX_READ) return exception(MODBUS_EXCEPTION.illegalDataValue);
      const values: number[] = [];
      for (let register = start; register < start + quantity; register++) {
        const value = functionCode === 0x04 ? this.inputRegister(register) : this.holdingRegister(register);
        if (value === null) return exception(MODBUS_EXCEPTION.illegalDataAddress);
        values.push(value);
      }
      if (functionCode === 0x04 && this.sensorFault) return exception(MODBUS_EXCEPTION.serverDeviceFailure);
      return encodeReadRegistersReply(this.address, functionCode, values);
    }
    if (functionCode === 0x06) {
      if (data.length < 4) return null;
      const register = data.readUInt16BE(0);
      const value = data.readUInt16BE(2);
      if (register === HOLDING_ADDRESS && value >= 1 && value <= 247) {
        const reply = encodeWriteSingleReply(this.address, register, value);
        this.address = value;
        return broadcast ? null : reply;
      }
      if (register === HOLDING_BAUD && value <= 2) {
        this.baudCode = value;
        return broadcast ? null : encodeWriteSingleReply(this.address, register, value);
      }
      return exception(
        register === HOLDING_ADDRESS || register === HOLDING_BAUD
          ? MODBUS_EXCEPTION.illegalDataValue
          : MODBUS_EXCEPTION.illegalDataAddress,
      );
    }
    return exception(MODBUS_EXCEPTION.illegalFunction);
  }

  private inputRegister(register: number): number | null {
    const hostMs = this.clock.hostNowMs();
    if (register === 1) return toFixedPoint(this.temperatureAt(hostMs), 10) & 0xffff;
    if (register === 2) return Math.max(0, Math.min(1000, toFixedPoint(this.climate.humidityAt(hostMs), 10)));
    return null;
  }

  private holdingRegister(register: number): number | null {
    if (register === HOLDING_ADDRESS) return this.address;
    if (register === HOLDING_BAUD) return this.baudCode;
    return null;
  }
}
