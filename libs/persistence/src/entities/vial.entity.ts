import type { VialState } from '@lyotrace/contracts';
import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
  VersionColumn,
} from 'typeorm';
import { LotEntity } from './lot.entity.js';
import { SiteEntity } from './site.entity.js';

/** A serialized unit of a finished lot: SGTIN (GTIN + serial) with lot and expiry. */
@Entity({ name: 'vial' })
@Unique('UQ_vial_gtin_serial', ['gtin', 'serial'])
@Index('IDX_vial_lot', ['lotId'])
@Index('IDX_vial_holder', ['holderSiteId'])
@Check('CHK_vial_state', `state IN ('in_stock','in_transit','at_clinic','dispensed','destroyed','sample')`)
export class VialEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'lot_id', type: 'uuid' })
  lotId!: string;

  @ManyToOne(() => LotEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'lot_id' })
  lot?: LotEntity;

  @Column({ type: 'text' })
  gtin!: string;

  @Column({ type: 'text' })
  serial!: string;

  @Column({ type: 'date' })
  expiry!: string;

  @Column({ type: 'text' })
  state!: VialState;

  /** The site that holds the vial now (for a vial in transit: the site it left). */
  @Column({ name: 'holder_site_id', type: 'uuid' })
  holderSiteId!: string;

  @ManyToOne(() => SiteEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'holder_site_id' })
  holderSite?: SiteEntity;

  @Column({ name: 'commissioned_at', type: 'timestamptz' })
  commissionedAt!: Date;

  /** Set by a recall (persistent: blocks shipping, receipt into stock and dosing). */
  @Column({ name: 'recall_id', type: 'uuid', nullable: true })
  recallId!: string | null;

  @VersionColumn()
  version!: number;
}
