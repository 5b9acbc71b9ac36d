import { randomUUID } from 'node:crypto';
import { INGEST_MAX_RECORDS, type IngestRecord } from '@lyotrace/contracts';
import type { IngestClient, IngestOutcome, ProblemBody } from '../api-client.js';
import type { BridgeLog } from '../bridge-log.js';
import type { Spool, SpoolBatch } from '../spool/spool.js';

export interface UploaderOptions {
  spool: Spool;
  api: IngestClient;
  log: BridgeLog;
  /** Records per batch, ≤ INGEST_MAX_RECORDS. */
  maxRecords?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long to wait for new data before looking at the spool again. */
  idleMs?: number;
}

export interface UploadStatus {
  /** null until the first attempt. */
  reachable: boolean | null;
  lastSuccessAt: string | null;
  lastError: string | null;
  consecutiveFailures: number;
  batchesCommitted: number;
  recordsAccepted: number;
  recordsDuplicate: number;
  /** Batches or records the API refused as invalid, moved to the dead-letter folder. */
  quarantined: number;
}

const RECORD_FIELD = /^records\[(\d+)\]/;

/**
 * Drains the spool to the API, one batch at a time, live before backlog. A record leaves the spool only
 * after a 2xx. Failures back off exponentially and keep the data; a batch the API calls invalid is
 * quarantined (only the records it names when it names them), never retried forever.
 */
export class Uploader {
  readonly status: UploadStatus = {
    reachable: null,
    lastSuccessAt: null,
    lastError: null,
    consecutiveFailures: 0,
    batchesCommitted: 0,
    recordsAccepted: 0,
    recordsDuplicate: 0,
    quarantined: 0,
  };
  private readonly maxRecords: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private backoffMs: number;

  constructor(private readonly options: UploaderOptions) {
    this.maxRecords = Math.min(options.maxRecords ?? 2_000, INGEST_MAX_RECORDS);
    this.minBackoffMs = options.minBackoffMs ?? 1_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.backoffMs = this.minBackoffMs;
  }

  /** Runs until `signal` aborts; what is in flight then stays in the spool (the API deduplicates a replay). */
  async run(signal: AbortSignal): Promise<void> {
    const { spool } = this.options;
    let current: SpoolBatch | null = null;
    while (!signal.aborted) {
      // A backlog batch waiting for a retry gives way to live data that arrived meanwhile.
      if (current && !current.batch.live && spool.stats().liveRecords > 0) current = null;
      current ??= spool.nextBatch(this.maxRecords);
      if (!current) {
        await this.waitForData(signal);
        continue;
      }
      const outcome = await this.options.api.postReadings(current.batch, signal);
      if (signal.aborted) break;
      if (await this.handle(current, outcome)) {
        current = null;
        this.backoffMs = this.minBackoffMs;
      } else if (outcome.kind !== 'invalid') {
        await sleep(this.backoffMs, signal);
        this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
      }
    }
  }

  /** True when the batch is done with (committed or quarantined). */
  private async handle(current: SpoolBatch, outcome: IngestOutcome): Promise<boolean> {
    const { spool, log } = this.options;
    const { batch } = current;
    switch (outcome.kind) {
      case 'committed': {
        await spool.commit(current.entryIds);
        const s = this.status;
        if (s.reachable === false)
          log.info(`API reachable again after ${s.consecutiveFailures} failed attempt(s)`);
        s.reachable = true;
        s.lastSuccessAt = new Date().toISOString();
        s.consecutiveFailures = 0;
        s.batchesCommitted++;
        s.recordsAccepted += outcome.result.accepted;
        s.recordsDuplicate += outcome.result.duplicates;
        log.debug(
          `uploaded ${batch.records.length} ${batch.live ? 'live' : 'backlog'} record(s) of ${batch.device.serial}: ` +
            `${outcome.result.accepted} new, ${outcome.result.duplicates} duplicate`,
        );
        return true;
      }
      case 'invalid':
        await this.quarantine(current, outcome.status, outcome.problem);
        return current.batch.records.length === 0;
      case 'unauthorized':
      case 'unavailable': {
        const s = this.status;
        if (s.reachable !== false || s.consecutiveFailures % 10 === 0) {
          const what =
            outcome.kind === 'unauthorized'
              ? 'ALARM: the API refused the bridge credential'
              : 'API unavailable';
          log[outcome.kind === 'unauthorized' ? 'error' : 'warn'](
            `${what} (${outcome.detail}); ${spool.stats().pendingRecords} record(s) kept in the spool, retrying in ${Math.round(this.backoffMs / 1000)} s`,
          );
        }
        s.reachable = false;
        s.lastError = outcome.detail;
        s.consecutiveFailures++;
        return false;
      }
    }
  }

  /**
   * A 4xx naming records: those records go to the dead-letter folder and the rest is sent again as a new
   * batch. Naming nothing (or the batch itself): the whole batch goes. Either way an alarm, and the spool
   * moves on: one bad record never blocks the readings behind it.
   */
  private async quarantine(current: SpoolBatch, status: number, problem: ProblemBody): Promise<void> {
    const { spool, log } = this.options;
    const { batch } = current;
    const fields = [problem.field ?? '', ...(problem.errors ?? []).map((e) => e.field)].filter(
      (f) => f !== '',
    );
    const indexes = new Set<number>();
    let aboutBatch = fields.length === 0;
    for (const field of fields) {
      const m = RECORD_FIELD.exec(field);
      if (m) indexes.add(Number(m[1]));
      else aboutBatch = true;
    }
    const bad: IngestRecord[] = [];
    const good: IngestRecord[] = [];
    batch.records.forEach((r, i) => (!aboutBatch && indexes.has(i) ? bad : good).push(r));
    const whole = aboutBatch || good.length === 0 || bad.length === 0;
    const file = spool.deadLetter(batch.batchId, {
      quarantinedAt: new Date().toISOString(),
      status,
      problem,
      scope: whole ? 'batch' : 'records',
      batch: whole ? batch : { ...batch, records: bad },
    });
    this.status.quarantined++;
    log.error(
      `ALARM: the API refused ${whole ? `batch ${batch.batchId} (${batch.records.length} records)` : `${bad.length} record(s) of batch ${batch.batchId}`} ` +
        `of ${batch.device.serial} as invalid (${status} ${problem.code ?? ''}: ${problem.detail ?? ''}); quarantined in ${file}`,
    );
    if (whole) {
      await spool.commit(current.entryIds);
      batch.records = [];
      return;
    }
    // The rest is a different batch now (the same id must mean the same content).
    current.batch = { ...batch, batchId: randomUUID(), records: good };
  }

  private waitForData(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        off();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, this.options.idleMs ?? 1_000);
      const off = this.options.spool.onAppend(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
