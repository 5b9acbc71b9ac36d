import type { LoggerProtocol } from '@lyotrace/contracts';
import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Exclusion,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
  VersionColumn,
} from 'typeorm';
import { ContainerEntity } from './container.entity.js';
import { LocationEntity } from './location.entity.js';
import { SiteEntity } from './site.entity.js';
import { UserEntity } from './user.entity.js';

export type LoggerRegistration = 'admin' | 'auto';

/**
 * A temperature logger or probe. Its identity is what the device says about itself (protocol + serial), so a
 * device first heard of through a bridge is registered on the spot (never losing its data) but stays
 * unapproved until an admin confirms it.
 */
@Entity({ name: 'logger' })
@Unique('UQ_logger_protocol_serial', ['protocol', 'serial'])
@Check('CHK_logger_protocol', `protocol IN ('lyotrace-native','elitech-rc','modbus-rtu')`)
@Check('CHK_logger_registration', `registration IN ('admin','auto')`)
@Check('CHK_logger_approval', `(approved_at IS NULL) = (approved_by IS NULL)`)
export class LoggerEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text' })
  protocol!: LoggerProtocol;

  @Column({ type: 'text' })
  serial!: string;

  @Column({ type: 'text' })
  model!: string;

  @Column({ type: 'text', nullable: true })
  firmware!: string | null;

  /** EU GDP 9.2: transport monitoring devices are calibrated at least yearly. 'YYYY-MM-DD'. */
  @Column({ name: 'calibration_due', type: 'date', nullable: true })
  calibrationDue!: string | null;

  /** The owner site (for an auto-registered device, the site of the bridge that first heard it). */
  @Column({ name: 'site_id', type: 'uuid' })
  siteId!: string;

  @ManyToOne(() => SiteEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'site_id' })
  site?: SiteEntity;

  @Column({ type: 'text' })
  registration!: LoggerRegistration;

  @Column({ name: 'approved_at', type: 'timestamptz', nullable: true })
  approvedAt!: Date | null;

  @Column({ name: 'approved_by', type: 'uuid', nullable: true })
  approvedBy!: string | null;

  @ManyToOne(() => UserEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'approved_by' })
  approver?: UserEntity;

  @VersionColumn()
  version!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

/**
 * Who was where, when: a logger in a location or in a shipper over [valid_from, valid_to). A logger is in at
 * most one place at a time (exclusion constraint), so every reading maps to at most one zone.
 */
@Entity({ name: 'logger_assignment' })
@Index('IDX_logger_assignment_location', ['locationId', 'validFrom'])
@Index('IDX_logger_assignment_container', ['containerId', 'validFrom'])
@Check('CHK_logger_assignment_place', `(location_id IS NULL) <> (container_id IS NULL)`)
@Check('CHK_logger_assignment_period', `valid_to IS NULL OR valid_to > valid_from`)
@Exclusion(
  'XCL_logger_assignment_overlap',
  `USING gist ("logger_id" WITH =, tstzrange("valid_from", "valid_to", '[)') WITH &&)`,
)
export class LoggerAssignmentEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'logger_id', type: 'uuid' })
  loggerId!: string;

  @ManyToOne(() => LoggerEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'logger_id' })
  logger?: LoggerEntity;

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

  @Column({ name: 'valid_from', type: 'timestamptz' })
  validFrom!: Date;

  /** null: still there. */
  @Column({ name: 'valid_to', type: 'timestamptz', nullable: true })
  validTo!: Date | null;

  @Column({ name: 'assigned_by', type: 'uuid', nullable: true })
  assignedBy!: string | null;

  @ManyToOne(() => UserEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'assigned_by' })
  assigner?: UserEntity;

  @Column({ name: 'assigned_at', type: 'timestamptz' })
  assignedAt!: Date;

  @Column({ name: 'ended_by', type: 'uuid', nullable: true })
  endedBy!: string | null;

  @ManyToOne(() => UserEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'ended_by' })
  ender?: UserEntity;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt!: Date | null;

  @VersionColumn()
  version!: number;
}
