/**
 * The bridge's log: one plain line per event on stdout (`<ISO time> bridge: <message>`), which a site PC's
 * service manager keeps and an operator can read. Levels follow LOG_LEVEL.
 */
export interface BridgeLog {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const RANK = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 100 } as const;
export type LogLevel = keyof typeof RANK;

export function createBridgeLog(
  level: string,
  write: (line: string) => void = (line) => process.stdout.write(line),
): BridgeLog {
  const min = RANK[level as LogLevel] ?? RANK.info;
  const emit =
    (rank: number, prefix: string) =>
    (message: string): void => {
      if (rank >= min) write(`${new Date().toISOString()} bridge: ${prefix}${message}\n`);
    };
  return {
    debug: emit(RANK.debug, 'debug: '),
    info: emit(RANK.info, ''),
    warn: emit(RANK.warn, 'warning: '),
    error: emit(RANK.error, 'ERROR: '),
  };
}

export const silentLog: BridgeLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/**
 * At most `perWindow` lines per window for one noisy source (a flood of garbage must not flood the disk);
 * what was held back is summarised in the next line that gets through.
 */
export class LogThrottle {
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly perWindow = 20,
    private readonly windowMs = 10_000,
  ) {}

  pass(nowMs: number = Date.now()): { ok: boolean; suppressed: number } {
    if (nowMs - this.windowStart >= this.windowMs) {
      this.windowStart = nowMs;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.perWindow) {
      this.suppressed++;
      return { ok: false, suppressed: 0 };
    }
    this.inWindow++;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    return { ok: true, suppressed };
  }
}
