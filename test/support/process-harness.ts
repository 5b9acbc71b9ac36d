import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentEnvironment } from '@lyotrace/config';

/**
 * Real processes for the end-to-end tier: spawn a built entry point (or a script) with an explicit
 * environment, read its output line by line, wait for what it prints or serves with a deadline, stop it with
 * a signal and measure how long it took. A harness remembers everything it spawned so that `killAll()` in
 * afterAll leaves nothing behind, whatever failed.
 */

/** The repository root: the nearest parent of this file (src or dist) that holds scripts/services.sh. */
export const REPO_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'scripts', 'services.sh')) && existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
})();

/** The built entry points (`npm run build`, which `npm test` runs before jest). */
export const ENTRY = {
  api: 'dist/apps/api/src/main.js',
  worker: 'dist/apps/worker/src/main.js',
  cli: 'dist/apps/cli/src/main.js',
  bridge: 'dist/firmware-bridge/src/main.js',
} as const;

export type Env = Record<string, string>;

/**
 * An environment for a child: this process's environment (PATH, HOME, …) without what only the test runner
 * needs (jest's NODE_OPTIONS, NODE_ENV=test), plus `overrides`; an override of `undefined` removes a variable.
 */
export function childEnv(overrides: Record<string, string | undefined> = {}): Env {
  const env: Env = {};
  for (const [key, value] of Object.entries(currentEnvironment())) {
    if (value !== undefined && key !== 'NODE_OPTIONS' && key !== 'NODE_ENV') env[key] = value;
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** A TCP port that was free a moment ago: bind port 0 on loopback, read it, release it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      if (!address || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the bound port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** Distinct free ports (binding several at once could otherwise return the same number twice). */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let attempt = 0; ports.size < count && attempt < count * 20; attempt++) ports.add(await freePort());
  if (ports.size < count) throw new Error(`could not find ${count} distinct free ports`);
  return [...ports];
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds from the stop signal (or from the start, if it exited by itself) to the exit. */
  ms: number;
}

export interface OutputLine {
  stream: 'stdout' | 'stderr';
  text: string;
  at: number;
}

type LineListener = (line: OutputLine) => void;

// eslint-disable-next-line no-control-regex -- ANSI colour codes from pino-pretty and concurrently
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
const MAX_LINE_CHARS = 16_384;

export interface SpawnOptions {
  env: Env;
  cwd?: string;
  /** Own process group (like a job started from a terminal): signals then go to the whole group. */
  group?: boolean;
  /** Lines kept per process (oldest dropped first). */
  maxLines?: number;
}

export class ManagedProcess {
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  readonly closed: Promise<void>;
  private readonly kept: OutputLine[] = [];
  private dropped = 0;
  private readonly listeners = new Set<LineListener>();
  private readonly exitListeners = new Set<(info: ExitInfo) => void>();
  private exitInfo: ExitInfo | undefined;
  private readonly startedAt = Date.now();
  private signalledAt: number | undefined;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly group: boolean,
    private readonly maxLines: number,
  ) {
    child.on('error', (error) => this.push('stderr', `process error: ${error.message}`));
    if (child.pid === undefined) throw new Error(`${name}: spawn failed (no pid)`);
    this.pid = child.pid;
    this.read(child, 'stdout');
    this.read(child, 'stderr');
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal, ms: Date.now() - (this.signalledAt ?? this.startedAt) };
        for (const listener of this.exitListeners) listener(this.exitInfo);
        resolve(this.exitInfo);
      });
    });
    // 'close' comes after 'exit' once the pipes are drained (later still if a grandchild holds them).
    this.closed = new Promise((resolve) => child.once('close', () => resolve()));
  }

  private read(child: ChildProcess, stream: 'stdout' | 'stderr'): void {
    const source = child[stream];
    if (!source) return;
    source.setEncoding('utf8');
    let partial = '';
    source.on('data', (chunk: string) => {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const part of parts) this.push(stream, part);
      if (partial.length > MAX_LINE_CHARS) {
        this.push(stream, partial);
        partial = '';
      }
    });
    source.on('end', () => {
      if (partial !== '') this.push(stream, partial);
      partial = '';
    });
  }

  private push(stream: 'stdout' | 'stderr', raw: string): void {
    const text = raw.replace(/\r$/, '').replace(ANSI, '').slice(0, MAX_LINE_CHARS);
    const line: OutputLine = { stream, text, at: Date.now() };
    this.kept.push(line);
    if (this.kept.length > this.maxLines) {
      this.kept.shift();
      this.dropped++;
    }
    for (const listener of this.listeners) listener(line);
  }

  /** Still running (no exit seen)? */
  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  get exit(): ExitInfo | undefined {
    return this.exitInfo;
  }

  /** The lines kept so far, optionally of one stream. */
  lines(stream?: 'stdout' | 'stderr'): string[] {
    return this.kept.filter((l) => !stream || l.stream === stream).map((l) => l.text);
  }

  /** The last lines, for error messages. */
  tail(count = 25): string {
    const shown = this.kept.slice(-count).map((l) => `  [${this.name} ${l.stream}] ${l.text}`);
    const skipped = this.dropped + Math.max(0, this.kept.length - count);
    return (skipped > 0 ? [`  … ${skipped} earlier line(s)`, ...shown] : shown).join('\n');
  }

  /**
   * The first line (already printed or still to come) that matches; rejects at the deadline or when the
   * process exits first, quoting its last lines.
   */
  waitForLine(
    pattern: RegExp,
    timeoutMs: number,
    options: { stream?: 'stdout' | 'stderr'; since?: number } = {},
  ): Promise<string> {
    const matches = (l: OutputLine): boolean =>
      (!options.stream || l.stream === options.stream) &&
      (options.since === undefined || l.at >= options.since) &&
      pattern.test(l.text);
    const already = this.kept.find(matches);
    if (already) return Promise.resolve(already.text);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(onLine);
        this.exitListeners.delete(onExit);
      };
      const onLine = (l: OutputLine): void => {
        if (!matches(l)) return;
        done();
        resolve(l.text);
      };
      const onExit = (info: ExitInfo): void => {
        // Lines still buffered in the pipe arrive after 'exit': give them a moment before giving up.
        setTimeout(() => {
          if (!this.listeners.has(onLine)) return;
          done();
          reject(
            new Error(
              `${this.name} exited (code ${info.code}, signal ${info.signal}) before printing ${pattern}\n${this.tail()}`,
            ),
          );
        }, 200);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms\n${this.tail()}`));
      }, timeoutMs);
      this.listeners.add(onLine);
      if (this.exitInfo) onExit(this.exitInfo);
      else this.exitListeners.add(onExit);
    });
  }

  /** Sends a signal to the process (or to its whole group when spawned with `group`). */
  signal(signal: NodeJS.Signals): void {
    if (!this.alive) return;
    this.signalledAt ??= Date.now();
    try {
      process.kill(this.group ? -this.pid : this.pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  /**
   * Sends `signal` and waits for the exit. If the process is still running after `timeoutMs`, it is killed
   * with SIGKILL and the result says so (signal SIGKILL, ms beyond the timeout) for the caller to assert on.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<ExitInfo> {
    if (this.exitInfo) return this.exitInfo;
    this.signalledAt = Date.now();
    this.signal(signal);
    const info = await withDeadline(this.exited, timeoutMs);
    if (info) return info;
    this.kill();
    const killed = await withDeadline(this.exited, 5_000);
    if (!killed) throw new Error(`${this.name} (pid ${this.pid}) survived SIGKILL`);
    return killed;
  }

  /** SIGKILL to the process (or its group), without waiting. */
  kill(): void {
    const target = this.group ? -this.pid : this.pid;
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer is JSON, else the text. */
  body: unknown;
  ms: number;
}

/** One HTTP request with a deadline; the body is parsed when it is JSON. */
export async function http(
  url: string,
  options: {
    method?: string;
    token?: string;
    body?: unknown;
    headers?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let payload: string | undefined;
  if (options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const started = Date.now();
  const res = await fetch(url, {
    method: options.method ?? (payload === undefined ? 'GET' : 'POST'),
    headers,
    body: payload,
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let body: unknown = text;
  if (text !== '' && /json/.test(res.headers.get('content-type') ?? '')) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body, ms: Date.now() - started };
}

/**
 * Polls `url` until `predicate` accepts an answer; rejects at the deadline with the last answer or error.
 * `watch` processes that exit meanwhile make it fail at once (no point waiting for a dead server).
 */
export async function waitForHttp(
  url: string,
  predicate: (res: HttpResult) => boolean,
  timeoutMs: number,
  options: { token?: string; intervalMs?: number; watch?: ManagedProcess[] } = {},
): Promise<HttpResult> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    for (const p of options.watch ?? []) {
      if (!p.alive)
        throw new Error(`${p.name} exited (${JSON.stringify(p.exit)}) while waiting for ${url}\n${p.tail()}`);
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    try {
      const res = await http(url, {
        token: options.token,
        timeoutMs: Math.max(200, Math.min(3_000, remaining)),
      });
      if (predicate(res)) return res;
      last = `${res.status} ${typeof res.body === 'string' ? res.body : JSON.stringify(res.body)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await pause(Math.min(options.intervalMs ?? 200, Math.max(0, deadline - Date.now())));
  }
  const tails = (options.watch ?? []).map((p) => p.tail(15)).join('\n');
  throw new Error(
    `${url} did not answer as expected within ${timeoutMs} ms; last: ${last.slice(0, 2000)}\n${tails}`,
  );
}

