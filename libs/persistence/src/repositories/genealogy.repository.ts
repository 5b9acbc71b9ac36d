import type { LotKind, LotStatus, QuantityUnit } from '@lyotrace/contracts';
import { DataSource, EntityManager, In } from 'typeorm';
import {
  LotEdgeEntity,
  LotEntity,
  ProductEntity,
  TransformationEntity,
  TransformationInputEntity,
  TransformationOutputEntity,
  VialEntity,
} from '../entities/index.js';

export interface NewLot {
  code: string;
  kind: LotKind;
  status: LotStatus;
  productId: string | null;
  siteId: string;
  quantity: string;
  remainingQuantity: string;
  unit: QuantityUnit;
  expiry: string | null;
  attributes: Record<string, unknown>;
  externalIds: Record<string, string>;
  recordedBy: string;
  recordedAt: Date;
}

export interface NewTransformation {
  siteId: string;
  occurredAt: Date;
  operatorId: string;
  recordedAt: Date;
  note: string | null;
  inputs: { lotId: string; quantity: string; unit: string }[];
  outputs: { lotId: string; quantity: string; unit: string }[];
}

export class GenealogyRepository {
  constructor(private readonly dataSource: DataSource) {}

  // ── products ──
  insertProduct(
    manager: EntityManager,
    p: Pick<ProductEntity, 'gtin' | 'name' | 'shelfLifeDays' | 'singleUse'>,
  ): Promise<ProductEntity> {
    const repo = manager.getRepository(ProductEntity);
    return repo.save(repo.create(p));
  }
  findProduct(id: string, manager: EntityManager = this.dataSource.manager): Promise<ProductEntity | null> {
    return manager.getRepository(ProductEntity).findOneBy({ id });
  }
  findProductByGtin(
    gtin: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<ProductEntity | null> {
    return manager.getRepository(ProductEntity).findOneBy({ gtin });
  }
  listProducts(): Promise<ProductEntity[]> {
    return this.dataSource.getRepository(ProductEntity).find({ order: { name: 'ASC' } });
  }

  // ── lots ──
  findLot(id: string, manager: EntityManager = this.dataSource.manager): Promise<LotEntity | null> {
    return manager.getRepository(LotEntity).findOneBy({ id });
  }
  findLotByCode(code: string, manager: EntityManager = this.dataSource.manager): Promise<LotEntity | null> {
    return manager.getRepository(LotEntity).findOneBy({ code });
  }
  listLots(filter: {
    kind?: LotKind;
    status?: LotStatus;
    limit: number;
    afterCode?: string;
  }): Promise<LotEntity[]> {
    const qb = this.dataSource
      .getRepository(LotEntity)
      .createQueryBuilder('l')
      .orderBy('l.code')
      .limit(filter.limit);
    if (filter.kind) qb.andWhere('l.kind = :kind', { kind: filter.kind });
    if (filter.status) qb.andWhere('l.status = :status', { status: filter.status });
    if (filter.afterCode) qb.andWhere('l.code > :after', { after: filter.afterCode });
    return qb.getMany();
  }

  /** Locks the lots for update, always in id order so that two transformations never deadlock. */
  async lockLots(manager: EntityManager, ids: readonly string[]): Promise<Map<string, LotEntity>> {
    if (ids.length === 0) return new Map();
    const rows = await manager
      .getRepository(LotEntity)
      .createQueryBuilder('l')
      .setLock('pessimistic_write')
      .where({ id: In([...ids]) })
      .orderBy('l.id')
      .getMany();
    return new Map(rows.map((l) => [l.id, l]));
  }

  insertLot(manager: EntityManager, lot: NewLot): Promise<LotEntity> {
    const repo = manager.getRepository(LotEntity);
    return repo.save(repo.create(lot));
  }

  async saveLot(manager: EntityManager, lot: LotEntity): Promise<LotEntity> {
    return manager.getRepository(LotEntity).save(lot);
  }

  /** Every valid ancestor of these lots (recursive over lot_edge). */
  async ancestorsOf(manager: EntityManager, lotIds: readonly string[]): Promise<Set<string>> {
    if (lotIds.length === 0) return new Set();
    const rows = await manager.query<{ id: string }[]>(
      `WITH RECURSIVE up(id) AS (
         SELECT e.parent_lot_id FROM lot_edge e WHERE e.child_lot_id = ANY($1::uuid[]) AND e.valid
         UNION
         SELECT e.parent_lot_id FROM lot_edge e JOIN up ON e.child_lot_id = up.id WHERE e.valid)
       SELECT id FROM up`,
      [lotIds],
    );
    return new Set(rows.map((r) => r.id));
  }

  // ── transformations ──
  async insertTransformation(manager: EntityManager, t: NewTransformation): Promise<TransformationEntity> {
    const row = await manager.getRepository(TransformationEntity).save(
      manager.getRepository(TransformationEntity).create({
        siteId: t.siteId,
        occurredAt: t.occurredAt,
        operatorId: t.operatorId,
        recordedAt: t.recordedAt,
        note: t.note,
        declaredInErrorAt: null,
        errorReason: null,
      }),
    );
    if (t.inputs.length > 0) {
      await manager
        .getRepository(TransformationInputEntity)
        .insert(t.inputs.map((i) => ({ ...i, transformationId: row.id })));
    }
    await manager
      .getRepository(TransformationOutputEntity)
      .insert(t.outputs.map((o) => ({ ...o, transformationId: row.id })));
    const edges = t.inputs.flatMap((i) =>
      t.outputs.map((o) => ({
        parentLotId: i.lotId,
        childLotId: o.lotId,
        transformationId: row.id,
        valid: true,
      })),
    );
    if (edges.length > 0) await manager.getRepository(LotEdgeEntity).insert(edges);
    return row;
  }

  findTransformation(
    id: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<TransformationEntity | null> {
    return manager.getRepository(TransformationEntity).findOneBy({ id });
  }
  lockTransformation(manager: EntityManager, id: string): Promise<TransformationEntity | null> {
    return manager
      .getRepository(TransformationEntity)
      .createQueryBuilder('t')
      .setLock('pessimistic_write')
      .where({ id })
      .getOne();
  }
  transformationInputs(manager: EntityManager, id: string): Promise<TransformationInputEntity[]> {
    return manager.getRepository(TransformationInputEntity).findBy({ transformationId: id });
  }
  transformationOutputs(manager: EntityManager, id: string): Promise<TransformationOutputEntity[]> {
    return manager.getRepository(TransformationOutputEntity).findBy({ transformationId: id });
  }
  async markTransformationInError(
    manager: EntityManager,
    id: string,
    at: Date,
    reason: string,
  ): Promise<void> {
    await manager
      .getRepository(TransformationEntity)
      .update({ id }, { declaredInErrorAt: at, errorReason: reason });
    await manager.getRepository(LotEdgeEntity).update({ transformationId: id }, { valid: false });
  }
  /** Is any of these lots consumed by a valid later transformation? */
  async anyConsumed(manager: EntityManager, lotIds: readonly string[]): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      `SELECT 1 FROM transformation_input i JOIN transformation t ON t.id = i.transformation_id
        WHERE i.lot_id = ANY($1::uuid[]) AND t.declared_in_error_at IS NULL LIMIT 1`,
      [lotIds],
    );
    return rows.length > 0;
  }

