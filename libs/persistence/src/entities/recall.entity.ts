import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  VersionColumn,
} from 'typeorm';
import { LotEntity } from './lot.entity.js';
import { SiteEntity } from './site.entity.js';
import { VialEntity } from './vial.entity.js';

/** A recall of everything downstream of one genealogy node, opened and closed with e-signatures. */
@Entity({ name: 'recall' })
@Check('CHK_recall_status', `status IN ('open','closed')`)
export class RecallEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'scope_lot_id', type: 'uuid' })
  scopeLotId!: string;

  @ManyToOne(() => LotEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'scope_lot_id' })
  scopeLot?: LotEntity;

  @Column({ type: 'text' })
  reason!: string;

  @Column({ type: 'text' })
  status!: 'open' | 'closed';

  @Column({ name: 'opened_by', type: 'uuid' })
  openedBy!: string;

  @Column({ name: 'opened_at', type: 'timestamptz' })
  openedAt!: Date;

  @Column({ name: 'open_signature_id', type: 'uuid' })
  openSignatureId!: string;

  /** Set by the propagation job; null means it has still to run (the sweeper queues it again). */
  @Column({ name: 'propagated_at', type: 'timestamptz', nullable: true })
  propagatedAt!: Date | null;

  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true })
  closedAt!: Date | null;

  @Column({ name: 'close_signature_id', type: 'uuid', nullable: true })
  closeSignatureId!: string | null;

  @VersionColumn()
  version!: number;
}

/** One vial caught by a recall: where it was, and what finally became of it (null: not yet accounted for). */
@Entity({ name: 'recall_item' })
@Index('IDX_recall_item_holder', ['recallId', 'holderSiteId'])
@Check('CHK_recall_item_final', `final_state IS NULL OR final_state IN ('returned','destroyed','dispensed')`)
export class RecallItemEntity {
  @PrimaryColumn({ name: 'recall_id', type: 'uuid' })
  recallId!: string;

  @ManyToOne(() => RecallEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'recall_id' })
  recall?: RecallEntity;

  @PrimaryColumn({ name: 'vial_id', type: 'uuid' })
  vialId!: string;

  @ManyToOne(() => VialEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'vial_id' })
  vial?: VialEntity;

  @Column({ name: 'holder_site_id', type: 'uuid' })
  holderSiteId!: string;

  @ManyToOne(() => SiteEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'holder_site_id' })
  holderSite?: SiteEntity;

  @Column({ name: 'state_at_recall', type: 'text' })
  stateAtRecall!: string;

  @Column({ name: 'final_state', type: 'text', nullable: true })
  finalState!: 'returned' | 'destroyed' | 'dispensed' | null;

  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true })
  resolvedAt!: Date | null;

  @Column({ name: 'resolved_by', type: 'uuid', nullable: true })
  resolvedBy!: string | null;
}
