import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import {
  INGEST_BATCH_VERSION,
  type IngestBatch,
  type IngestRecord,
  LoggerProtocol,
  ReadingFlag,
  SiteKind,
} from '@lyotrace/contracts';
import { gs1CheckDigit } from '@lyotrace/domain';
import { BridgeCredentialService } from '@lyotrace/services';
import type { DataSource } from 'typeorm';
import { makeSite, unique } from './factories.js';

/** Where every generated series starts unless told otherwise: in the past, so no event lands in the future. */
export const SERIES_START = Date.parse('2026-01-05T08:00:00Z');
export const MINUTE = 60_000;

/** A site and its bridge credential (the token a bridge would be given once). */
export async function makeBridge(
  app: INestApplicationContext,
  kind: SiteKind = SiteKind.Warehouse,
): Promise<{ siteId: string; credentialId: string; token: string }> {
  const site = await makeSite(app, kind);
  const issued = await app
    .get(BridgeCredentialService)
    .issue({ actor: { kind: 'system', name: 'test-factory' } }, site.id);
  return { siteId: site.id, credentialId: issued.id, token: issued.token };
}

/**
 * One record per minute from `start`, sequence numbers `seqs` (index i of the series is minute i past start
 * for seq = first + i). Temperatures 2.0–7.9 °C, no flags.
 */
export function records(
  seqs: readonly number[],
  options: { start?: number; firstSeq?: number; intervalMs?: number } = {},
): IngestRecord[] {
  const start = options.start ?? SERIES_START;
  const firstSeq = options.firstSeq ?? seqs[0] ?? 0;
  const interval = options.intervalMs ?? MINUTE;
  return seqs.map((seq) => {
    const at = new Date(start + (seq - firstSeq) * interval).toISOString();
    return {
      seq,
      deviceTime: at,
      time: at,
      skewMs: 0,
      temperatureC: 2 + (seq % 60) / 10,
      humidityPct: null,
      flags: [],
    };
  });
}

/** seq from..to inclusive. */
export const seqRange = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

export function batch(overrides: Partial<IngestBatch> & { records: IngestRecord[] }): IngestBatch {
  return {
    version: INGEST_BATCH_VERSION,
    batchId: randomUUID(),
    device: { protocol: LoggerProtocol.Native, serial: unique('LT'), model: 'LT-1', firmware: '1.0.0' },
    mission: '',
    live: false,
    ...overrides,
  };
}

/** A record whose time the bridge corrected by the measured skew (PROTOCOL.md §6). */
export function corrected(record: IngestRecord, skewMs: number): IngestRecord {
  return {
    ...record,
    skewMs,
    time: new Date(Date.parse(record.deviceTime) - skewMs).toISOString(),
    flags: [...record.flags, ReadingFlag.ClockCorrected],
  };
}

/** A location of a site, as the custody feature would create it (set up behind the API's back). */
export async function makeLocation(db: DataSource, siteId: string): Promise<string> {
  const [row] = await db.query<{ id: string }[]>(
    `INSERT INTO location (site_id, code, name, kind, min_temp_c, max_temp_c, alarm_delay_s, hysteresis_c, version)
     VALUES ($1, $2, 'Test fridge', 'fridge', 2, 8, 1800, 0.5, 1) RETURNING id`,
    [siteId, unique('FRIDGE')],
  );
  return row!.id;
}

/** A shipper with a fresh valid SSCC (extension 9, GS1 example prefix 952). */
export async function makeContainer(
  db: DataSource,
  siteId: string,
  createdBy: string,
): Promise<{ id: string; sscc: string }> {
  const body = `9952${String(Math.floor(Math.random() * 1e13)).padStart(13, '0')}`;
  const sscc = `${body}${gs1CheckDigit(body)}`;
  const [row] = await db.query<{ id: string }[]>(
    `INSERT INTO container (sscc, site_id, state, created_by, created_at, version)
     VALUES ($1, $2, 'open', $3, now(), 1) RETURNING id`,
    [sscc, siteId, createdBy],
  );
  return { id: row!.id, sscc };
}
