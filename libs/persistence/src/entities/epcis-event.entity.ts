import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Every business event as a GS1 EPCIS 2.0 event (ARCHITECTURE.md §5), written in the same transaction as
 * the change it describes. Append-only; the identifiers an EPCIS query filters on are kept in indexed arrays.
 */
@Entity({ name: 'epcis_event' })
@Index('IDX_epcis_event_time', ['eventTime', 'id'])
@Index('IDX_epcis_event_biz_step', ['bizStep'])
@Index('IDX_epcis_event_epcs', { synchronize: false })
@Index('IDX_epcis_event_inputs', { synchronize: false })
@Index('IDX_epcis_event_outputs', { synchronize: false })
// EPCIS 2.0 §7.4.1.2: an error declaration repeats the eventID it declares; unique per kind (see migration).
@Index('UQ_epcis_event_id', { synchronize: false })
@Index('UQ_epcis_event_declaration', { synchronize: false })
export class EpcisEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'event_id', type: 'text' })
  eventId!: string;

  @Column({ name: 'event_type', type: 'text' })
  eventType!: string;

  @Column({ name: 'biz_step', type: 'text' })
  bizStep!: string;

  @Column({ name: 'event_time', type: 'timestamptz' })
  eventTime!: Date;

  @Column({ name: 'record_time', type: 'timestamptz' })
  recordTime!: Date;

  /** Every EPC and EPC class the event names (instance lists, parents, children, quantity classes). */
  @Column({ type: 'text', array: true })
  epcs!: string[];

  @Column({ name: 'input_epcs', type: 'text', array: true })
  inputEpcs!: string[];

  @Column({ name: 'output_epcs', type: 'text', array: true })
  outputEpcs!: string[];

  @Column({ type: 'jsonb' })
  event!: Record<string, unknown>;
}
