import type { IngestDevice } from '@lyotrace/contracts';
import type { BridgeLog } from '../bridge-log.js';
import type { SkewSettings } from '../clock/skew-policy.js';
import type { PortConfig } from '../config/device-config.js';
import {
  type LinkClosed,
  listSerialPorts,
  openSerialLink,
  PortListUnavailableError,
  PortLockedError,
  PortNotFoundError,
  type SerialLink,
  type SerialSettings,
  type UsbPortInfo,
} from '../serial/serial-link.js';
import {
  type DeviceDetails,
  type DeviceDriver,
  type DriverContext,
  pauseFor,
  type RecordSink,
} from './device-driver.js';
import { type LinkCounters, newLinkCounters } from './link-counters.js';

export type PortState =
  'starting' | 'connecting' | 'connected' | 'offline' | 'locked' | 'not-found' | 'stopped';

export interface DeviceStatus extends DeviceDetails {
  protocol: string;
  serial: string;
  model: string;
  firmware?: string;
  calibrationDue?: string;
  online: boolean;
  since: string;
  lastContactAt: string | null;
  skewMs: number | null;
}

export interface PortStatus {
  name: string;
  protocol: string;
  /** Where the device is now (or was last). */
  path: string | null;
  state: PortState;
  since: string;
  lastError: string | null;
  /** Why the driver is not acknowledging its device (spool full), or null. */
  stalled: string | null;
  counters: LinkCounters;
  devices: DeviceStatus[];
}

export interface BridgeEvent {
  at: string;
  port: string;
  kind: 'online' | 'offline' | 'locked' | 'not-found' | 'stalled' | 'resumed' | 'replaced';
  message: string;
}

export interface PortSupervisorDeps {
  sink: RecordSink;
  log: BridgeLog;
  skew: SkewSettings;
  /** Every online/offline/lock event, for the status surface. */
  onEvent(event: BridgeEvent): void;
  /** Tests inject port listing; production lists through serialport (udev). */
  listPorts?: () => Promise<UsbPortInfo[]>;
  openLink?: (settings: SerialSettings) => Promise<SerialLink>;
  now?: () => number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

const keyOf = (d: Pick<IngestDevice, 'protocol' | 'serial'>): string => `${d.protocol}/${d.serial}`;

/**
 * Keeps one configured port served: finds it (path, or USB vendor/product/serial), opens it exclusively,
 * runs the driver, and on unplug or silence marks its devices offline and reopens with exponential backoff.
 * Devices are known by identity (protocol + serial), never by path: a logger that comes back on another
 * path continues where it stopped.
 */
export class PortSupervisor {
  readonly status: PortStatus;
  private readonly devices = new Map<string, DeviceStatus>();
  private listWarned = false;
  private lastProblem = '';
  private opens = 0;
  private readonly now: () => number;

  constructor(
    private readonly config: PortConfig,
    private readonly driver: DeviceDriver,
    private readonly deps: PortSupervisorDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.status = {
      name: config.name,
      protocol: config.protocol,
      path: config.path ?? null,
      state: 'starting',
      since: new Date(this.now()).toISOString(),
      lastError: null,
      stalled: null,
      counters: newLinkCounters(),
      devices: [],
    };
  }

  async run(signal: AbortSignal): Promise<void> {
    const minBackoff = this.deps.minBackoffMs ?? 500;
    const maxBackoff = this.deps.maxBackoffMs ?? 10_000;
    let backoff = minBackoff;
    while (!signal.aborted) {
      const startedAt = this.now();
      await this.session(signal);
      if (signal.aborted) break;
      // A session that lasted is a device that worked: come back quickly after its unplug.
      if (this.now() - startedAt > 30_000) backoff = minBackoff;
      await pauseFor(backoff, signal);
      backoff = Math.min(backoff * 2, maxBackoff);
    }
    this.setState('stopped', null);
  }

  private async session(signal: AbortSignal): Promise<void> {
    const { log } = this.deps;
    const path = await this.resolvePath();
    if (!path) return;
    this.status.path = path;
    this.setState('connecting', null);
    let link: SerialLink;
    try {
      link = await (this.deps.openLink ?? openSerialLink)({ path, baudRate: this.config.baudRate });
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof PortLockedError) {
        this.problem('locked', `${this.config.name}: cannot open ${message}`, 'locked');
      } else if (error instanceof PortNotFoundError) {
        this.problem('not-found', `${this.config.name}: ${message}`, 'not-found');
      } else {
        this.problem('offline', `${this.config.name}: cannot open ${path}: ${message}`);
      }
      return;
    }
    if (this.opens++ > 0) this.status.counters.reconnects++;
    this.lastProblem = '';
    this.setState('connected', null);
    log.info(`${this.config.name}: ${path} open (${this.config.protocol}, ${this.config.baudRate} baud)`);

    const sessionEnd = new AbortController();
    const onStop = (): void => sessionEnd.abort();
    signal.addEventListener('abort', onStop, { once: true });
    let closedInfo: LinkClosed | null = null;
    void link.closed.then((info) => {
      closedInfo = info;
      sessionEnd.abort();
    });
    let failure: string | null = null;
    try {
      await this.driver.run(link, this.context(), sessionEnd.signal);
    } catch (error) {
      failure = (error as Error).message;
    } finally {
      signal.removeEventListener('abort', onStop);
      sessionEnd.abort();
      await link.close();
    }
    const info: LinkClosed = closedInfo ?? (await link.closed);
    const reason = signal.aborted
      ? 'bridge stopping'
      : failure
        ? failure
        : info.disconnected
          ? `link lost (${info.reason})`
          : 'session ended';
    this.markAllOffline(reason);
    if (!signal.aborted) {
      this.setState('offline', reason);
      log.warn(`${this.config.name}: ${path} closed: ${reason}; reconnecting`);
    }
  }

