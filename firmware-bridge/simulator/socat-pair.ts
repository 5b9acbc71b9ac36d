import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SocatPairNames {
  /** Link the simulated device opens. */
  device: string;
  /** Link the bridge (host) opens. */
  host: string;
}

/**
 * A linked pty pair with stable names: `socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B`. Killing socat
 * hangs up both ends (an unplug); starting it again recreates the same names on new ptys (a replug).
 */
export class SocatPair {
  readonly devicePath: string;
  readonly hostPath: string;
  private child: ChildProcess | null = null;
  private stderr = '';

  constructor(
    readonly dir: string,
    names: SocatPairNames = { device: 'device', host: 'host' },
    private readonly socatBinary = 'socat',
  ) {
    this.devicePath = join(dir, names.device);
    this.hostPath = join(dir, names.host);
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts socat and resolves once both link names exist. */
  async start(timeoutMs = 5000): Promise<void> {
    if (this.running) return;
    mkdirSync(this.dir, { recursive: true });
    // A socat killed with SIGKILL leaves its links behind, pointing at ptys that are gone.
    for (const link of [this.devicePath, this.hostPath]) rmSync(link, { force: true });
    this.stderr = '';
    const child = spawn(
      this.socatBinary,
      ['-d', '-d', `pty,raw,echo=0,link=${this.devicePath}`, `pty,raw,echo=0,link=${this.hostPath}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-4000);
    });
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (error) => reject(new Error(`cannot run socat: ${error.message}`)));
      child.once('exit', (code, signal) =>
        reject(new Error(`socat exited (${code ?? signal}) before the ptys existed: ${this.stderr.trim()}`)),
      );
    });
    failed.catch(() => undefined);
    const deadline = Date.now() + timeoutMs;
    while (!(existsSync(this.devicePath) && existsSync(this.hostPath))) {
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(
          `socat did not create ${this.devicePath} and ${this.hostPath} within ${timeoutMs} ms`,
        );
      }
      await Promise.race([sleep(10), failed]);
    }
  }

  /** Kills socat (unplug) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  /** Unplug then replug: same names, new ptys. */
  async restart(offMs = 0): Promise<void> {
    await this.stop();
    if (offMs > 0) await sleep(offMs);
    await this.start();
  }
}
