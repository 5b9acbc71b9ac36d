import type { ContainerState, LotStatus, ShipmentState, VialHold, VialState } from '@lyotrace/contracts';
import { DataSource, EntityManager } from 'typeorm';
import {
  ContainerEntity,
  LocationEntity,
  ReceiptLineEntity,
  ScanEntity,
  ShipmentEntity,
} from '../entities/index.js';
import {
  type AlongsideWrites,
  queryPrepared,
  type StatementOptions,
  StatementParams,
  withClause,
} from '../prepared-statement.js';
import {
  CUSTODY_VIAL_COLUMNS as VIAL_COLUMNS,
  CUSTODY_VIAL_FROM as VIAL_FROM,
  moveVialsSql,
} from './custody-vial.sql.js';
import type { EpcisEventRow } from './epcis.repository.js';

/** A vial with everything a gate needs, read under a row lock (`FOR UPDATE` of the vial). */
export interface CustodyVialRow {
  id: string;
  lot_id: string;
  lot_code: string;
  lot_status: LotStatus;
  gtin: string;
  serial: string;
  expiry: string;
  state: VialState;
  holder_site_id: string;
  holder_site_code: string;
  holder_site_kind: string;
  /** The holder site's IANA zone: expiry is judged at the end of the day there. */
  timezone: string;
  location_id: string | null;
  location_code: string | null;
  container_id: string | null;
  sscc: string | null;
  shipment_id: string | null;
  hold: VialHold | null;
  recall_id: string | null;
  exposure_out_of_range_s: number;
  stability_budget_s: number | null;
  single_use: boolean;
  /** The step that opened the vial's current custody interval (null once it left custody). */
  open_step: string | null;
}

const VIAL_SELECT = `${VIAL_COLUMNS}${VIAL_FROM}`;

/** The site where a custody step is scanned, as the step needs it. */
export interface StepSite {
  id: string;
  code: string;
  kind: string;
  /** IANA zone: expiry is judged at the end of the day there. */
  timezone: string;
}

/** The target location of a put-away or move. */
export type StepLocation = Pick<LocationEntity, 'id' | 'siteId' | 'code' | 'active'>;

/** A vial under lock with the scanning site and the step's target location (null: not found, or none asked). */
export interface VialAtStep {
  vial: CustodyVialRow;
  site: StepSite | null;
  location: StepLocation | null;
}

/**
 * Which vial a scan reads and, for a custody step, where it is scanned and the target location it names (by
 * id, or by code at that site). A lookup names no site.
 */
export interface VialAtStepQuery {
  vial: { gtin: string; serial: string };
  siteId: string | null;
  location: { id: string } | { code: string } | null;
}

/** What claims an idempotency key: the scan as it arrived. */
export type ScanClaim = Pick<
  ScanEntity,
  'userId' | 'idempotencyKey' | 'requestHash' | 'action' | 'raw' | 'scannedAt'
>;

/** A row of claimScanAndLockVialAtStep: the claim, then the step's columns (all null when there is no vial). */
interface ClaimedStepRow extends Omit<CustodyVialRow, 'id'> {
  claimed_id: string | null;
  id: string | null;
  stale: boolean | null;
  step_site_id: string | null;
  step_site_code: string;
  step_site_kind: string;
  step_site_timezone: string;
  target_id: string | null;
  target_site_id: string;
  target_code: string;
  target_active: boolean;
}

const CLAIM_SCAN = `INSERT INTO scan (user_id, idempotency_key, request_hash, action, raw, outcome, answer, scanned_at)
       VALUES ($1, $2, $3, $4, $5, 'pending', '{}', $6)
       ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING id`;

/**
 * The claim of an idempotency key (as claimScan) and a custody step's reads (the vial under lock, as lockVial,
 * the scanning site, the target location) in one statement. The claim row is always there: its id is null when
 * the key was taken, and the step's columns are null when no such vial exists. One text per variant (location by
 * id, by code, or none), each prepared once per connection.
 */
