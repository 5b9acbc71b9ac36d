import ModbusSerial from 'modbus-serial';
import { type IngestDevice, LoggerProtocol } from '@lyotrace/contracts';
import { LogThrottle } from '../bridge-log.js';
import { hex } from '../codec/checksums.js';
import { toIngestRecord } from '../clock/skew-policy.js';
import type { ModbusProbeConfig } from '../config/device-config.js';
import { type DeviceDriver, type DriverContext, pauseFor } from '../devices/device-driver.js';
import type { SerialLink } from '../serial/serial-link.js';
import { SpoolFullError } from '../spool/spool.js';
import { ModbusLinkPort } from './modbus-link-port.js';

export interface ModbusDriverOptions {
  probes: ModbusProbeConfig[];
  pollIntervalMs?: number;
  replyTimeoutMs?: number;
  /** Consecutive failed polls before a probe is declared offline. */
  offlineAfter?: number;
  /** The record-identity namespace of this bridge run (the poll counters restart with it). */
  mission?: string;
}

interface ProbeState {
  config: ModbusProbeConfig;
  device: IngestDevice;
  /**
   * The bridge numbers the polls (ingest contract: Modbus seq = the bridge's poll counter), answered or not:
   * a poll the probe did not answer leaves a hole the API records as a data gap.
   */
  nextSeq: number;
  failures: number;
  online: boolean;
  registers: 1 | 2;
}

// modbus-serial is CommonJS: its class is module.exports (and, for ESM importers, module.exports.default).
const ModbusRTU = ModbusSerial.default;
type ModbusClient = InstanceType<typeof ModbusRTU>;

interface ModbusFailure extends Error {
  modbusCode?: number;
}

/** Input registers 1–2 (XY-MD02 / SHT20 profile, function 04): temperature int16 ÷ 10, RH ÷ 10. */
const FIRST_REGISTER = 1;

/**
 * Modbus RTU probes on one RS-485 bus, polled through modbus-serial one request at a time (a bus carries one
 * outstanding request). A failed read is retried once (the port dropped the stale bytes); a probe that fails
 * `offlineAfter` polls in a row is offline, and online again at its next answer.
 */
export class ModbusDriver implements DeviceDriver {
  readonly protocol = LoggerProtocol.ModbusRtu;
  private readonly probes: ProbeState[];
  private readonly pollIntervalMs: number;
  private readonly replyTimeoutMs: number;
  private readonly offlineAfter: number;
  readonly mission: string;

  constructor(options: ModbusDriverOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 10_000;
    this.replyTimeoutMs = options.replyTimeoutMs ?? 500;
    this.offlineAfter = options.offlineAfter ?? 3;
    this.mission = options.mission ?? `bridge-run-${new Date().toISOString()}`;
    this.probes = options.probes.map((config) => {
      const device: IngestDevice = {
        protocol: LoggerProtocol.ModbusRtu,
        serial: config.id,
        model: config.model,
      };
      if (config.calibrationDue) device.calibrationDue = config.calibrationDue;
      return { config, device, nextSeq: 0, failures: 0, online: false, registers: config.humidity ? 2 : 1 };
    });
  }

  async run(link: SerialLink, ctx: DriverContext, signal: AbortSignal): Promise<void> {
    const noise = new LogThrottle();
    const port = new ModbusLinkPort(link, ctx.counters, (bytes) => {
      if (noise.pass().ok) ctx.log.warn(`${ctx.name}: bytes outside a valid reply skipped: ${hex(bytes)}`);
    });
    const client = new ModbusRTU(port);
    await new Promise<void>((resolve, reject) =>
      client.open((error: Error | null) => (error ? reject(error) : resolve())),
    );
    client.setTimeout(this.replyTimeoutMs);
    try {
      let due = ctx.now();
      while (!signal.aborted) {
        for (const probe of this.probes) {
          if (signal.aborted) break;
          await this.poll(client, probe, ctx);
        }
        due += this.pollIntervalMs;
        // Never a burst of catch-up polls after a stall: skip to the next slot.
        if (due < ctx.now()) due = ctx.now() + this.pollIntervalMs;
        await pauseFor(due - ctx.now(), signal);
      }
    } finally {
      port.close();
    }
  }

  private async read(client: ModbusClient, probe: ProbeState): Promise<Buffer> {
    client.setID(probe.config.slave);
    let lastError: ModbusFailure | null = null;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const result = await client.readInputRegisters(FIRST_REGISTER, probe.registers);
        return result.buffer;
      } catch (error) {
        lastError = error as ModbusFailure;
        // An exception reply is an answer: retrying cannot change it.
        if (lastError.modbusCode !== undefined) throw lastError;
      }
    }
    throw lastError ?? new Error('no answer');
  }

  /** One sample: registers 1–2, or register 1 alone once the probe said it has no RH register. */
  private async sample(client: ModbusClient, probe: ProbeState, ctx: DriverContext): Promise<Buffer> {
    try {
      return await this.read(client, probe);
    } catch (error) {
      if ((error as ModbusFailure).modbusCode !== 2 || probe.registers !== 2) throw error;
      // Illegal data address: a temperature-only probe. Poll register 1 alone from now on.
      ctx.log.warn(`${ctx.name}: probe ${probe.config.id} has no RH register; reading temperature only`);
      probe.registers = 1;
      return this.read(client, probe);
    }
  }

  private async poll(client: ModbusClient, probe: ProbeState, ctx: DriverContext): Promise<void> {
    // Taken before the read: a poll without an answer must show as a missing sequence, or nobody downstream
    // sees the hole (ALCOA+ "complete", MHRA GxP data integrity guidance: monitoring data or its known gaps).
    const seq = probe.nextSeq++;
    let data: Buffer;
    try {
      data = await this.sample(client, probe, ctx);
    } catch (error) {
      const failure = error as ModbusFailure;
      if (failure.modbusCode !== undefined) ctx.counters.refusals++;
      else if (/timed out/i.test(failure.message)) ctx.counters.timeouts++;
      else ctx.counters.badChecksum++;
      probe.failures++;
      if (probe.failures >= this.offlineAfter && probe.online) {
        probe.online = false;
        ctx.lost(probe.device, `${probe.failures} polls without a valid answer (${failure.message})`);
      }
      return;
    }
    const receivedMs = ctx.now();
    ctx.counters.framesOk++;
    probe.failures = 0;
    if (!probe.online) {
      probe.online = true;
      ctx.identified(probe.device, { intervalS: Math.round(this.pollIntervalMs / 1000) });
    }
    ctx.contact(probe.device, 0);
    const raw = data.readInt16BE(0) / 10;
    const fault = raw < probe.config.ratedMinC || raw > probe.config.ratedMaxC;
    let humidity: number | null | undefined;
    if (probe.registers === 2) {
      const rh = data.readUInt16BE(2) / 10;
      humidity = rh > 100 ? null : rh;
    }
    const record = toIngestRecord(
      {
        seq,
        // The bridge's clock is the timeline: a probe has none (PROTOCOL.md §6).
        deviceMs: receivedMs,
        temperatureC: fault ? null : raw,
        humidityPct: humidity,
        sensorFault: fault,
      },
      0,
      ctx.skew,
      probe.config.calibrationDue,
    );
    try {
      await ctx.sink.append({ device: probe.device, mission: this.mission, live: true, records: [record] });
      ctx.stalled(null);
    } catch (error) {
      // A probe keeps nothing: this poll is lost, and the alarm says why.
      ctx.stalled(
        error instanceof SpoolFullError
          ? 'spool full: probe readings are not being kept'
          : (error as Error).message,
      );
    }
  }
}