/** Polls `check` until it returns a value other than undefined, or fails at the deadline. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = `; last error: ${(error as Error).message}`;
    }
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${timeoutMs} ms${lastError}`);
    await pause(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/** A bounded pause between polls (never an assertion by itself). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Parses `KEY=value` lines (as scripts/services.sh writes services.env; single quotes stripped). */
export function parseEnvFile(path: string): Env {
  const env: Env = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m?.[1]) continue;
    let value = m[2] ?? '';
    if (value.startsWith("'") && value.endsWith("'") && value.length >= 2)
      value = value.slice(1, -1).replace(/'\\''/g, "'");
    env[m[1]] = value;
  }
  return env;
}

export interface ProcInfo {
  pid: number;
  pgid: number;
  cmdline: string;
}

/** Every live (non-zombie) process on this machine, from /proc (Linux). */
export function listProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid pgrp …; comm may contain spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({ pid: Number(entry), pgid: Number(fields[2]), cmdline });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** The environment a running process was started with (Linux; empty when unreadable). */
export function processEnvironment(pid: number): Env {
  try {
    const env: Env = {};
    for (const pair of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const i = pair.indexOf('=');
      if (i > 0) env[pair.slice(0, i)] = pair.slice(i + 1);
    }
    return env;
  } catch {
    return {};
  }
}

