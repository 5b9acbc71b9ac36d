import { AuditEventView } from '@lyotrace/contracts';
import { ChainedAuditRow } from '@lyotrace/domain';
import { DataSource } from 'typeorm';
import { AuditEventEntity } from '../entities/index.js';

export interface AuditQuery {
  entityType?: string;
  entityId?: string;
  actorId?: string;
  actorName?: string;
  action?: string;
  from?: Date;
  to?: Date;
  /** Keyset paging: only events with id below this one (newest first). */
  beforeId?: string;
  limit: number;
}

interface AuditRow {
  id: string;
  lane: number;
  lane_seq: string;
  occurred_at: Date;
  actor_kind: AuditEventView['actorKind'];
  actor_id: string | null;
  actor_name: string;
  action: string;
  entity_type: string;
  entity_id: string;
  old_values: Record<string, unknown> | null;
  new_values: Record<string, unknown> | null;
  reason: string | null;
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

const toChained = (r: AuditRow): ChainedAuditRow => ({
  id: r.id,
  lane: r.lane,
  laneSeq: BigInt(r.lane_seq),
  occurredAt: r.occurred_at,
  actorKind: r.actor_kind,
  actorId: r.actor_id,
  actorName: r.actor_name,
  action: r.action,
  entityType: r.entity_type,
  entityId: r.entity_id,
  oldValues: r.old_values,
  newValues: r.new_values,
  reason: r.reason,
  requestId: r.request_id,
  prevHash: r.prev_hash,
  hash: r.hash,
});

export const toAuditView = (e: AuditEventEntity): AuditEventView => ({
  id: e.id,
  lane: e.lane,
  laneSeq: e.laneSeq,
  occurredAt: e.occurredAt.toISOString(),
  actorKind: e.actorKind,
  actorId: e.actorId,
  actorName: e.actorName,
  action: e.action,
  entityType: e.entityType,
  entityId: e.entityId,
  oldValues: e.oldValues,
  newValues: e.newValues,
  reason: e.reason,
  requestId: e.requestId,
  prevHash: e.prevHash,
  hash: e.hash,
});

export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  find(q: AuditQuery): Promise<AuditEventEntity[]> {
    const qb = this.dataSource
      .getRepository(AuditEventEntity)
      .createQueryBuilder('a')
      .orderBy('a.id', 'DESC')
      .limit(q.limit);
    if (q.entityType) qb.andWhere('a.entity_type = :entityType', { entityType: q.entityType });
    if (q.entityId) qb.andWhere('a.entity_id = :entityId', { entityId: q.entityId });
    if (q.actorId) qb.andWhere('a.actor_id = :actorId', { actorId: q.actorId });
    if (q.actorName) qb.andWhere('a.actor_name = :actorName', { actorName: q.actorName });
    if (q.action) qb.andWhere('a.action = :action', { action: q.action });
    if (q.from) qb.andWhere('a.occurred_at >= :from', { from: q.from });
    if (q.to) qb.andWhere('a.occurred_at < :to', { to: q.to });
    if (q.beforeId) qb.andWhere('a.id < :beforeId', { beforeId: q.beforeId });
    return qb.getMany();
  }

  async lanes(): Promise<number[]> {
    const rows = await this.dataSource.query<{ lane: number }[]>(
      'SELECT DISTINCT lane FROM audit_event ORDER BY lane',
    );
    return rows.map((r) => r.lane);
  }

  /**
   * Streams one lane in chain order, a page at a time (keyset on lane_seq), so verifying millions of events
   * needs constant memory.
   */
  async *laneInOrder(lane: number, pageSize = 5_000): AsyncGenerator<ChainedAuditRow> {
    let after = '0';
    for (;;) {
      const rows = await this.dataSource.query<AuditRow[]>(
        `SELECT id, lane, lane_seq, occurred_at, actor_kind, actor_id, actor_name, action, entity_type, entity_id,
                old_values, new_values, reason, request_id, prev_hash, hash
           FROM audit_event WHERE lane = $1 AND lane_seq > $2 ORDER BY lane_seq LIMIT $3`,
        [lane, after, pageSize],
      );
      for (const r of rows) yield toChained(r);
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.lane_seq;
    }
  }
}
