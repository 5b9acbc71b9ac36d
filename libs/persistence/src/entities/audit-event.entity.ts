import type { AuditActorKind } from '@lyotrace/contracts';
import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One entry of the audit trail. Append-only: a database trigger refuses UPDATE, DELETE and TRUNCATE, and
 * each row is hash-chained within its lane (see libs/domain audit-chain.ts).
 */
@Entity({ name: 'audit_event' })
@Index('UQ_audit_event_lane_seq', ['lane', 'laneSeq'], { unique: true })
@Index('IDX_audit_event_entity', ['entityType', 'entityId'])
@Index('IDX_audit_event_actor', ['actorId'])
@Index('IDX_audit_event_actor_name', ['actorName'])
@Index('IDX_audit_event_occurred_at', ['occurredAt'])
@Check('CHK_audit_event_lane', `lane >= 0 AND lane_seq >= 1`)
@Check('CHK_audit_event_actor_kind', `actor_kind IN ('user','bridge','system')`)
@Check('CHK_audit_event_hashes', `hash ~ '^[0-9a-f]{64}$' AND prev_hash ~ '^[0-9a-f]{64}$'`)
export class AuditEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'smallint' })
  lane!: number;

  @Column({ name: 'lane_seq', type: 'bigint' })
  laneSeq!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ name: 'actor_kind', type: 'text' })
  actorKind!: AuditActorKind;

  @Column({ name: 'actor_id', type: 'text', nullable: true })
  actorId!: string | null;

  @Column({ name: 'actor_name', type: 'text' })
  actorName!: string;

  @Column({ type: 'text' })
  action!: string;

  @Column({ name: 'entity_type', type: 'text' })
  entityType!: string;

  @Column({ name: 'entity_id', type: 'text' })
  entityId!: string;

  @Column({ name: 'old_values', type: 'jsonb', nullable: true })
  oldValues!: Record<string, unknown> | null;

  @Column({ name: 'new_values', type: 'jsonb', nullable: true })
  newValues!: Record<string, unknown> | null;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId!: string | null;

  @Column({ name: 'prev_hash', type: 'text' })
  prevHash!: string;

  @Column({ type: 'text' })
  hash!: string;
}
