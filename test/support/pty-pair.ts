import { constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadStream } from 'node:tty';
import { SocatPair } from '../../firmware-bridge/simulator/socat-pair.js';

/**
 * A linked pty pair for tests: `socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B` under a fresh temp
 * folder, with stable names. `unplug()` kills socat (both ends hang up), `replug()` starts it again with the
 * same names (new ptys), `close()` stops it and removes the folder. The device (simulator) opens `devicePath`,
 * the host (bridge, or a test) opens `hostPath`.
 */
export interface PtyPair {
  readonly dir: string;
  readonly devicePath: string;
  readonly hostPath: string;
  readonly plugged: boolean;
  readonly socatPid: number | undefined;
  unplug(signal?: NodeJS.Signals): Promise<void>;
  replug(): Promise<void>;
  close(): Promise<void>;
}

export async function createPtyPair(
  names: { device: string; host: string } = { device: 'device', host: 'host' },
): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'lyotrace-pty-'));
  const pair = new SocatPair(dir, names);
  await pair.start();
  return {
    dir,
    devicePath: pair.devicePath,
    hostPath: pair.hostPath,
    get plugged() {
      return pair.running;
    },
    get socatPid() {
      return pair.pid;
    },
    unplug: (signal: NodeJS.Signals = 'SIGTERM') => pair.stop(signal),
    replug: () => pair.start(),
    close: async () => {
      await pair.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The host's end of a pty opened the way a test wants it: raw bytes in, every byte out kept in order, with
 * waits that have deadlines. It knows nothing about any protocol.
 */
export class TtyEnd {
  private buffer = Buffer.alloc(0);
  private readonly stream: ReadStream;
  private waiters: (() => void)[] = [];
  private hungUp = false;

  constructor(readonly path: string) {
    this.stream = new ReadStream(openSync(path, constants.O_RDWR | constants.O_NOCTTY));
    this.stream.on('data', (chunk: Buffer | string) => {
      this.buffer = Buffer.concat([
        this.buffer,
        typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk,
      ]);
      this.wake();
    });
    const hangUp = (): void => {
      this.hungUp = true;
      this.wake();
    };
    this.stream.on('end', hangUp);
    this.stream.on('close', hangUp);
    this.stream.on('error', hangUp);
  }

  get closed(): boolean {
    return this.hungUp;
  }

  /** Bytes received and not yet taken. */
  get pending(): Buffer {
    return this.buffer;
  }

  write(bytes: Uint8Array | readonly number[]): void {
    this.stream.write(Buffer.from(bytes));
  }

  /** Exactly `count` bytes, waiting at most `timeoutMs` for them. */
  async read(count: number, timeoutMs = 2000): Promise<Buffer> {
    await this.waitFor(() => this.buffer.length >= count, timeoutMs, `${count} bytes`);
    const out = this.buffer.subarray(0, count);
    this.buffer = Buffer.from(this.buffer.subarray(count));
    return Buffer.from(out);
  }

  /** Everything that arrives until the line has been quiet for `quietMs`. */
  async readUntilQuiet(quietMs = 150, timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    let seen = -1;
    while (Date.now() < deadline && seen !== this.buffer.length) {
      seen = this.buffer.length;
      await new Promise((resolve) => setTimeout(resolve, quietMs));
    }
    const out = this.buffer;
    this.buffer = Buffer.alloc(0);
    return out;
  }

  /** Waits until `predicate(bytes received so far)` holds. */
  async until(
    predicate: (bytes: Buffer) => boolean,
    timeoutMs = 2000,
    what = 'the expected bytes',
  ): Promise<Buffer> {
    await this.waitFor(() => predicate(this.buffer), timeoutMs, what);
    return this.buffer;
  }

  discard(): void {
    this.buffer = Buffer.alloc(0);
  }

  /** Resolves when the peer hangs up (socat killed). */
  async hangUp(timeoutMs = 2000): Promise<void> {
    await this.waitFor(() => this.hungUp, timeoutMs, 'a hang-up');
  }

  close(): void {
    this.stream.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private waitFor(ready: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(`${this.path}: no ${what} within ${timeoutMs} ms (have ${this.buffer.toString('hex')})`),
        );
      }, timeoutMs);
      const check = (): void => {
        if (ready()) {
          clearTimeout(timer);
          resolve();
        } else if (this.hungUp) {
          clearTimeout(timer);
          reject(new Error(`${this.path}: hung up while waiting for ${what}`));
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }
}