const claimAndLockSql = (location: 'id' | 'code' | 'none'): string => `
  WITH claim AS (${CLAIM_SCAN})
  SELECT claimed.id AS claimed_id, step.*
    FROM (SELECT (SELECT id FROM claim) AS id) AS claimed
    LEFT JOIN (${VIAL_COLUMNS},
         ss.id AS step_site_id, ss.code AS step_site_code, ss.kind AS step_site_kind,
         ss.timezone AS step_site_timezone, tl.id AS target_id, tl.site_id AS target_site_id,
         tl.code AS target_code, tl.active AS target_active,
         -- The locked row is the vial's newest version; the subquery reads the version this statement's snapshot
         -- saw. They differ when another transaction changed the vial while this one waited for the lock.
         NOT (v.xmin = (SELECT sv.xmin FROM vial sv WHERE sv.id = v.id)) AS stale${VIAL_FROM}
    LEFT JOIN site ss ON ss.id = $9
    LEFT JOIN location tl ON ${
      location === 'id' ? 'tl.id = $10' : location === 'code' ? 'tl.site_id = $9 AND tl.code = $10' : 'false'
    }
   WHERE v.gtin = $7 AND v.serial = $8
   FOR UPDATE OF v) AS step ON true`;
/**
 * Taken before the claim-and-read statement when that statement found its read stale: under READ COMMITTED, a
 * statement that waits for a row lock sees the locked row's new version but the other tables (and subqueries,
 * e.g. the open custody step) as of its start, so two concurrent steps on one vial could both pass a check.
 * Once the lock is held, the next statement's snapshot is fresh throughout.
 */
const LOCK_VIAL_SQL = `SELECT id FROM vial WHERE gtin = $1 AND serial = $2 FOR UPDATE`;

const CLAIM_AND_LOCK_SQL = {
  id: claimAndLockSql('id'),
  code: claimAndLockSql('code'),
  none: claimAndLockSql('none'),
};

/** The vial columns a custody step may change, besides where it is. */
export interface VialChange {
  state?: VialState;
  holderSiteId?: string;
  hold?: VialHold | null;
  holdReason?: string | null;
}

/** Where a vial goes next: a site (its receiving/staging area, or one of its locations) or a shipper. */
export type CustodyHolder =
  | { siteId: string; locationId: string | null; containerId?: null }
  | { containerId: string; siteId: string | null; locationId?: null };

export interface CustodyIntervalRow {
  id: string;
  from_at: Date;
  to_at: Date | null;
  step: string;
  site_id: string | null;
  site_code: string | null;
  location_id: string | null;
  location_code: string | null;
  container_id: string | null;
  sscc: string | null;
  opened_by: string | null;
}

const claimValues = (c: ScanClaim): unknown[] => [
  c.userId,
  c.idempotencyKey,
  c.requestHash,
  c.action,
  c.raw,
  c.scannedAt,
];

/** Every side effect of the chain of custody: vials under lock, intervals, shippers, shipments, scans. */
export class CustodyRepository {
  constructor(private readonly dataSource: DataSource) {}

  // ── vials ──
  async lockVial(
    manager: EntityManager,
    by: { id: string } | { gtin: string; serial: string },
  ): Promise<CustodyVialRow | null> {
    const [where, params] =
      'id' in by ? ['v.id = $1', [by.id]] : ['v.gtin = $1 AND v.serial = $2', [by.gtin, by.serial]];
    const rows = await queryPrepared<CustodyVialRow>(
      manager,
      `${VIAL_SELECT} WHERE ${where} FOR UPDATE OF v`,
      params,
    );
    return rows[0] ?? null;
  }