  /** Configured path, or the USB match; when listing is impossible (no udev), the path as a fallback. */
  private async resolvePath(): Promise<string | null> {
    const { usb, path, name } = this.config;
    if (!usb) return path ?? null;
    let ports: UsbPortInfo[];
    try {
      ports = await (this.deps.listPorts ?? listSerialPorts)();
    } catch (error) {
      if (!(error instanceof PortListUnavailableError)) throw error;
      if (!this.listWarned) {
        this.listWarned = true;
        this.deps.log.warn(
          `${name}: ${error.message}; ` +
            (path
              ? `falling back to the configured path ${path}`
              : 'no fallback "path" configured: cannot find the device'),
        );
      }
      if (path) return path;
      this.problem('not-found', `${name}: USB listing unavailable and no path configured`, 'not-found');
      return null;
    }
    const matches = ports.filter(
      (p) =>
        p.vendorId?.toLowerCase() === usb.vendorId &&
        p.productId?.toLowerCase() === usb.productId &&
        (usb.serialNumber === undefined || p.serialNumber === usb.serialNumber),
    );
    if (matches.length === 0) {
      // A configured path still helps where the adapter is not a USB device (a pty in a test bench).
      if (path) return path;
      this.problem(
        'not-found',
        `${name}: no USB device ${usb.vendorId}:${usb.productId}${usb.serialNumber ? ` serial ${usb.serialNumber}` : ''} plugged in`,
        'not-found',
      );
      return null;
    }
    if (matches.length > 1)
      this.deps.log.warn(
        `${name}: ${matches.length} devices match ${usb.vendorId}:${usb.productId} (${matches.map((m) => m.path).join(', ')}); ` +
          'using the first: add "serialNumber" to pick one',
      );
    return matches[0]!.path;
  }

  private problem(state: PortState, message: string, event?: BridgeEvent['kind']): void {
    this.setState(state, message);
    // Once per kind of trouble, not once per retry: a locked port retried for hours must not flood the log.
    if (this.lastProblem === message) return;
    this.lastProblem = message;
    this.deps.log.error(message);
    if (event) this.event(event, message);
  }

  private setState(state: PortState, error: string | null): void {
    if (this.status.state !== state) this.status.since = new Date(this.now()).toISOString();
    this.status.state = state;
    if (error !== null || state === 'connected') this.status.lastError = error;
  }

  private event(kind: BridgeEvent['kind'], message: string): void {
    this.deps.onEvent({ at: new Date(this.now()).toISOString(), port: this.config.name, kind, message });
  }

  private markAllOffline(reason: string): void {
    for (const d of this.devices.values()) {
      if (!d.online) continue;
      d.online = false;
      d.since = new Date(this.now()).toISOString();
      const message = `device offline: ${d.protocol}/${d.serial} on ${this.config.name} (${reason})`;
      this.deps.log.warn(message);
      this.event('offline', message);
    }
    this.publishDevices();
  }

  private publishDevices(): void {
    this.status.devices = [...this.devices.values()];
  }

  private context(): DriverContext {
    const { deps, config, status } = this;
    const upsert = (device: IngestDevice, details?: DeviceDetails): DeviceStatus => {
      const key = keyOf(device);
      let d = this.devices.get(key);
      if (!d) {
        d = {
          protocol: device.protocol,
          serial: device.serial,
          model: device.model,
          online: false,
          since: new Date(this.now()).toISOString(),
          lastContactAt: null,
          skewMs: null,
        };
        this.devices.set(key, d);
      }
      d.model = device.model;
      if (device.firmware) d.firmware = device.firmware;
      if (device.calibrationDue) d.calibrationDue = device.calibrationDue;
      if (details) Object.assign(d, details);
      return d;
    };
    return {
      name: config.name,
      log: deps.log,
      counters: status.counters,
      skew: deps.skew,
      sink: deps.sink,
      now: this.now,
      identified: (device, details) => {
        const d = upsert(device, details);
        d.lastContactAt = new Date(this.now()).toISOString();
        if (!d.online) {
          d.online = true;
          d.since = d.lastContactAt;
          const message = `device online: ${device.protocol}/${device.serial} (${device.model}${device.firmware ? ` fw ${device.firmware}` : ''}) on ${config.name} at ${status.path}`;
          deps.log.info(message);
          this.event('online', message);
        }
        this.publishDevices();
      },
      contact: (device, skewMs, details) => {
        const d = upsert(device, details);
        d.lastContactAt = new Date(this.now()).toISOString();
        if (skewMs !== undefined) {
          if (
            Math.abs(skewMs) > deps.skew.flagMs &&
            (d.skewMs === null || Math.abs(d.skewMs) <= deps.skew.flagMs)
          )
            deps.log.warn(
              `${config.name}: ${device.serial} clock is off by ${(skewMs / 1000).toFixed(1)} s (threshold ${deps.skew.flagMs / 1000} s): readings flagged clock_skew`,
            );
          d.skewMs = skewMs;
        }
        this.publishDevices();
      },
      lost: (device, reason) => {
        const d = this.devices.get(keyOf(device));
        if (!d?.online) return;
        d.online = false;
        d.since = new Date(this.now()).toISOString();
        const message = `device offline: ${device.protocol}/${device.serial} on ${config.name} (${reason})`;
        deps.log.warn(message);
        this.event('offline', message);
        this.publishDevices();
      },
      stalled: (reason) => {
        if (status.stalled === reason) return;
        status.stalled = reason;
        this.event(
          reason ? 'stalled' : 'resumed',
          `${config.name}: ${reason ? `not acknowledging: ${reason}` : 'acknowledging again'}`,
        );
      },
    };
  }
}
