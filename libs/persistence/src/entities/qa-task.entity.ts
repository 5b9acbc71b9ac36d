import type { QaTaskKind } from '@lyotrace/contracts';
import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ShipmentEntity } from './container.entity.js';
import { SiteEntity } from './site.entity.js';

/** Work for QA raised by the system (e.g. vials missing at a receipt), open until QA closes it. */
@Entity({ name: 'qa_task' })
@Index('IDX_qa_task_state', ['state', 'createdAt'])
@Check('CHK_qa_task_state', `state IN ('open','closed')`)
export class QaTaskEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text' })
  kind!: QaTaskKind;

  @Column({ name: 'site_id', type: 'uuid' })
  siteId!: string;

  @ManyToOne(() => SiteEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'site_id' })
  site?: SiteEntity;

  @Column({ name: 'shipment_id', type: 'uuid', nullable: true })
  shipmentId!: string | null;

  @ManyToOne(() => ShipmentEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'shipment_id' })
  shipment?: ShipmentEntity;

  @Column({ type: 'jsonb' })
  details!: Record<string, unknown>;

  @Column({ type: 'text' })
  state!: 'open' | 'closed';

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
