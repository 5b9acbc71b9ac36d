import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { SiteEntity } from './site.entity.js';

/** A site bridge's machine credential. Only the SHA-256 of the secret is kept; the token is shown once. */
@Entity({ name: 'bridge_credential' })
// One active credential per site: the database refuses a second (ARCHITECTURE.md §2, one bridge per site).
@Index('UQ_bridge_credential_active_site', ['siteId'], { unique: true, where: 'revoked_at IS NULL' })
export class BridgeCredentialEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'site_id', type: 'uuid' })
  siteId!: string;

  @ManyToOne(() => SiteEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'site_id' })
  site?: SiteEntity;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'secret_hash', type: 'text', select: false })
  secretHash!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;
}
