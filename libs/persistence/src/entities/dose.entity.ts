import type { DoseRoute } from '@lyotrace/contracts';
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
import { ElectronicSignatureEntity } from './electronic-signature.entity.js';
import { SiteEntity } from './site.entity.js';
import { UserEntity } from './user.entity.js';
import { VialEntity } from './vial.entity.js';

/**
 * A pseudonymous patient, known only by the clinic's own reference (GDPR Art. 4(5): no names, no birth dates
 * here; the key to the person stays at the clinic). The same reference at two clinics is two patients.
 */
@Entity({ name: 'patient' })
@Unique('UQ_patient_site_ref', ['siteId', 'ref'])
export class PatientEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'site_id', type: 'uuid' })
  siteId!: string;

  @ManyToOne(() => SiteEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'site_id' })
  site?: SiteEntity;

  @Column({ type: 'text' })
  ref!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

/** A vial given to a patient. Never deleted; corrected only through `dose_correction`, the old values kept. */
@Entity({ name: 'dose' })
@Index('IDX_dose_patient', ['patientId'])
@Index('IDX_dose_site', ['siteId', 'administeredAt'])
// Covering (vial_id) INCLUDE (…) for the forward trace: written by hand in migration TraceDoseCover1764052200000.
@Index('IDX_dose_vial_trace', { synchronize: false })
@Check('CHK_dose_volume', `volume_ml > 0`)
export class DoseEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Unique: a single-use vial is dosed once (the service refuses first; the database is the last word). */
  @Column({ name: 'vial_id', type: 'uuid', unique: true })
  vialId!: string;

  @ManyToOne(() => VialEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'vial_id' })
  vial?: VialEntity;

  @Column({ name: 'patient_id', type: 'uuid' })
  patientId!: string;

  @ManyToOne(() => PatientEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'patient_id' })
  patient?: PatientEntity;

  @Column({ name: 'site_id', type: 'uuid' })
  siteId!: string;

  @ManyToOne(() => SiteEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'site_id' })
  site?: SiteEntity;

  @Column({ name: 'administered_at', type: 'timestamptz' })
  administeredAt!: Date;

  @Column({ name: 'volume_ml', type: 'numeric', precision: 8, scale: 3 })
  volumeMl!: string;

  @Column({ type: 'text' })
  route!: DoseRoute;

  @Column({ name: 'recorded_by', type: 'uuid' })
  recordedBy!: string;

  @ManyToOne(() => UserEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'recorded_by' })
  recorder?: UserEntity;

  @Column({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt!: Date;

  @Column({ name: 'signature_id', type: 'uuid' })
  signatureId!: string;

  @ManyToOne(() => ElectronicSignatureEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'signature_id' })
  signature?: ElectronicSignatureEntity;

  @VersionColumn()
  version!: number;
}

/** A correction of a dose: what it was, what it became, why, who signed (21 CFR 11.10(e): old values kept). */
@Entity({ name: 'dose_correction' })
@Index('IDX_dose_correction_dose', ['doseId', 'correctedAt'])
export class DoseCorrectionEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'dose_id', type: 'uuid' })
  doseId!: string;

  @ManyToOne(() => DoseEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'dose_id' })
  dose?: DoseEntity;

  @Column({ name: 'old_values', type: 'jsonb' })
  oldValues!: Record<string, unknown>;

  @Column({ name: 'new_values', type: 'jsonb' })
  newValues!: Record<string, unknown>;

  @Column({ type: 'text' })
  reason!: string;

  @Column({ name: 'corrected_by', type: 'uuid' })
  correctedBy!: string;

  @Column({ name: 'corrected_at', type: 'timestamptz' })
  correctedAt!: Date;

  @Column({ name: 'signature_id', type: 'uuid' })
  signatureId!: string;

  @ManyToOne(() => ElectronicSignatureEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'signature_id' })
  signature?: ElectronicSignatureEntity;
}
