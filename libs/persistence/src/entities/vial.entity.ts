import type { VialHold, VialState } from '@lyotrace/contracts';
import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  type Relation,
  Unique,
  VersionColumn,
} from 'typeorm';
import { ContainerEntity } from './container.entity.js';
import { LocationEntity } from './location.entity.js';
import { LotEntity } from './lot.entity.js';
import { SiteEntity } from './site.entity.js';

/** A serialized unit of a finished lot: SGTIN (GTIN + serial) with lot and expiry. */
@Entity({ name: 'vial' })
@Unique('UQ_vial_gtin_serial', ['gtin', 'serial'])
@Index('IDX_vial_lot_serial', ['lotId', 'serial'])
@Index('IDX_vial_holder', ['holderSiteId'])
@Check('CHK_vial_hold', `hold IS NULL OR hold IN ('quarantine','under_investigation')`)
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

  /** Where in the holder site it is (null: receiving/staging area, in a shipper, or gone). Mirrors custody. */
  @Column({ name: 'location_id', type: 'uuid', nullable: true })
  locationId!: string | null;

  @ManyToOne(() => LocationEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'location_id' })
  location?: LocationEntity;

  /** The shipper it is packed in now. Mirrors the open aggregation row. */
  @Column({ name: 'container_id', type: 'uuid', nullable: true })
  containerId!: string | null;

  @ManyToOne(() => ContainerEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'container_id' })
  // Relation<>: vial and container import each other; this keeps the decorator metadata out of the cycle.
  container?: Relation<ContainerEntity>;

  /** A QA hold (quarantine, under investigation): the vial passes no gate until QA dispositions it. */
  @Column({ type: 'text', nullable: true })
  hold!: VialHold | null;

  @Column({ name: 'hold_reason', type: 'text', nullable: true })
  holdReason!: string | null;

  /**
   * Time out of its storage range the vial has seen over its life, in seconds: the excursion engine (a later
   * issue) adds to it; the gate compares it with the product's stability budget.
   */
  @Column({ name: 'exposure_out_of_range_s', type: 'int', default: 0 })
  exposureOutOfRangeS!: number;

  /** Set by a recall (persistent: blocks shipping, receipt into stock and dosing). */
  @Column({ name: 'recall_id', type: 'uuid', nullable: true })
  recallId!: string | null;

  @VersionColumn()
  version!: number;
}