  /**
   * A vial scan's first round trip: claims the scan's idempotency key (see claimScan) and reads the vial under
   * lock (as lockVial) with, for a custody step, the scanning site and the target location. `scanId` is null when
   * the key was taken (the caller then reads that scan with scanByKey, in a new statement that sees it
   * committed); `found` is null when no such vial exists, and its site or location when those do not. `stale`:
   * another transaction changed the vial while this statement waited for its lock, so the rest of the read is
   * older than the vial; a custody step must then start again with `lockFirst`, which takes the lock in a
   * statement of its own first (a round trip that only such a race pays).
   */
  async claimScanAndLockVial(
    manager: EntityManager,
    claim: ScanClaim,
    at: VialAtStepQuery,
    options: { lockFirst: boolean },
  ): Promise<{ scanId: string | null; found: VialAtStep | null; stale: boolean }> {
    if (options.lockFirst) await queryPrepared(manager, LOCK_VIAL_SQL, [at.vial.gtin, at.vial.serial]);
    const { location } = at;
    const [sql, target] =
      location === null
        ? [CLAIM_AND_LOCK_SQL.none, []]
        : 'id' in location
          ? [CLAIM_AND_LOCK_SQL.id, [location.id]]
          : [CLAIM_AND_LOCK_SQL.code, [location.code]];
    const [row] = await queryPrepared<ClaimedStepRow>(manager, sql, [
      ...claimValues(claim),
      at.vial.gtin,
      at.vial.serial,
      at.siteId,
      ...target,
    ]);
    if (!row) throw new Error('the claim row is missing');
    const {
      claimed_id,
      id,
      stale,
      step_site_id,
      step_site_code,
      step_site_kind,
      step_site_timezone,
      target_id,
      target_site_id,
      target_code,
      target_active,
      ...vial
    } = row;
    if (id === null) return { scanId: claimed_id, found: null, stale: false };
    const found: VialAtStep = {
      vial: { id, ...vial },
      site:
        step_site_id === null
          ? null
          : { id: step_site_id, code: step_site_code, kind: step_site_kind, timezone: step_site_timezone },
      location:
        target_id === null
          ? null
          : { id: target_id, siteId: target_site_id, code: target_code, active: target_active },
    };
    return { scanId: claimed_id, found, stale: stale === true };
  }

  async findVial(
    by: { id: string } | { gtin: string; serial: string },
    manager: EntityManager = this.dataSource.manager,
  ): Promise<CustodyVialRow | null> {
    const [where, params] =
      'id' in by ? ['v.id = $1', [by.id]] : ['v.gtin = $1 AND v.serial = $2', [by.gtin, by.serial]];
    const rows = await manager.query<CustodyVialRow[]>(`${VIAL_SELECT} WHERE ${where}`, params);
    return rows[0] ?? null;
  }

  /**
   * Closes the vial's open custody interval at `at` and, unless it leaves custody (dispensed, destroyed),
   * opens the next one — one place at any time, the history complete (EU GDP 5.5). Also mirrors the holder
   * on the vial row. The caller holds the vial's lock and writes the audit event in the same transaction.
   */
  async moveVial(
    manager: EntityManager,
    vialId: string,
    to: CustodyHolder | null,
    at: Date,
    step: string,
    openedBy: string | null,
    vial: VialChange = {},
  ): Promise<void> {
    const p = new StatementParams();
    const move = moveVialsSql(p, [vialId], to, at, step, openedBy, vial);
    await queryPrepared(manager, `${withClause(move.ctes)}${move.update}`, p.values);
  }

  /**
   * The writes of a scan's accepted custody step, for the audit event's round trip (UnitOfWork.audit): the vial
   * moved (as moveVial), its EPCIS event, and the scan's answer stored under its idempotency key. The caller
   * holds the vial's lock; all of it is one transaction with the audit event.
   */
  scanStepWrites(
    move: {
      vialId: string;
      to: CustodyHolder | null;
      at: Date;
      step: string;
      openedBy: string | null;
      vial?: VialChange;
    },
    epcis: EpcisEventRow,
    scan: { id: string; outcome: string; answer: Record<string, unknown> },
  ): AlongsideWrites {
    return (p) => {
      const moved = moveVialsSql(
        p,
        [move.vialId],
        move.to,
        move.at,
        move.step,
        move.openedBy,
        move.vial ?? {},
      );
      return [
        ...moved.ctes,
        `moved AS (${moved.update} RETURNING 1)`,
        `epcis AS (INSERT INTO epcis_event (event_id, event_type, biz_step, event_time, record_time, epcs,
             input_epcs, output_epcs, event)
           VALUES (${[
             p.add(epcis.eventId, 'text'),
             p.add(epcis.eventType, 'text'),
             p.add(epcis.bizStep, 'text'),
             p.add(epcis.eventTime, 'timestamptz'),
             p.add(epcis.recordTime, 'timestamptz'),
             p.add(epcis.epcs, 'text[]'),
             p.add(epcis.inputEpcs, 'text[]'),
             p.add(epcis.outputEpcs, 'text[]'),
             p.add(JSON.stringify(epcis.event), 'jsonb'),
           ].join(', ')}))`,
        `answered AS (UPDATE scan SET outcome = ${p.add(scan.outcome, 'text')},
             answer = ${p.add(JSON.stringify(scan.answer), 'jsonb')} WHERE id = ${p.add(scan.id, 'uuid')})`,
      ];
    };
  }

