import { Role } from '@lyotrace/contracts';
import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  VersionColumn,
} from 'typeorm';
import { SiteEntity } from './site.entity.js';

@Entity({ name: 'app_user' })
@Check('CHK_app_user_username_lower', `username = lower(username)`)
@Check('CHK_app_user_role', `role IN ('admin','production','qa','warehouse','clinic')`)
// A clinic user belongs to one clinic site (ARCHITECTURE.md §1); the database refuses one without.
@Check('CHK_app_user_clinic_site', `role <> 'clinic' OR site_id IS NOT NULL`)
@Check('CHK_app_user_failed_attempts', `failed_attempts >= 0`)
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Stored lower-case (check constraint): user ids are unique regardless of case (Part 11 §11.300(a)). */
  @Column({ type: 'text', unique: true })
  username!: string;

  /** The printed name shown with every e-signature (Part 11 §11.50(a)(1)). */
  @Column({ name: 'display_name', type: 'text' })
  displayName!: string;

  @Column({ name: 'password_hash', type: 'text', select: false })
  passwordHash!: string;

  @Column({ type: 'text' })
  role!: Role;

  @Column({ name: 'site_id', type: 'uuid', nullable: true })
  siteId!: string | null;

  @ManyToOne(() => SiteEntity, { onDelete: 'RESTRICT', nullable: true })
  @JoinColumn({ name: 'site_id' })
  site?: SiteEntity | null;

  @Column({ type: 'boolean', default: true })
  active!: boolean;

  @Column({ name: 'failed_attempts', type: 'int', default: 0 })
  failedAttempts!: number;

  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil!: Date | null;

  @VersionColumn()
  version!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
