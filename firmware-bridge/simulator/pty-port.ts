import { EventEmitter } from 'node:events';
import { constants, existsSync, open } from 'node:fs';
import { ReadStream } from 'node:tty';
import { promisify } from 'node:util';

const openFile = promisify(open);

export interface PtyPortEvents {
  attached: [];
  detached: [reason: string];
  data: [bytes: Buffer];
}

/**
 * The device's end of a pty, opened as the tty file it is (no serialport: only the bridge's one port adapter
 * imports that). A tty stream reads through the event loop, not the thread pool, so a dozen idle simulated
 * devices never starve file I/O. When the peer goes away (socat killed: an unplug) the stream ends; the port
 * then watches for the link name to come back (socat restarted: a replug) and reopens it.
 */
export class PtyPort extends EventEmitter<PtyPortEvents> {
  private stream: ReadStream | null = null;
  private stopped = true;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    readonly path: string,
    private readonly reopenEveryMs = 50,
  ) {
    super();
  }

  get attached(): boolean {
    return this.stream !== null;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.tryOpen();
  }

  write(bytes: Buffer): boolean {
    if (!this.stream) return false;
    this.stream.write(bytes);
    return true;
  }

  /** Resolves once attached (or at once if already). */
  whenAttached(timeoutMs = 5000): Promise<void> {
    if (this.attached) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('attached', onAttached);
        reject(new Error(`${this.path}: not attached within ${timeoutMs} ms`));
      }, timeoutMs);
      const onAttached = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.once('attached', onAttached);
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    const stream = this.stream;
    this.stream = null;
    stream?.destroy();
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.tryOpen();
    }, this.reopenEveryMs);
    this.retry.unref();
  }

  private async tryOpen(): Promise<void> {
    if (this.stopped || this.stream) return;
    if (!existsSync(this.path)) return this.scheduleRetry();
    let fd: number;
    try {
      // O_NOCTTY: the simulator must never acquire the pty as its controlling terminal.
      fd = await openFile(this.path, constants.O_RDWR | constants.O_NOCTTY);
    } catch {
      // A link left by a killed socat points at a pty that no longer exists: wait for a new one.
      return this.scheduleRetry();
    }
    if (this.stopped) {
      const stream = new ReadStream(fd);
      stream.destroy();
      return;
    }
    const stream = new ReadStream(fd);
    this.stream = stream;
    let gone = false;
    const detach = (reason: string): void => {
      if (gone) return;
      gone = true;
      if (this.stream === stream) this.stream = null;
      stream.destroy();
      if (!this.stopped) {
        this.emit('detached', reason);
        this.scheduleRetry();
      }
    };
    stream.on('data', (chunk: Buffer | string) =>
      this.emit('data', typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk),
    );
    stream.on('end', () => detach('hang-up'));
    stream.on('close', () => detach('closed'));
    stream.on('error', (error: Error) => detach(error.message));
    this.emit('attached');
  }
}
