import { SerialPort } from 'serialport';

/**
 * The one file that imports `serialport` (STYLE.md habit 4): everything else talks to a SerialLink, so the
 * drivers are testable over a pty and the native binding stays at the edge.
 */

export interface SerialSettings {
  path: string;
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: 'none' | 'even' | 'odd';
  stopBits?: 1 | 2;
}

export interface LinkClosed {
  /** true when the device went away (unplug, hang-up); false when we closed it. */
  disconnected: boolean;
  reason: string;
}

export interface SerialLink {
  readonly path: string;
  write(bytes: Uint8Array): Promise<void>;
  /** Subscribes to incoming bytes; returns the unsubscribe function. */
  onData(listener: (chunk: Buffer) => void): () => void;
  /** Resolves once, when the link is gone for whatever reason. */
  readonly closed: Promise<LinkClosed>;
  readonly isOpen: boolean;
  close(): Promise<void>;
}

/** Another process holds the port (serialport's `lock: true`, TIOCEXCL/flock underneath). */
export class PortLockedError extends Error {
  constructor(path: string, cause: string) {
    super(`${path} is locked by another process (is a second bridge using this port?): ${cause}`);
    this.name = 'PortLockedError';
  }
}

export class PortNotFoundError extends Error {
  constructor(path: string, cause: string) {
    super(`${path} does not exist (unplugged?): ${cause}`);
    this.name = 'PortNotFoundError';
  }
}

export interface UsbPortInfo {
  path: string;
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
  manufacturer?: string;
}

/** USB enumeration could not run here (serialport shells out to udevadm; no udev, no list). */
export class PortListUnavailableError extends Error {
  constructor(cause: string) {
    super(`USB port listing unavailable: ${cause}`);
    this.name = 'PortListUnavailableError';
  }
}

export async function listSerialPorts(): Promise<UsbPortInfo[]> {
  try {
    const ports = await SerialPort.list();
    return ports.map((p) => ({
      path: p.path,
      vendorId: p.vendorId,
      productId: p.productId,
      serialNumber: p.serialNumber,
      manufacturer: p.manufacturer,
    }));
  } catch (error) {
    throw new PortListUnavailableError((error as Error).message);
  }
}

class NodeSerialLink implements SerialLink {
  readonly closed: Promise<LinkClosed>;
  private open = true;
  private settle!: (info: LinkClosed) => void;

  constructor(private readonly port: SerialPort) {
    this.closed = new Promise((resolve) => (this.settle = resolve));
    const gone = (info: LinkClosed): void => {
      if (!this.open) return;
      this.open = false;
      this.settle(info);
      if (this.port.isOpen) this.port.close(() => undefined);
    };
    port.on('close', (error: (Error & { disconnected?: boolean }) | null) =>
      gone({ disconnected: error?.disconnected === true, reason: error?.message ?? 'closed' }),
    );
    // A pty whose other side went away reads EOF rather than failing: that is a hang-up too.
    port.on('end', () => gone({ disconnected: true, reason: 'end of stream (hang-up)' }));
    port.on('error', (error: Error) => gone({ disconnected: true, reason: error.message }));
  }

  get path(): string {
    return this.port.path;
  }

  get isOpen(): boolean {
    return this.open;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.open) return Promise.reject(new Error(`${this.path} is closed`));
    return new Promise((resolve, reject) => {
      this.port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (error) =>
        error ? reject(error) : resolve(),
      );
    });
  }

  onData(listener: (chunk: Buffer) => void): () => void {
    this.port.on('data', listener);
    return () => this.port.off('data', listener);
  }

  close(): Promise<void> {
    if (!this.open) return Promise.resolve();
    this.open = false;
    this.settle({ disconnected: false, reason: 'closed by the bridge' });
    return new Promise((resolve) => {
      if (!this.port.isOpen) return resolve();
      // Let queued writes (an ACK in hand) reach the device before the descriptor goes.
      this.port.drain(() => this.port.close(() => resolve()));
    });
  }
}

/** Opens a port exclusively; rejects with PortLockedError / PortNotFoundError / the binding's error. */
export function openSerialLink(settings: SerialSettings): Promise<SerialLink> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({
      path: settings.path,
      baudRate: settings.baudRate,
      dataBits: settings.dataBits ?? 8,
      parity: settings.parity ?? 'none',
      stopBits: settings.stopBits ?? 1,
      autoOpen: false,
      // Exclusive: a second bridge on the same port must fail, not interleave bytes with the first.
      lock: true,
      hupcl: false,
    });
    port.open((error) => {
      if (!error) return resolve(new NodeSerialLink(port));
      const message = error.message;
      if (/lock/i.test(message)) reject(new PortLockedError(settings.path, message));
      else if (/ENOENT|No such file/i.test(message)) reject(new PortNotFoundError(settings.path, message));
      else reject(error);
    });
  });
}
