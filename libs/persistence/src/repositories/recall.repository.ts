import { DataSource, EntityManager } from 'typeorm';
import { RecallEntity, RecallItemEntity } from '../entities/index.js';

export interface MarkedVial {
  id: string;
  gtin: string;
  serial: string;
  holder_site_id: string;
  state: string;
}

export interface RecallCounts {
  total: number;
  unaccounted: number;
  returned: number;
  destroyed: number;
  dispensed: number;
}

const DOWNSTREAM = `WITH RECURSIVE down(id) AS (
    SELECT $2::uuid
    UNION
    SELECT e.child_lot_id FROM lot_edge e JOIN down ON e.parent_lot_id = down.id WHERE e.valid)`;

export class RecallRepository {
  constructor(private readonly dataSource: DataSource) {}

  insert(
    manager: EntityManager,
    row: Pick<RecallEntity, 'scopeLotId' | 'reason' | 'openedBy' | 'openedAt' | 'openSignatureId'>,
  ): Promise<RecallEntity> {
    const repo = manager.getRepository(RecallEntity);
    return repo.save(
      repo.create({ ...row, status: 'open', propagatedAt: null, closedAt: null, closeSignatureId: null }),
    );
  }

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<RecallEntity | null> {
    return manager.getRepository(RecallEntity).findOneBy({ id });
  }

  lock(manager: EntityManager, id: string): Promise<RecallEntity | null> {
    return manager
      .getRepository(RecallEntity)
      .createQueryBuilder('r')
      .setLock('pessimistic_write')
      .where({ id })
      .getOne();
  }

  save(manager: EntityManager, recall: RecallEntity): Promise<RecallEntity> {
    return manager.getRepository(RecallEntity).save(recall);
  }

