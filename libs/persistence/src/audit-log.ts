import { Actor, AuditActorKind } from '@lyotrace/contracts';
import { auditEventHash, Clock, GENESIS_HASH, normalise } from '@lyotrace/domain';
import { EntityManager } from 'typeorm';

/** Advisory-lock namespace of audit lanes ("LY" + 1), so our locks never collide with another key space. */
export const AUDIT_LANE_LOCK_NAMESPACE = 0x4c5901;

export interface AuditEntry {
  action: string;
  entityType: string;
  entityId: string;
  oldValues?: Record<string, unknown> | null;
  newValues?: Record<string, unknown> | null;
  reason?: string | null;
}

export interface ActorContext {
  actor: Actor;
  requestId?: string | null;
}

export function actorIdentity(actor: Actor): { kind: AuditActorKind; id: string | null; name: string } {
  switch (actor.kind) {
    case 'user':
      return { kind: 'user', id: actor.userId, name: actor.username };
    case 'bridge':
      return { kind: 'bridge', id: actor.credentialId, name: `bridge:${actor.name}` };
    case 'system':
      return { kind: 'system', id: null, name: actor.name };
  }
}

interface LaneHead {
  lane: number;
  seq: bigint;
  hash: string;
}

/**
 * Appends hash-chained audit events inside the caller's transaction (Part 11 §11.10(e): the audit record is
 * written with the change it records, or not at all).
 *
 * Concurrency: the chain is split into N lanes. The first event of a transaction claims one lane with a
 * transaction-scoped advisory lock, trying a random free lane first (`pg_try_advisory_xact_lock`) and
 * waiting only when all N are busy; every later event of that transaction goes to the same lane. So at
 * most N writing transactions proceed at once instead of one, a transaction never holds two lanes (no
 * lane deadlocks), and the lock is released by COMMIT/ROLLBACK itself.
 */
export class AuditLog {
  private readonly heads = new WeakMap<EntityManager, LaneHead>();

  constructor(
    private readonly lanes: number,
    private readonly clock: Clock,
  ) {}

  async append(manager: EntityManager, ctx: ActorContext, entry: AuditEntry): Promise<string> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('AuditLog.append must run inside a transaction');
    }
    const head = this.heads.get(manager) ?? (await this.claimLane(manager));
    const who = actorIdentity(ctx.actor);
    const content = {
      lane: head.lane,
      laneSeq: head.seq + 1n,
      occurredAt: this.clock.now(),
      actorKind: who.kind,
      actorId: who.id,
      actorName: who.name,
      action: entry.action,
      entityType: entry.entityType,
      entityId: entry.entityId,
      // jsonb keeps what JSON can say: normalise first so that the hash covers exactly what is stored.
      oldValues: (entry.oldValues ? normalise(entry.oldValues) : null) as Record<string, unknown> | null,
      newValues: (entry.newValues ? normalise(entry.newValues) : null) as Record<string, unknown> | null,
      reason: entry.reason ?? null,
      requestId: ctx.requestId ?? null,
    };
    const hash = auditEventHash(content, head.hash);
    const rows = await manager.query<{ id: string }[]>(
      `INSERT INTO audit_event (lane, lane_seq, occurred_at, actor_kind, actor_id, actor_name, action, entity_type,
         entity_id, old_values, new_values, reason, request_id, prev_hash, hash)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) RETURNING id`,
      [
        content.lane,
        content.laneSeq.toString(),
        content.occurredAt,
        content.actorKind,
        content.actorId,
        content.actorName,
        content.action,
        content.entityType,
        content.entityId,
        content.oldValues === null ? null : JSON.stringify(content.oldValues),
        content.newValues === null ? null : JSON.stringify(content.newValues),
        content.reason,
        content.requestId,
        head.hash,
        hash,
      ],
    );
    this.heads.set(manager, { lane: head.lane, seq: content.laneSeq, hash });
    return rows[0]!.id;
  }

  private async claimLane(manager: EntityManager): Promise<LaneHead> {
    const start = Math.floor(Math.random() * this.lanes);
    const free = await manager.query<{ lane: number }[]>(
      `SELECT ((s + $2) % $3)::int AS lane FROM generate_series(0, $3 - 1) AS s
        WHERE pg_try_advisory_xact_lock($1, ((s + $2) % $3)::int) LIMIT 1`,
      [AUDIT_LANE_LOCK_NAMESPACE, start, this.lanes],
    );
    let lane = free[0]?.lane;
    if (lane === undefined) {
      lane = start;
      await manager.query('SELECT pg_advisory_xact_lock($1, $2)', [AUDIT_LANE_LOCK_NAMESPACE, lane]);
    }
    const last = await manager.query<{ lane_seq: string; hash: string }[]>(
      'SELECT lane_seq, hash FROM audit_event WHERE lane = $1 ORDER BY lane_seq DESC LIMIT 1',
      [lane],
    );
    const head: LaneHead = last[0]
      ? { lane, seq: BigInt(last[0].lane_seq), hash: last[0].hash }
      : { lane, seq: 0n, hash: GENESIS_HASH };
    this.heads.set(manager, head);
    return head;
  }
}
