import type { IngestDevice, LoggerProtocol } from '@lyotrace/contracts';
import type { BridgeLog } from '../bridge-log.js';
import type { SkewSettings } from '../clock/skew-policy.js';
import type { SerialLink } from '../serial/serial-link.js';
import type { Delivery } from '../spool/spool.js';
import type { LinkCounters } from './link-counters.js';

/** Where a driver puts what it read: the durable spool (append resolves after fsync). */
export interface RecordSink {
  append(delivery: Delivery): Promise<number>;
  /** Highest sequence already spooled for the device and mission, or null. */
  cursor(device: Pick<IngestDevice, 'protocol' | 'serial'>, mission: string): number | null;
  /** Every mission of the device the spool remembers, with its cursor. */
  cursors(device: Pick<IngestDevice, 'protocol' | 'serial'>): { mission: string; seq: number }[];
  readonly full: boolean;
}

/** What a device says about itself beyond its identity, for the status surface. */
export interface DeviceDetails {
  batteryPct?: number | null;
  intervalS?: number;
  missionRunning?: boolean;
  /** Anything else worth showing (ring fill, record count…). */
  note?: string;
}

/** What a driver may do besides reading and writing its link. */
export interface DriverContext {
  /** The configured port name, for log lines. */
  readonly name: string;
  readonly log: BridgeLog;
  readonly counters: LinkCounters;
  readonly skew: SkewSettings;
  readonly sink: RecordSink;
  /** The host clock (ms). */
  now(): number;
  /** A device answered with its identity (online event when it was not online). */
  identified(device: IngestDevice, details?: DeviceDetails): void;
  /** Any successful exchange; `skewMs` when this contact measured the device clock. */
  contact(device: IngestDevice, skewMs?: number, details?: DeviceDetails): void;
  /** One device behind a still-open link stopped answering (a Modbus probe): offline event. */
  lost(device: IngestDevice, reason: string): void;
  /** Called on every spool refusal so the status shows the stall. */
  stalled(reason: string | null): void;
}

/**
 * One protocol. `run` talks to whatever is on an open link until `signal` aborts (clean stop or link gone)
 * and returns; it throws when the device stops answering, and the supervisor reopens the link with backoff.
 * A driver never acknowledges a record to a device before `sink.append` has resolved.
 */
export interface DeviceDriver {
  readonly protocol: LoggerProtocol;
  run(link: SerialLink, ctx: DriverContext, signal: AbortSignal): Promise<void>;
}

/** The device did not answer within the protocol's timeouts and retries. */
export class DeviceUnresponsiveError extends Error {
  constructor(what: string) {
    super(`no valid answer to ${what}`);
    this.name = 'DeviceUnresponsiveError';
  }
}

/** A promise that rejects when `signal` aborts: races a wait against the end of the session. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new SessionEndedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new SessionEndedError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export class SessionEndedError extends Error {
  constructor() {
    super('session ended');
    this.name = 'SessionEndedError';
  }
}

/** Sleeps `ms` or until `signal` aborts (resolves either way). */
export function pauseFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
