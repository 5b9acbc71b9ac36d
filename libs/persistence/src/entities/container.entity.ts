import type { ContainerState, ReceiptLineOutcome, ReceiptResult, ShipmentState } from '@lyotrace/contracts';
import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  type Relation,
  VersionColumn,
} from 'typeorm';
import { ElectronicSignatureEntity } from './electronic-signature.entity.js';
import { SiteEntity } from './site.entity.js';
import { UserEntity } from './user.entity.js';
import { VialEntity } from './vial.entity.js';

/** A journey of one or more shippers from a site to a clinic (EU GDP Ch. 9: transport). */
@Entity({ name: 'shipment' })
@Index('IDX_shipment_to_site', ['toSiteId', 'state'])
@Check('CHK_shipment_state', `state IN ('planned','dispatched','receiving','received')`)
@Check('CHK_shipment_result', `receipt_result IS NULL OR receipt_result IN ('complete','with_discrepancy')`)
@Check('CHK_shipment_sites', `from_site_id <> to_site_id`)
export class ShipmentEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'from_site_id', type: 'uuid' })
  fromSiteId!: string;

  @ManyToOne(() => SiteEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'from_site_id' })
  fromSite?: SiteEntity;

  @Column({ name: 'to_site_id', type: 'uuid' })
  toSiteId!: string;

  @ManyToOne(() => SiteEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'to_site_id' })
  toSite?: SiteEntity;

  @Column({ type: 'text' })
  state!: ShipmentState;

  /** The gate checks expiry at this instant too: nothing may expire in transit (EU GDP 9.2). */
  @Column({ name: 'planned_arrival_at', type: 'timestamptz' })
  plannedArrivalAt!: Date;

  @Column({ name: 'created_by', type: 'uuid' })
  createdBy!: string;

  @ManyToOne(() => UserEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'created_by' })
  creator?: UserEntity;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'dispatched_at', type: 'timestamptz', nullable: true })
  dispatchedAt!: Date | null;

  @Column({ name: 'dispatched_by', type: 'uuid', nullable: true })
  dispatchedBy!: string | null;

  @Column({ name: 'receipt_started_at', type: 'timestamptz', nullable: true })
  receiptStartedAt!: Date | null;

  @Column({ name: 'received_at', type: 'timestamptz', nullable: true })
  receivedAt!: Date | null;

  @Column({ name: 'received_by', type: 'uuid', nullable: true })
  receivedBy!: string | null;

  @Column({ name: 'receipt_result', type: 'text', nullable: true })
  receiptResult!: ReceiptResult | null;

  @Column({ name: 'receipt_signature_id', type: 'uuid', nullable: true })
  receiptSignatureId!: string | null;

  @ManyToOne(() => ElectronicSignatureEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'receipt_signature_id' })
  receiptSignature?: ElectronicSignatureEntity;

  @VersionColumn()
  version!: number;
}

/**
 * A shipper: one logistic unit, identified by its SSCC for its whole life (GS1 General Specifications §2.2.1:
 * an SSCC is never reused), so a reusable box gets a new SSCC for each journey.
 */
@Entity({ name: 'container' })
@Index('IDX_container_shipment', ['shipmentId'])
@Check('CHK_container_sscc', `sscc ~ '^[0-9]{18}$'`)
@Check('CHK_container_state', `state IN ('open','dispatched','received')`)
export class ContainerEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text', unique: true })
  sscc!: string;

  /** Where it was made up (its origin); where it is now follows from `state` and the shipment. */
  @Column({ name: 'site_id', type: 'uuid' })
  siteId!: string;

  @ManyToOne(() => SiteEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'site_id' })
  site?: SiteEntity;

  @Column({ type: 'text' })
  state!: ContainerState;

  @Column({ name: 'shipment_id', type: 'uuid', nullable: true })
  shipmentId!: string | null;

  @ManyToOne(() => ShipmentEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'shipment_id' })
  shipment?: ShipmentEntity;

  @Column({ name: 'created_by', type: 'uuid' })
  createdBy!: string;

  @ManyToOne(() => UserEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'created_by' })
  creator?: UserEntity;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @VersionColumn()
  version!: number;
}

/**
 * What was inside a shipper when: one row per vial packed, closed (never deleted) when it is unpacked or
 * received. EPCIS AggregationEvent ADD / DELETE.
 */
@Entity({ name: 'aggregation' })
@Index('IDX_aggregation_container', ['containerId', 'packedAt'])
@Index('UQ_aggregation_vial_open', ['vialId'], { unique: true, where: 'unpacked_at IS NULL' })
@Check('CHK_aggregation_times', `unpacked_at IS NULL OR unpacked_at >= packed_at`)
export class AggregationEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'container_id', type: 'uuid' })
  containerId!: string;

  @ManyToOne(() => ContainerEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'container_id' })
  container?: ContainerEntity;

  @Column({ name: 'vial_id', type: 'uuid' })
  vialId!: string;

  @ManyToOne(() => VialEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'vial_id' })
  vial?: Relation<VialEntity>;

  @Column({ name: 'packed_at', type: 'timestamptz' })
  packedAt!: Date;

  @Column({ name: 'packed_by', type: 'uuid' })
  packedBy!: string;

  @Column({ name: 'unpacked_at', type: 'timestamptz', nullable: true })
  unpackedAt!: Date | null;

  @Column({ name: 'unpacked_by', type: 'uuid', nullable: true })
  unpackedBy!: string | null;
}

/** One scan at a clinic receipt: an expected vial found, an unexpected one, or (at confirmation) a missing one. */
@Entity({ name: 'receipt_line' })
@Index('UQ_receipt_line_vial', ['shipmentId', 'vialId'], { unique: true })
@Check('CHK_receipt_line_outcome', `outcome IN ('received','missing','unexpected')`)
export class ReceiptLineEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'shipment_id', type: 'uuid' })
  shipmentId!: string;

  @ManyToOne(() => ShipmentEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'shipment_id' })
  shipment?: ShipmentEntity;

  @Column({ name: 'vial_id', type: 'uuid' })
  vialId!: string;

  @ManyToOne(() => VialEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'vial_id' })
  vial?: Relation<VialEntity>;

  @Column({ type: 'text' })
  outcome!: ReceiptLineOutcome;

  @Column({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt!: Date;

  @Column({ name: 'recorded_by', type: 'uuid' })
  recordedBy!: string;
}
