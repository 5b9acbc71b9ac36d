import type { EpcisEvent } from '@lyotrace/domain';
import { DataSource, EntityManager } from 'typeorm';
import { EpcisEventEntity } from '../entities/index.js';

export interface EpcisQuery {
  eventType?: string[];
  bizStep?: string[];
  matchEpc?: string[];
  matchAnyEpc?: string[];
  matchInputEpc?: string[];
  matchOutputEpc?: string[];
  geEventTime?: Date;
  ltEventTime?: Date;
  perPage: number;
  /** Keyset position: (eventTime, id) of the last event of the previous page. */
  after?: { eventTime: Date; id: string };
}

const classesOf = (list?: { epcClass: string }[]): string[] => (list ?? []).map((q) => q.epcClass);

/** The identifiers of an event by role, for the EPCIS query parameters MATCH_epc / anyEPC / inputEPC / outputEPC. */
export function epcsOf(e: EpcisEvent): {
  instances: string[];
  any: string[];
  inputs: string[];
  outputs: string[];
} {
  switch (e.type) {
    case 'ObjectEvent': {
      const all = [...(e.epcList ?? []), ...classesOf(e.quantityList)];
      return { instances: all, any: all, inputs: [], outputs: [] };
    }
    case 'AggregationEvent':
    case 'AssociationEvent': {
      const children = [...(e.childEPCs ?? []), ...classesOf(e.childQuantityList)];
      return { instances: children, any: [e.parentID, ...children], inputs: [], outputs: [] };
    }
    case 'TransformationEvent': {
      const inputs = [...(e.inputEPCList ?? []), ...classesOf(e.inputQuantityList)];
      const outputs = [...(e.outputEPCList ?? []), ...classesOf(e.outputQuantityList)];
      return { instances: [...inputs, ...outputs], any: [...inputs, ...outputs], inputs, outputs };
    }
  }
}

/** An EPCIS event as it is stored: its query columns and the event document with its record time. */
export interface EpcisEventRow {
  eventId: string;
  eventType: string;
  bizStep: string;
  eventTime: Date;
  recordTime: Date;
  epcs: string[];
  inputEpcs: string[];
  outputEpcs: string[];
  event: Record<string, unknown>;
}

/** The one definition of the stored row, whether `append` writes it or a caller folds it into its statement. */
export function epcisEventRow(event: EpcisEvent, recordTime: Date): EpcisEventRow {
  const ids = epcsOf(event);
  return {
    eventId: event.eventID,
    eventType: event.type,
    bizStep: event.bizStep,
    eventTime: new Date(event.eventTime),
    recordTime,
    epcs: [...new Set(ids.any)],
    inputEpcs: ids.inputs,
    outputEpcs: ids.outputs,
    event: { ...event, recordTime: recordTime.toISOString() },
  };
}

export class EpcisRepository {
  constructor(private readonly dataSource: DataSource) {}

  async append(manager: EntityManager, event: EpcisEvent, recordTime: Date): Promise<void> {
    const row = epcisEventRow(event, recordTime);
    await manager.getRepository(EpcisEventEntity).insert({ ...row, event: row.event as never });
  }

  /**
   * EPCIS SimpleEventQuery subset. MATCH_epc: instance-level identifiers (and quantity classes) of Object,
   * Aggregation children and Transformation events; MATCH_anyEPC also parents; input/output for transformations.
   * A trailing `*` in a MATCH value is a prefix match, as the standard allows.
   */
  find(q: EpcisQuery): Promise<EpcisEventEntity[]> {
    const qb = this.dataSource
      .getRepository(EpcisEventEntity)
      .createQueryBuilder('e')
      .orderBy('e.event_time')
      .addOrderBy('e.id')
      .limit(q.perPage);
    if (q.eventType?.length) qb.andWhere('e.event_type = ANY(:types)', { types: q.eventType });
    if (q.bizStep?.length) qb.andWhere('e.biz_step = ANY(:steps)', { steps: q.bizStep });
    const match = (column: string, values: string[] | undefined, name: string): void => {
      if (!values?.length) return;
      const exact = values.filter((v) => !v.endsWith('*'));
      const prefixes = values
        .filter((v) => v.endsWith('*'))
        .map((v) => `${v.slice(0, -1).replace(/[\\%_]/g, '\\$&')}%`);
      const parts: string[] = [];
      if (exact.length) parts.push(`e.${column} && :${name}`);
      if (prefixes.length)
        parts.push(`EXISTS (SELECT 1 FROM unnest(e.${column}) x WHERE x LIKE ANY(:${name}_p))`);
      // The input/output indexes hold only events that have some (migration LeanStepIndexes): say so.
      const nonEmpty = column === 'epcs' ? '' : `cardinality(e.${column}) > 0 AND `;
      qb.andWhere(`${nonEmpty}(${parts.join(' OR ')})`, { [name]: exact, [`${name}_p`]: prefixes });
    };
    // For MATCH_epc the instance list is epcs minus parents: kept simple as `epcs` for object/transformation.
    match('epcs', q.matchEpc, 'm_epc');
    match('epcs', q.matchAnyEpc, 'm_any');
    match('input_epcs', q.matchInputEpc, 'm_in');
    match('output_epcs', q.matchOutputEpc, 'm_out');
    if (q.geEventTime) qb.andWhere('e.event_time >= :ge', { ge: q.geEventTime });
    if (q.ltEventTime) qb.andWhere('e.event_time < :lt', { lt: q.ltEventTime });
    if (q.after)
      qb.andWhere('(e.event_time, e.id) > (:at, :aid)', { at: q.after.eventTime, aid: q.after.id });
    return qb.getMany();
  }
}
