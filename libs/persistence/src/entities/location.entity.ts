import type { LocationKind } from '@lyotrace/contracts';
import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
  VersionColumn,
} from 'typeorm';
import { SiteEntity } from './site.entity.js';

/**
 * A place inside a site where vials are stored (freezer, fridge, room, shelf), with its storage profile: the
 * allowed range, the alarm delay, the hysteresis and the cumulative budget out of range (COLD-CHAIN.md). The
 * numbers are product decisions, entered per location, never constants in code.
 */
@Entity({ name: 'location' })
@Unique('UQ_location_site_code', ['siteId', 'code'])
@Check('CHK_location_kind', `kind IN ('freezer','fridge','room','shelf')`)
@Check('CHK_location_range', `min_temp_c < max_temp_c`)
@Check(
  'CHK_location_delays',
  `alarm_delay_s >= 0 AND hysteresis_c >= 0 AND (budget_s IS NULL OR budget_s >= 0)`,
)
export class LocationEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'site_id', type: 'uuid' })
  siteId!: string;

  @ManyToOne(() => SiteEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'site_id' })
  site?: SiteEntity;

  @Column({ type: 'text' })
  code!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  kind!: LocationKind;

  /** A shelf inside a fridge, say. Same site (checked by the service). */
  @Column({ name: 'parent_id', type: 'uuid', nullable: true })
  parentId!: string | null;

  @ManyToOne(() => LocationEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'parent_id' })
  parent?: LocationEntity;

  @Column({ name: 'min_temp_c', type: 'numeric', precision: 6, scale: 2 })
  minTempC!: string;

  @Column({ name: 'max_temp_c', type: 'numeric', precision: 6, scale: 2 })
  maxTempC!: string;

  @Column({ name: 'alarm_delay_s', type: 'int' })
  alarmDelayS!: number;

  @Column({ name: 'hysteresis_c', type: 'numeric', precision: 4, scale: 2 })
  hysteresisC!: string;

  /** Cumulative time out of range allowed over a mission; null: no budget, the single-event limit only. */
  @Column({ name: 'budget_s', type: 'int', nullable: true })
  budgetS!: number | null;

  @Column({ type: 'boolean', default: true })
  active!: boolean;

  @VersionColumn()
  version!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
