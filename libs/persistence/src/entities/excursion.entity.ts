import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ContainerEntity } from './container.entity.js';
import { LocationEntity } from './location.entity.js';

/**
 * A temperature excursion of a zone (a location or a shipper). Only what custody needs today — is one open on
 * this shipper? — the excursion engine (a later issue) fills and extends it.
 */
@Entity({ name: 'excursion' })
@Index('IDX_excursion_container', ['containerId', 'state'])
@Index('IDX_excursion_location', ['locationId', 'state'])
@Check('CHK_excursion_zone', `(location_id IS NULL) <> (container_id IS NULL)`)
@Check('CHK_excursion_state', `state IN ('open','acknowledged','under_investigation','closed')`)
export class ExcursionEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

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

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt!: Date | null;

  @Column({ type: 'text' })
  state!: 'open' | 'acknowledged' | 'under_investigation' | 'closed';

  @Column({ type: 'text' })
  severity!: string;
}
