import type { LotKind, LotStatus, QuantityUnit } from '@lyotrace/contracts';
import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  VersionColumn,
} from 'typeorm';
import { ProductEntity } from './product.entity.js';
import { SiteEntity } from './site.entity.js';
import { UserEntity } from './user.entity.js';

/** A node of the genealogy graph: from a donation to a finished, vialled lot (ARCHITECTURE.md §3). */
@Entity({ name: 'lot' })
@Index('IDX_lot_kind', ['kind'])
@Check('CHK_lot_quantities', `quantity >= 0 AND remaining_quantity >= 0 AND remaining_quantity <= quantity`)
@Check('CHK_lot_status', `status IN ('active','pending_release','released','rejected')`)
// Finished (vialled) lots carry a product and an expiry; the database refuses one without.
@Check(
  'CHK_lot_finished',
  `kind NOT IN ('finished_lot','loaded_ev_lot') OR (product_id IS NOT NULL AND expiry IS NOT NULL)`,
)
export class LotEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text', unique: true })
  code!: string;

  @Column({ type: 'text' })
  kind!: LotKind;

  @Column({ type: 'text' })
  status!: LotStatus;

  @Column({ name: 'product_id', type: 'uuid', nullable: true })
  productId!: string | null;

  @ManyToOne(() => ProductEntity, { onDelete: 'RESTRICT', nullable: true })
  @JoinColumn({ name: 'product_id' })
  product?: ProductEntity | null;

  @Column({ name: 'site_id', type: 'uuid' })
  siteId!: string;

  @ManyToOne(() => SiteEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'site_id' })
  site?: SiteEntity;

  @Column({ type: 'numeric', precision: 18, scale: 6 })
  quantity!: string;

  @Column({ name: 'remaining_quantity', type: 'numeric', precision: 18, scale: 6 })
  remainingQuantity!: string;

  @Column({ type: 'text' })
  unit!: QuantityUnit;

  @Column({ type: 'date', nullable: true })
  expiry!: string | null;

  /** Process data of the step (passage, cell count, lyophilization cycle…). */
  @Column({ type: 'jsonb' })
  attributes!: Record<string, unknown>;

  /** Identifiers given outside (e.g. ISBT 128 DIN of a donation, a supplier's lot number). */
  @Column({ name: 'external_ids', type: 'jsonb' })
  externalIds!: Record<string, string>;

  @Column({ name: 'recorded_by', type: 'uuid' })
  recordedBy!: string;

  @ManyToOne(() => UserEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'recorded_by' })
  recorder?: UserEntity;

  @Column({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt!: Date;

  @Column({ name: 'disposition_signature_id', type: 'uuid', nullable: true })
  dispositionSignatureId!: string | null;

  @Column({ name: 'disposed_at', type: 'timestamptz', nullable: true })
  disposedAt!: Date | null;

  @VersionColumn()
  version!: number;
}
