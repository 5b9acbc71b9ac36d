import type { ScanAction, ScanOutcome } from '@lyotrace/contracts';
import { Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { UserEntity } from './user.entity.js';

/**
 * One scan and the answer it got, kept under the client's idempotency key: a retried scan (same user, same
 * key) returns this answer and changes nothing. Refusals are kept too (they are audited).
 */
@Entity({ name: 'scan' })
@Unique('UQ_scan_idempotency', ['userId', 'idempotencyKey'])
export class ScanEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne(() => UserEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;

  @Column({ name: 'idempotency_key', type: 'text' })
  idempotencyKey!: string;

  /** SHA-256 of the canonical request: the same key with another request is refused, never answered. */
  @Column({ name: 'request_hash', type: 'text' })
  requestHash!: string;

  @Column({ type: 'text' })
  action!: ScanAction;

  @Column({ type: 'text' })
  raw!: string;

  @Column({ type: 'text' })
  outcome!: ScanOutcome;

  @Column({ type: 'jsonb' })
  answer!: Record<string, unknown>;

  @Column({ name: 'scanned_at', type: 'timestamptz' })
  scannedAt!: Date;
}