  // ── vials ──
  countVials(manager: EntityManager, lotId: string): Promise<number> {
    return manager.getRepository(VialEntity).countBy({ lotId });
  }

  /**
   * Inserts vials and opens each one's first custody interval (at the commissioning site); serials that
   * collide with an existing one are skipped and reported back.
   */
  async insertVials(
    manager: EntityManager,
    rows: Pick<
      VialEntity,
      'lotId' | 'gtin' | 'serial' | 'expiry' | 'state' | 'holderSiteId' | 'commissionedAt'
    >[],
    openedBy: string | null,
  ): Promise<VialEntity[]> {
    const result = await manager
      .createQueryBuilder()
      .insert()
      .into(VialEntity)
      .values(rows.map((r) => ({ ...r, recallId: null, version: 1 })))
      .orIgnore()
      .returning([
        'id',
        'lotId',
        'gtin',
        'serial',
        'expiry',
        'state',
        'holderSiteId',
        'commissionedAt',
        'version',
      ])
      .execute();
    const inserted = result.raw as Record<string, unknown>[];
    if (inserted.length > 0) {
      await manager.query(
        `INSERT INTO custody_interval (vial_id, site_id, from_at, step, opened_by)
         SELECT v, $2::uuid, $3::timestamptz, 'commission', $4::uuid FROM unnest($1::uuid[]) AS v`,
        [inserted.map((r) => r.id), rows[0]!.holderSiteId, rows[0]!.commissionedAt, openedBy],
      );
    }
    return inserted.map((r) => ({
      id: r.id as string,
      lotId: r.lot_id as string,
      gtin: r.gtin as string,
      serial: r.serial as string,
      expiry: r.expiry as string,
      state: r.state as VialEntity['state'],
      holderSiteId: r.holder_site_id as string,
      commissionedAt: r.commissioned_at as Date,
      recallId: null,
      locationId: null,
      containerId: null,
      hold: null,
      holdReason: null,
      exposureOutOfRangeS: 0,
      version: r.version as number,
    }));
  }

  listVials(lotId: string, limit: number, afterSerial?: string): Promise<VialEntity[]> {
    const qb = this.dataSource
      .getRepository(VialEntity)
      .createQueryBuilder('v')
      .where('v.lot_id = :lotId', { lotId })
      .orderBy('v.serial')
      .limit(limit);
    if (afterSerial) qb.andWhere('v.serial > :after', { after: afterSerial });
    return qb.getMany();
  }

  /** Vials of a lot by state: the reconciliation of a finished lot. */
  async vialStateCounts(lotId: string): Promise<Record<string, number>> {
    const rows = await this.dataSource.query<{ state: string; n: string }[]>(
      'SELECT state, count(*) AS n FROM vial WHERE lot_id = $1 GROUP BY state',
      [lotId],
    );
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }

  /** Held vials of a lot by hold (quarantine, under investigation); they are counted in their state too. */
  async vialHoldCounts(lotId: string): Promise<Record<string, number>> {
    const rows = await this.dataSource.query<{ hold: string; n: string }[]>(
      'SELECT hold, count(*) AS n FROM vial WHERE lot_id = $1 AND hold IS NOT NULL GROUP BY hold',
      [lotId],
    );
    return Object.fromEntries(rows.map((r) => [r.hold, Number(r.n)]));
  }

  findVial(id: string): Promise<VialEntity | null> {
    return this.dataSource.getRepository(VialEntity).findOneBy({ id });
  }
  findVialBySgtin(gtin: string, serial: string): Promise<VialEntity | null> {
    return this.dataSource.getRepository(VialEntity).findOneBy({ gtin, serial });
  }
}
