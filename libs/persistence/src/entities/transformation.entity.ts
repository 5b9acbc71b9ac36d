import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { LotEntity } from './lot.entity.js';
import { SiteEntity } from './site.entity.js';
import { UserEntity } from './user.entity.js';

/**
 * One production step: inputs consumed → outputs produced, with quantities, time and operator. Never
 * deleted: a wrong one is declared in error (EPCIS errorDeclaration) with a reason, and stays visible.
 */
@Entity({ name: 'transformation' })
export class TransformationEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'site_id', type: 'uuid' })
  siteId!: string;

  @ManyToOne(() => SiteEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'site_id' })
  site?: SiteEntity;

  /** When the step happened on the floor (may precede its recording). */
  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ name: 'operator_id', type: 'uuid' })
  operatorId!: string;

  @ManyToOne(() => UserEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'operator_id' })
  operator?: UserEntity;

  @Column({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt!: Date;

  @Column({ type: 'text', nullable: true })
  note!: string | null;

  @Column({ name: 'declared_in_error_at', type: 'timestamptz', nullable: true })
  declaredInErrorAt!: Date | null;

  @Column({ name: 'error_reason', type: 'text', nullable: true })
  errorReason!: string | null;
}

@Entity({ name: 'transformation_input' })
@Index('IDX_transformation_input_lot', ['lotId'])
export class TransformationInputEntity {
  @PrimaryColumn({ name: 'transformation_id', type: 'uuid' })
  transformationId!: string;

  @ManyToOne(() => TransformationEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'transformation_id' })
  transformation?: TransformationEntity;

  @PrimaryColumn({ name: 'lot_id', type: 'uuid' })
  lotId!: string;

  @ManyToOne(() => LotEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'lot_id' })
  lot?: LotEntity;

  @Column({ type: 'numeric', precision: 18, scale: 6 })
  quantity!: string;

  @Column({ type: 'text' })
  unit!: string;
}

@Entity({ name: 'transformation_output' })
@Index('IDX_transformation_output_lot', ['lotId'])
export class TransformationOutputEntity {
  @PrimaryColumn({ name: 'transformation_id', type: 'uuid' })
  transformationId!: string;

  @ManyToOne(() => TransformationEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'transformation_id' })
  transformation?: TransformationEntity;

  @PrimaryColumn({ name: 'lot_id', type: 'uuid' })
  lotId!: string;

  @ManyToOne(() => LotEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'lot_id' })
  lot?: LotEntity;

  @Column({ type: 'numeric', precision: 18, scale: 6 })
  quantity!: string;

  @Column({ type: 'text' })
  unit!: string;
}

/**
 * parent → child, one row per transformation that links them: the adjacency the recursive trace queries
 * walk (indexed both ways). Derived from transformation inputs × outputs in the same transaction.
 */
@Entity({ name: 'lot_edge' })
@Index('IDX_lot_edge_child', ['childLotId', 'parentLotId'])
export class LotEdgeEntity {
  @PrimaryColumn({ name: 'parent_lot_id', type: 'uuid' })
  parentLotId!: string;

  @PrimaryColumn({ name: 'child_lot_id', type: 'uuid' })
  childLotId!: string;

  @PrimaryColumn({ name: 'transformation_id', type: 'uuid' })
  transformationId!: string;

  @ManyToOne(() => LotEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'parent_lot_id' })
  parent?: LotEntity;

  @ManyToOne(() => LotEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'child_lot_id' })
  child?: LotEntity;

  @ManyToOne(() => TransformationEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'transformation_id' })
  transformation?: TransformationEntity;

  /** False once its transformation is declared in error: kept for the record, skipped by traces. */
  @Column({ type: 'boolean', default: true })
  valid!: boolean;
}
