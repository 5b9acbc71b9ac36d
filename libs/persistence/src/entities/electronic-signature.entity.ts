import { SignatureMeaning } from '@lyotrace/contracts';
import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from './user.entity.js';

/**
 * 21 CFR Part 11 §11.50 / §11.70: an executed signature, bound to one version of one record by the
 * record's id, version number and a hash of its content. Append-only like the audit trail.
 */
@Entity({ name: 'electronic_signature' })
@Index('IDX_electronic_signature_record', ['entityType', 'entityId'])
@Check('CHK_electronic_signature_meaning', `meaning IN ('approval','review','responsibility','authorship')`)
@Check('CHK_electronic_signature_reason', `length(btrim(reason)) > 0`)
@Check('CHK_electronic_signature_hash', `content_hash ~ '^[0-9a-f]{64}$'`)
export class ElectronicSignatureEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne(() => UserEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;

  @Column({ type: 'text' })
  username!: string;

  @Column({ name: 'printed_name', type: 'text' })
  printedName!: string;

  @Column({ type: 'text' })
  meaning!: SignatureMeaning;

  @Column({ type: 'text' })
  reason!: string;

  @Column({ name: 'signed_at', type: 'timestamptz' })
  signedAt!: Date;

  @Column({ name: 'entity_type', type: 'text' })
  entityType!: string;

  @Column({ name: 'entity_id', type: 'text' })
  entityId!: string;

  @Column({ name: 'entity_version', type: 'int' })
  entityVersion!: number;

  @Column({ name: 'content_hash', type: 'text' })
  contentHash!: string;
}