  custodyHistory(vialId: string): Promise<CustodyIntervalRow[]> {
    return this.dataSource.query<CustodyIntervalRow[]>(
      `SELECT ci.id, ci.from_at, ci.to_at, ci.step, ci.site_id, s.code AS site_code, ci.location_id,
              loc.code AS location_code, ci.container_id, c.sscc, ci.opened_by
         FROM custody_interval ci
         LEFT JOIN site s ON s.id = ci.site_id
         LEFT JOIN location loc ON loc.id = ci.location_id
         LEFT JOIN container c ON c.id = ci.container_id
        WHERE ci.vial_id = $1
        ORDER BY ci.from_at, ci.to_at NULLS LAST`,
      [vialId],
    );
  }

  // ── locations ──
  insertLocation(
    manager: EntityManager,
    row: Omit<LocationEntity, 'id' | 'version' | 'createdAt' | 'site' | 'parent'>,
  ): Promise<LocationEntity> {
    const repo = manager.getRepository(LocationEntity);
    return repo.save(repo.create(row));
  }

  findLocation(id: string, manager: EntityManager = this.dataSource.manager): Promise<LocationEntity | null> {
    return manager.getRepository(LocationEntity).findOneBy({ id });
  }

  findLocationByCode(
    siteId: string,
    code: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<LocationEntity | null> {
    return manager.getRepository(LocationEntity).findOneBy({ siteId, code });
  }

  listLocations(siteIds: readonly string[] | null): Promise<LocationEntity[]> {
    const qb = this.dataSource.getRepository(LocationEntity).createQueryBuilder('l').orderBy('l.code');
    if (siteIds) qb.where('l.site_id = ANY(:siteIds)', { siteIds });
    return qb.getMany();
  }

  // ── shippers ──
  insertContainer(
    manager: EntityManager,
    row: Pick<ContainerEntity, 'sscc' | 'siteId' | 'createdBy' | 'createdAt'>,
  ): Promise<ContainerEntity> {
    const repo = manager.getRepository(ContainerEntity);
    return repo.save(repo.create({ ...row, state: 'open' as ContainerState, shipmentId: null }));
  }

  lockContainer(
    manager: EntityManager,
    by: { id: string } | { sscc: string },
  ): Promise<ContainerEntity | null> {
    return manager
      .getRepository(ContainerEntity)
      .createQueryBuilder('c')
      .setLock('pessimistic_write')
      .where(by)
      .getOne();
  }

  findContainer(
    by: { id: string } | { sscc: string },
    manager: EntityManager = this.dataSource.manager,
  ): Promise<ContainerEntity | null> {
    return manager.getRepository(ContainerEntity).findOneBy(by);
  }

  saveContainer(manager: EntityManager, container: ContainerEntity): Promise<ContainerEntity> {
    return manager.getRepository(ContainerEntity).save(container);
  }

  listContainers(
    filter: { siteIds: readonly string[] | null; shipmentId?: string },
    manager: EntityManager = this.dataSource.manager,
  ): Promise<ContainerEntity[]> {
    const qb = manager.getRepository(ContainerEntity).createQueryBuilder('c').orderBy('c.created_at', 'DESC');
    if (filter.siteIds) qb.andWhere('c.site_id = ANY(:siteIds)', { siteIds: filter.siteIds });
    if (filter.shipmentId) qb.andWhere('c.shipment_id = :sid', { sid: filter.shipmentId });
    return qb.limit(500).getMany();
  }

  async aggregate(
    manager: EntityManager,
    containerId: string,
    vialId: string,
    at: Date,
    by: string,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO aggregation (container_id, vial_id, packed_at, packed_by) VALUES ($1, $2, $3, $4)`,
      [containerId, vialId, at, by],
    );
  }

  async disaggregate(manager: EntityManager, vialId: string, at: Date, by: string | null): Promise<void> {
    await manager.query(
      `UPDATE aggregation SET unpacked_at = $2, unpacked_by = $3 WHERE vial_id = $1 AND unpacked_at IS NULL`,
      [vialId, at, by],
    );
  }

  // ── shipments ──
  insertShipment(
    manager: EntityManager,
    row: Pick<ShipmentEntity, 'fromSiteId' | 'toSiteId' | 'plannedArrivalAt' | 'createdBy' | 'createdAt'>,
  ): Promise<ShipmentEntity> {
    const repo = manager.getRepository(ShipmentEntity);
    return repo.save(
      repo.create({
        ...row,
        state: 'planned' as ShipmentState,
        dispatchedAt: null,
        dispatchedBy: null,
        receiptStartedAt: null,
        receivedAt: null,
        receivedBy: null,
        receiptResult: null,
        receiptSignatureId: null,
      }),
    );
  }

  lockShipment(manager: EntityManager, id: string): Promise<ShipmentEntity | null> {
    return manager
      .getRepository(ShipmentEntity)
      .createQueryBuilder('s')
      .setLock('pessimistic_write')
      .where({ id })
      .getOne();
  }

  findShipment(id: string, manager: EntityManager = this.dataSource.manager): Promise<ShipmentEntity | null> {
    return manager.getRepository(ShipmentEntity).findOneBy({ id });
  }

  saveShipment(manager: EntityManager, shipment: ShipmentEntity): Promise<ShipmentEntity> {
    return manager.getRepository(ShipmentEntity).save(shipment);
  }

  /** Shipments a reader may see: those leaving or addressed to its sites (null: all). */
  listShipments(siteIds: readonly string[] | null, limit = 200): Promise<ShipmentEntity[]> {
    const qb = this.dataSource
      .getRepository(ShipmentEntity)
      .createQueryBuilder('s')
      .orderBy('s.created_at', 'DESC');
    if (siteIds) qb.where('(s.to_site_id = ANY(:ids) OR s.from_site_id = ANY(:ids))', { ids: siteIds });
    return qb.limit(limit).getMany();
  }

  // ── receipt ──
  receiptLines(
    shipmentId: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<ReceiptLineEntity[]> {
    return manager
      .getRepository(ReceiptLineEntity)
      .find({ where: { shipmentId }, order: { recordedAt: 'ASC' } });
  }

  async insertReceiptLine(
    manager: EntityManager,
    row: Pick<ReceiptLineEntity, 'shipmentId' | 'vialId' | 'outcome' | 'recordedAt' | 'recordedBy'>,
  ): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      `INSERT INTO receipt_line (shipment_id, vial_id, outcome, recorded_at, recorded_by)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (shipment_id, vial_id) DO NOTHING RETURNING id`,
      [row.shipmentId, row.vialId, row.outcome, row.recordedAt, row.recordedBy],
    );
    return rows.length > 0;
  }

  async insertQaTask(
    manager: EntityManager,
    row: {
      kind: string;
      siteId: string;
      shipmentId: string | null;
      details: Record<string, unknown>;
      at: Date;
    },
  ): Promise<string> {
    const rows = await manager.query<{ id: string }[]>(
      `INSERT INTO qa_task (kind, site_id, shipment_id, details, state, created_at)
       VALUES ($1, $2, $3, $4, 'open', $5) RETURNING id`,
      [row.kind, row.siteId, row.shipmentId, row.details, row.at],
    );
    return rows[0]!.id;
  }

  // ── scans ──
  /**
   * Claims an idempotency key. Returns null when this transaction got it; otherwise the scan stored under
   * it. A concurrent claimant waits on the unique index until the first commits, then reads its answer;
   * if the first rolled back, the key is free again and this one gets it.
   */
  async claimScan(
    manager: EntityManager,
    row: ScanClaim,
  ): Promise<{ id: string; existing: ScanEntity | null }> {
    const inserted = await queryPrepared<{ id: string }>(manager, CLAIM_SCAN, claimValues(row));
    if (inserted[0]) return { id: inserted[0].id, existing: null };
    const existing = await this.scanByKey(manager, row.userId, row.idempotencyKey);
    return { id: existing.id, existing };
  }

  /** The scan stored under a user's idempotency key (which must exist). */
  scanByKey(manager: EntityManager, userId: string, idempotencyKey: string): Promise<ScanEntity> {
    return manager.getRepository(ScanEntity).findOneByOrFail({ userId, idempotencyKey });
  }

  /** `last`: nothing follows in the transaction, so its COMMIT may ride along (see queryPrepared). */
  async completeScan(
    manager: EntityManager,
    id: string,
    outcome: string,
    answer: Record<string, unknown>,
    options: StatementOptions = {},
  ): Promise<void> {
    await queryPrepared(
      manager,
      `UPDATE scan SET outcome = $2, answer = $3 WHERE id = $1`,
      [id, outcome, answer],
      options,
    );
  }
}
