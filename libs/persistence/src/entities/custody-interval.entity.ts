import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ContainerEntity } from './container.entity.js';
import { LocationEntity } from './location.entity.js';
import { SiteEntity } from './site.entity.js';
import { VialEntity } from './vial.entity.js';

/**
 * A vial at one holder from `from_at` to `to_at` (open: null). Every movement closes one interval and opens
 * the next in the same transaction as its audit event; at most one interval per vial is open (a vial is in
 * exactly one place at any time) and none is ever deleted (EU GDP 5.5: records of every transaction).
 * Holder: a location of a site, a site's receiving/staging area (site only), or a shipper (container; its own
 * state says whether it is at a site or on the road).
 */
@Entity({ name: 'custody_interval' })
@Index('IDX_custody_interval_vial', ['vialId', 'fromAt'])
@Index('UQ_custody_interval_open', ['vialId'], { unique: true, where: 'to_at IS NULL' })
@Index('IDX_custody_interval_location', ['locationId', 'fromAt'], { where: 'location_id IS NOT NULL' })
@Index('IDX_custody_interval_container', ['containerId', 'fromAt'], { where: 'container_id IS NOT NULL' })
@Check('CHK_custody_interval_times', `to_at IS NULL OR to_at >= from_at`)
@Check('CHK_custody_interval_holder', `site_id IS NOT NULL OR container_id IS NOT NULL`)
export class CustodyIntervalEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'vial_id', type: 'uuid' })
  vialId!: string;

  @ManyToOne(() => VialEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'vial_id' })
  vial?: VialEntity;

  @Column({ name: 'site_id', type: 'uuid', nullable: true })
  siteId!: string | null;

  @ManyToOne(() => SiteEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'site_id' })
  site?: SiteEntity;

  @Column({ name: 'location_id', type: 'uuid', nullable: true })
  locationId!: string | null;

  @ManyToOne(() => LocationEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'location_id' })
  location?: LocationEntity;

  @Column({ name: 'container_id', type: 'uuid', nullable: true })
  containerId!: string | null;

  @ManyToOne(() => ContainerEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'container_id' })
  container?: ContainerEntity;

  @Column({ name: 'from_at', type: 'timestamptz' })
  fromAt!: Date;

  @Column({ name: 'to_at', type: 'timestamptz', nullable: true })
  toAt!: Date | null;

  /** The step that opened it: commission, receive, putaway, move, pick, pack, unpack, dispatch, receipt… */
  @Column({ type: 'text' })
  step!: string;

  /** The user who made the movement; null for the system (e.g. a recall job). */
  @Column({ name: 'opened_by', type: 'uuid', nullable: true })
  openedBy!: string | null;
}
