import type { ReceiptLineOutcome, VialHold } from '@lyotrace/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { queryPrepared, StatementParams, withClause } from '../prepared-statement.js';
import type { CustodyHolder, CustodyVialRow, VialChange } from './custody.repository.js';
import { CUSTODY_VIAL_COLUMNS, CUSTODY_VIAL_FROM, moveVialsSql } from './custody-vial.sql.js';

/** One packing of a vial into a shipper, and its unpacking if any. */
export interface AggregationRow {
  container_id: string;
  vial_id: string;
  gtin: string;
  serial: string;
  packed_at: Date;
  unpacked_at: Date | null;
}

export interface ContainerExcursionRow {
  container_id: string;
  id: string;
  started_at: Date;
}

/** Rows grouped by a key, each group in the rows' order. */
function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

/**
 * The chain-of-custody reads and writes of CustodyRepository for a whole set of vials or shippers at once: a
 * shipment's receipt, its dispatch and a shipper's contents take a fixed number of statements however many vials
 * they hold. Each method does to every row what the single-row one does to one, in the same order.
 */
export class CustodyBatchRepository {
  constructor(private readonly dataSource: DataSource) {}

  // ── reads ──
  /** Vials by id, as CustodyRepository.findVial reads one, in the order of `ids` (unknown ids left out). */
  async findVials(
    ids: readonly string[],
    manager: EntityManager = this.dataSource.manager,
  ): Promise<CustodyVialRow[]> {
    if (ids.length === 0) return [];
    const rows = await manager.query<CustodyVialRow[]>(
      `${CUSTODY_VIAL_COLUMNS}${CUSTODY_VIAL_FROM} WHERE v.id = ANY($1::uuid[])`,
      [ids],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /**
   * The vials packed now in each shipper, under lock, by shipper id, each shipper's by GTIN and serial. Locked
   * in one order across shippers, so two receipts never wait on each other
   * crosswise. A shipper with nothing inside has no entry.
   */
  async lockContents(
    manager: EntityManager,
    containerIds: readonly string[],
  ): Promise<Map<string, CustodyVialRow[]>> {
    if (containerIds.length === 0) return new Map();
    const rows = await manager.query<CustodyVialRow[]>(
      `${CUSTODY_VIAL_COLUMNS}${CUSTODY_VIAL_FROM}
        WHERE v.container_id = ANY($1::uuid[]) ORDER BY v.gtin, v.serial FOR UPDATE OF v`,
      [containerIds],
    );
    return groupBy(rows, (r) => r.container_id!);
  }

  /** What was inside each shipper when (every packing, including those since unpacked), by shipper id. */
  async aggregationHistory(
    containerIds: readonly string[],
    manager: EntityManager = this.dataSource.manager,
  ): Promise<Map<string, AggregationRow[]>> {
    if (containerIds.length === 0) return new Map();
    const rows = await manager.query<AggregationRow[]>(
      `SELECT a.container_id, a.vial_id, v.gtin, v.serial, a.packed_at, a.unpacked_at
         FROM aggregation a JOIN vial v ON v.id = a.vial_id
        WHERE a.container_id = ANY($1::uuid[]) ORDER BY a.packed_at, v.serial`,
      [containerIds],
    );
    return groupBy(rows, (r) => r.container_id);
  }

  /** The excursions still open on each shipper, by shipper id: receipt quarantines what arrives in one. */
  async openExcursions(
    containerIds: readonly string[],
    manager: EntityManager = this.dataSource.manager,
  ): Promise<Map<string, ContainerExcursionRow[]>> {
    if (containerIds.length === 0) return new Map();
    const rows = await manager.query<ContainerExcursionRow[]>(
      `SELECT container_id, id, started_at FROM excursion
        WHERE container_id = ANY($1::uuid[]) AND state <> 'closed' ORDER BY started_at`,
      [containerIds],
    );
    return groupBy(rows, (r) => r.container_id);
  }

  // ── writes (the caller holds the vials' locks and audits each vial in the same transaction) ──
  /**
   * Moves every vial of `vialIds` as CustodyRepository.moveVial moves one: its open custody interval closed at
   * `at`, the next one opened at `to` (none when it leaves custody), the holder and `change` mirrored on the
   * vial row (EU GDP 5.5: one place at any time, the history complete).
   */
  async moveVials(
    manager: EntityManager,
    vialIds: readonly string[],
    to: CustodyHolder | null,
    at: Date,
    step: string,
    openedBy: string | null,
    change: VialChange = {},
  ): Promise<void> {
    if (vialIds.length === 0) return;
    const p = new StatementParams();
    const move = moveVialsSql(p, vialIds, to, at, step, openedBy, change);
    await queryPrepared(manager, `${withClause(move.ctes)}${move.update}`, p.values);
  }

  /** Sets or clears a QA hold on every vial of `vialIds` without moving them. */
  async setHolds(
    manager: EntityManager,
    vialIds: readonly string[],
    hold: VialHold | null,
    reason: string | null,
  ): Promise<void> {
    if (vialIds.length === 0) return;
    await manager.query(
      `UPDATE vial SET hold = $2, hold_reason = $3, version = version + 1 WHERE id = ANY($1::uuid[])`,
      [vialIds, hold, reason],
    );
  }

  /** Ends the open packing of every vial of `vialIds` (as CustodyRepository.disaggregate). */
  async disaggregate(
    manager: EntityManager,
    vialIds: readonly string[],
    at: Date,
    by: string | null,
  ): Promise<void> {
    if (vialIds.length === 0) return;
    await manager.query(
      `UPDATE aggregation SET unpacked_at = $2, unpacked_by = $3
        WHERE vial_id = ANY($1::uuid[]) AND unpacked_at IS NULL`,
      [vialIds, at, by],
    );
  }

  /** One receipt line per vial, in order; a vial already on the receipt keeps its line (as insertReceiptLine). */
  async insertReceiptLines(
    manager: EntityManager,
    lines: {
      shipmentId: string;
      vialIds: readonly string[];
      outcome: ReceiptLineOutcome;
      at: Date;
      by: string;
    },
  ): Promise<void> {
    if (lines.vialIds.length === 0) return;
    await manager.query(
      `INSERT INTO receipt_line (shipment_id, vial_id, outcome, recorded_at, recorded_by)
       SELECT $1, line.vial_id, $3, $4, $5 FROM unnest($2::uuid[]) WITH ORDINALITY AS line(vial_id, n)
        ORDER BY line.n
       ON CONFLICT (shipment_id, vial_id) DO NOTHING`,
      [lines.shipmentId, lines.vialIds, lines.outcome, lines.at, lines.by],
    );
  }
}
