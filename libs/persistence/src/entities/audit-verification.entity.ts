import { Check, Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type AuditVerificationStatus = 'queued' | 'running' | 'intact' | 'broken' | 'failed';

/** One run of the audit-chain check, whether asked for by a person or scheduled (Annex 11 §9 review). */
@Entity({ name: 'audit_verification' })
@Check('CHK_audit_verification_status', `status IN ('queued','running','intact','broken','failed')`)
export class AuditVerificationEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'requested_by', type: 'text' })
  requestedBy!: string;

  @Column({ name: 'requested_at', type: 'timestamptz' })
  requestedAt!: Date;

  @Column({ type: 'text' })
  status!: AuditVerificationStatus;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  @Column({ name: 'events_checked', type: 'bigint', nullable: true })
  eventsChecked!: string | null;

  @Column({ name: 'first_broken', type: 'jsonb', nullable: true })
  firstBroken!: Record<string, unknown> | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  /** Each lane's last row when this run found the chain intact: the next run checks they still exist. */
  @Column({ name: 'lane_heads', type: 'jsonb', nullable: true })
  laneHeads!: Record<string, { seq: string; hash: string }> | null;
}
