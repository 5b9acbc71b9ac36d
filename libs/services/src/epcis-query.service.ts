import { Inject, Injectable } from '@nestjs/common';
import {
  type Clock,
  EPCIS_CONTEXT_URL,
  EPCIS_SCHEMA_VERSION,
  LYO_PREFIX,
  LYOTRACE_NS,
} from '@lyotrace/domain';
import { CLOCK, EpcisRepository, type EpcisQuery } from '@lyotrace/persistence';
import { decodeKeysetPosition, encodeKeysetPosition } from './keyset-position.js';

export interface EpcisQueryDocument {
  '@context': unknown[];
  type: 'EPCISQueryDocument';
  schemaVersion: string;
  creationDate: string;
  epcisBody: {
    queryResults: { queryName: 'SimpleEventQuery'; resultsBody: { eventList: Record<string, unknown>[] } };
  };
}

/** nextPageToken: the keyset position (event time, id) of the last event of a page. */
function eventPosition(token: string): { eventTime: Date; id: string } {
  const { time, keys } = decodeKeysetPosition(token, 1, 'nextPageToken');
  return { eventTime: time, id: keys[0]! };
}

/** EPCIS 2.0 query interface (SimpleEventQuery subset, REST binding `GET /events`). */
@Injectable()
export class EpcisQueryService {
  constructor(
    private readonly events: EpcisRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async query(
    q: Omit<EpcisQuery, 'after'> & { nextPageToken?: string },
  ): Promise<{ document: EpcisQueryDocument; nextPageToken: string | null }> {
    const { nextPageToken, ...rest } = q;
    const rows = await this.events.find({
      ...rest,
      perPage: q.perPage + 1,
      after: nextPageToken ? eventPosition(nextPageToken) : undefined,
    });
    const page = rows.slice(0, q.perPage);
    const last = page[page.length - 1];
    return {
      document: {
        '@context': [EPCIS_CONTEXT_URL, { [LYO_PREFIX]: LYOTRACE_NS }],
        type: 'EPCISQueryDocument',
        schemaVersion: EPCIS_SCHEMA_VERSION,
        creationDate: this.clock.now().toISOString(),
        epcisBody: {
          queryResults: {
            queryName: 'SimpleEventQuery',
            resultsBody: { eventList: page.map((r) => r.event) },
          },
        },
      },
      nextPageToken: rows.length > q.perPage && last ? encodeKeysetPosition(last.eventTime, last.id) : null,
    };
  }
}