/** Spawns and remembers processes; `killAll()` (afterAll) ends whatever is still running. */
export class ProcessHarness {
  private readonly all = new Set<ManagedProcess>();
  private readonly onExit = (): void => {
    for (const p of this.all) if (p.alive) p.kill();
  };

  constructor() {
    // Last resort if the test runner itself goes away without running afterAll.
    process.once('exit', this.onExit);
  }

  spawn(name: string, command: string, args: string[], options: SpawnOptions): ManagedProcess {
    const child = spawn(command, args, {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env,
      detached: options.group ?? false,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const managed = new ManagedProcess(name, child, options.group ?? false, options.maxLines ?? 5_000);
    this.all.add(managed);
    return managed;
  }

  /** A built node entry point (see ENTRY). */
  node(name: string, entry: string, env: Env, options: Omit<SpawnOptions, 'env'> = {}): ManagedProcess {
    return this.spawn(name, process.execPath, [entry], { ...options, env });
  }

  /** Runs a command to its end (killed at the deadline) and returns its output and exit status. */
  async run(
    command: string,
    args: string[],
    options: { env: Env; cwd?: string; timeoutMs?: number },
  ): Promise<RunResult> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const p = this.spawn(`${command} ${args.join(' ')}`.slice(0, 80), command, args, {
      env: options.env,
      cwd: options.cwd,
      maxLines: 20_000,
    });
    const info = await withDeadline(p.exited, timeoutMs);
    if (!info) {
      const killed = await p.stop('SIGKILL', 5_000);
      throw new Error(
        `${p.name} did not finish within ${timeoutMs} ms (killed: ${JSON.stringify(killed)})\n${p.tail()}`,
      );
    }
    // 'exit' can precede the last 'data' events of the pipes: let them drain (bounded).
    await withDeadline(p.closed, 2_000);
    this.all.delete(p);
    return {
      code: info.code,
      signal: info.signal,
      stdout: p.lines('stdout').join('\n'),
      stderr: p.lines('stderr').join('\n'),
      ms: info.ms,
    };
  }

  /** `node dist/apps/cli/src/main.js …args` with `env`. */
  runCli(args: string[], env: Env, timeoutMs = 60_000): Promise<RunResult> {
    return this.run(process.execPath, [ENTRY.cli, ...args], { env, timeoutMs });
  }

  /** Like runCli, but a non-zero exit is an error that quotes the output. */
  async cli(args: string[], env: Env, timeoutMs = 60_000): Promise<string> {
    const res = await this.runCli(args, env, timeoutMs);
    if (res.code !== 0)
      throw new Error(`cli ${args.join(' ')} exited ${res.code}:\n${res.stdout}\n${res.stderr}`.trim());
    return res.stdout;
  }

  /** Processes spawned by this harness that are still running. */
  running(): ManagedProcess[] {
    return [...this.all].filter((p) => p.alive);
  }

  /** The last lines of every process, for a failure message. */
  tails(count = 20): string {
    return [...this.all].map((p) => `${p.name} (pid ${p.pid}):\n${p.tail(count)}`).join('\n');
  }

  /** SIGKILL everything still running (process groups included) and wait, bounded, for the exits. */
  async killAll(timeoutMs = 5_000): Promise<void> {
    const left = this.running();
    for (const p of left) p.kill();
    // A group whose leader is gone can still have members (e.g. children a wrapper script left behind).
    const groups = new Set([...this.all].filter((p) => p.group && !p.alive).map((p) => p.pid));
    if (groups.size > 0) {
      for (const member of listProcesses().filter((p) => groups.has(p.pgid))) {
        try {
          process.kill(member.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await withDeadline(Promise.all(left.map((p) => p.exited)), timeoutMs);
    process.removeListener('exit', this.onExit);
  }
}