  async pendingPropagation(): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT id FROM recall WHERE propagated_at IS NULL AND status = 'open'`,
    );
    return rows.map((r) => r.id);
  }

  /**
   * Marks every downstream vial that is still in circulation as recalled and lists it (unaccounted); lists
   * the vials already dispensed (patients to follow up) or destroyed as accounted for. Set-based and safe to
   * run twice: a vial already marked is not marked again, an item already listed is not listed again.
   */
  async propagate(manager: EntityManager, recallId: string, scopeLotId: string): Promise<MarkedVial[]> {
    const marked = await manager.query<MarkedVial[]>(
      `${DOWNSTREAM},
       marked AS (
         UPDATE vial v SET recall_id = $1, version = v.version + 1
          WHERE v.lot_id IN (SELECT id FROM down) AND v.recall_id IS NULL AND v.state NOT IN ('dispensed', 'destroyed')
          RETURNING v.id, v.gtin, v.serial, v.holder_site_id, v.state),
       listed AS (
         INSERT INTO recall_item (recall_id, vial_id, holder_site_id, state_at_recall, final_state)
         SELECT $1, id, holder_site_id, state, NULL FROM marked ON CONFLICT DO NOTHING)
       SELECT * FROM marked`,
      [recallId, scopeLotId],
    );
    await manager.query(
      `${DOWNSTREAM}
       INSERT INTO recall_item (recall_id, vial_id, holder_site_id, state_at_recall, final_state)
       SELECT $1, v.id, v.holder_site_id, v.state, v.state FROM vial v
        WHERE v.lot_id IN (SELECT id FROM down) AND v.state IN ('dispensed', 'destroyed')
       ON CONFLICT DO NOTHING`,
      [recallId, scopeLotId],
    );
    return marked;
  }

  async counts(recallId: string, siteIds: readonly string[] | null = null): Promise<RecallCounts> {
    const rows = await this.dataSource.query<{ final_state: string | null; n: string }[]>(
      `SELECT final_state, count(*) AS n FROM recall_item WHERE recall_id = $1 AND ($2::uuid[] IS NULL OR holder_site_id = ANY($2::uuid[])) GROUP BY final_state`,
      [recallId, siteIds],
    );
    const by = (s: string | null) => Number(rows.find((r) => r.final_state === s)?.n ?? 0);
    const total = rows.reduce((a, r) => a + Number(r.n), 0);
    return {
      total,
      unaccounted: by(null),
      returned: by('returned'),
      destroyed: by('destroyed'),
      dispensed: by('dispensed'),
    };
  }

  items(recallId: string, siteIds: readonly string[] | null, limit: number, afterVialId?: string) {
    return this.dataSource.query<
      {
        vial_id: string;
        gtin: string;
        serial: string;
        lot_code: string;
        holder_site_id: string;
        holder_site_code: string;
        state_at_recall: string;
        final_state: string | null;
        dose_id: string | null;
        administered_at: Date | null;
        patient_ref: string | null;
      }[]
    >(
      `SELECT i.vial_id, v.gtin, v.serial, l.code AS lot_code, i.holder_site_id, s.code AS holder_site_code, i.state_at_recall, i.final_state,
              d.id AS dose_id, d.administered_at, p.ref AS patient_ref
         FROM recall_item i JOIN vial v ON v.id = i.vial_id JOIN lot l ON l.id = v.lot_id JOIN site s ON s.id = i.holder_site_id
         LEFT JOIN dose d ON d.vial_id = i.vial_id LEFT JOIN patient p ON p.id = d.patient_id
        WHERE i.recall_id = $1 AND ($2::uuid[] IS NULL OR i.holder_site_id = ANY($2::uuid[])) AND ($3::uuid IS NULL OR i.vial_id > $3::uuid)
        ORDER BY i.vial_id LIMIT $4`,
      [recallId, siteIds, afterVialId ?? null, limit],
    );
  }

  /**
   * The doses of the recalled vials, with the pseudonymous patient and the clinic that gave them, restricted to
   * the reader's clinics (null: all). A vial dosed before the recall is listed as accounted for (`dispensed`).
   */
  dosedPatients(recallId: string, siteIds: readonly string[] | null) {
    return this.dataSource.query<
      {
        site_id: string;
        site_code: string;
        site_name: string;
        patient_ref: string;
        dose_id: string;
        administered_at: Date;
        vial_id: string;
        gtin: string;
        serial: string;
        lot_code: string;
      }[]
    >(
      `SELECT d.site_id, s.code AS site_code, s.name AS site_name, p.ref AS patient_ref, d.id AS dose_id,
              d.administered_at, v.id AS vial_id, v.gtin, v.serial, l.code AS lot_code
         FROM recall_item i JOIN dose d ON d.vial_id = i.vial_id JOIN patient p ON p.id = d.patient_id
         JOIN site s ON s.id = d.site_id JOIN vial v ON v.id = i.vial_id JOIN lot l ON l.id = v.lot_id
        WHERE i.recall_id = $1 AND ($2::uuid[] IS NULL OR d.site_id = ANY($2::uuid[]))
        ORDER BY s.code, p.ref, d.administered_at, d.id`,
      [recallId, siteIds],
    );
  }

  lockItem(manager: EntityManager, recallId: string, vialId: string): Promise<RecallItemEntity | null> {
    return manager
      .getRepository(RecallItemEntity)
      .createQueryBuilder('i')
      .setLock('pessimistic_write')
      .where({ recallId, vialId })
      .getOne();
  }

  async resolveItem(manager: EntityManager, item: RecallItemEntity): Promise<void> {
    await manager
      .getRepository(RecallItemEntity)
      .update(
        { recallId: item.recallId, vialId: item.vialId },
        { finalState: item.finalState, resolvedAt: item.resolvedAt, resolvedBy: item.resolvedBy },
      );
  }

  async destroyVial(manager: EntityManager, vialId: string): Promise<void> {
    await manager.query(`UPDATE vial SET state = 'destroyed', version = version + 1 WHERE id = $1`, [vialId]);
  }
}
