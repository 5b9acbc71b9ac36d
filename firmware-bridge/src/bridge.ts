import type { Server } from 'node:http';
import { LoggerProtocol } from '@lyotrace/contracts';
import type { IngestClient } from './api-client.js';
import type { BridgeLog } from './bridge-log.js';
import type { SkewSettings } from './clock/skew-policy.js';
import type { PortConfig } from './config/device-config.js';
import type { DeviceDriver } from './devices/device-driver.js';
import { type BridgeEvent, PortSupervisor, type PortSupervisorDeps } from './devices/port-supervisor.js';
import { ElitechDriver } from './elitech/elitech-driver.js';
import { ModbusDriver } from './modbus/modbus-driver.js';
import { NativeDriver } from './native/native-driver.js';
import { Spool } from './spool/spool.js';
import { type BridgeStatus, serveStatus, writeStatusFile } from './status/bridge-status.js';
import { Uploader } from './upload/uploader.js';

export interface BridgeOptions {
  spoolDir: string;
  spoolMaxBytes: number;
  ports: PortConfig[];
  /** null: no credential; readings are spooled and kept, nothing is uploaded. */
  api: IngestClient | null;
  apiUrl: string | null;
  uploadMaxRecords: number;
  skew: SkewSettings;
  log: BridgeLog;
  /** Loopback status endpoint; 0 or undefined: none. */
  statusPort?: number;
  statusIntervalMs?: number;
  /** Tests: faster reconnects and retries. */
  supervisor?: Partial<Pick<PortSupervisorDeps, 'minBackoffMs' | 'maxBackoffMs' | 'listPorts'>>;
  uploadBackoffMs?: { min: number; max: number };
}

const MAX_EVENTS = 100;

export function driverFor(port: PortConfig, mission: string): DeviceDriver {
  switch (port.protocol) {
    case LoggerProtocol.Native:
      return new NativeDriver({
        replyTimeoutMs: port.replyTimeoutMs,
        identifyIntervalMs: port.pollIntervalMs,
      });
    case LoggerProtocol.Elitech:
      return new ElitechDriver({
        pollIntervalMs: port.pollIntervalMs,
        replyTimeoutMs: port.replyTimeoutMs,
        calibrationDue: port.calibrationDue,
      });
    case LoggerProtocol.ModbusRtu:
      return new ModbusDriver({
        probes: port.probes,
        pollIntervalMs: port.pollIntervalMs,
        replyTimeoutMs: port.replyTimeoutMs,
        mission,
      });
  }
}

/**
 * The site bridge: a supervisor per configured port feeding the durable spool, an uploader draining it to
 * the API, and a status view (file, optional loopback endpoint). No database, no Redis (ARCHITECTURE.md §2).
 */
export class Bridge {
  readonly spool: Spool;
  readonly supervisors: PortSupervisor[];
  readonly uploader: Uploader | null;
  private readonly events: BridgeEvent[] = [];
  private readonly startedAt = new Date().toISOString();

  constructor(private readonly options: BridgeOptions) {
    // Throws SpoolLockedError when another bridge owns the spool: the clearest place to stop.
    this.spool = Spool.open({ dir: options.spoolDir, maxBytes: options.spoolMaxBytes, log: options.log });
    const mission = `bridge-run-${this.startedAt}`;
    this.supervisors = options.ports.map(
      (port) =>
        new PortSupervisor(port, driverFor(port, mission), {
          sink: this.spool,
          log: options.log,
          skew: options.skew,
          onEvent: (e) => {
            this.events.push(e);
            if (this.events.length > MAX_EVENTS) this.events.shift();
          },
          ...options.supervisor,
        }),
    );
    this.uploader = options.api
      ? new Uploader({
          spool: this.spool,
          api: options.api,
          log: options.log,
          maxRecords: options.uploadMaxRecords,
          minBackoffMs: options.uploadBackoffMs?.min,
          maxBackoffMs: options.uploadBackoffMs?.max,
        })
      : null;
  }

  status(): BridgeStatus {
    return {
      at: new Date().toISOString(),
      pid: process.pid,
      startedAt: this.startedAt,
      apiUrl: this.options.apiUrl,
      upload: this.uploader ? { ...this.uploader.status } : null,
      spool: this.spool.stats(),
      ports: this.supervisors.map((s) => structuredClone(s.status)),
      events: [...this.events],
    };
  }

  /**
   * Runs until `signal` aborts, then stops in order: the devices (a record being spooled is finished, the
   * ports closed after their last write), the upload in hand, and last the spool (its fsync in hand).
   */
  async run(signal: AbortSignal): Promise<void> {
    const { log } = this.options;
    let server: Server | null = null;
    if (this.options.statusPort) {
      server = await serveStatus(this.options.statusPort, () => this.status());
      log.info(`status on http://127.0.0.1:${this.options.statusPort}/status`);
    }
    const writeStatus = (): void => {
      try {
        writeStatusFile(this.options.spoolDir, this.status());
      } catch (error) {
        log.warn(`could not write the status file: ${(error as Error).message}`);
      }
    };
    writeStatus();
    const timer = setInterval(writeStatus, this.options.statusIntervalMs ?? 1_000);
    if (this.options.ports.length === 0)
      log.info('no devices configured (BRIDGE_DEVICES / BRIDGE_DEVICES_FILE)');
    if (!this.uploader && this.options.ports.length > 0)
      log.warn('no BRIDGE_TOKEN: readings are kept in the spool and uploaded once a token is configured');
    try {
      await Promise.all([
        ...this.supervisors.map((s) => s.run(signal)),
        this.uploader ? this.uploader.run(signal) : Promise.resolve(),
      ]);
    } finally {
      clearInterval(timer);
      writeStatus();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await this.spool.close();
    }
  }
}
