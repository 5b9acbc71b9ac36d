import { Inject, Injectable } from '@nestjs/common';
import { ProblemCode } from '@lyotrace/contracts';
import {
  type Clock,
  DomainError,
  EPCIS_CONTEXT_URL,
  EPCIS_SCHEMA_VERSION,
  LYO_PREFIX,
  LYOTRACE_NS,
} from '@lyotrace/domain';
import { CLOCK, EpcisRepository, type EpcisQuery } from '@lyotrace/persistence';

export interface EpcisQueryDocument {
  '@context': unknown[];
  type: 'EPCISQueryDocument';
  schemaVersion: string;
  creationDate: string;
  epcisBody: {
    queryResults: { queryName: 'SimpleEventQuery'; resultsBody: { eventList: Record<string, unknown>[] } };
  };
}

/** nextPageToken: the keyset position (event time, id), opaque to the client. */
const encodeToken = (eventTime: Date, id: string): string =>
  Buffer.from(JSON.stringify([eventTime.toISOString(), id])).toString('base64url');
function decodeToken(token: string): { eventTime: Date; id: string } {
  try {
    const [time, id] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [string, string];
    const eventTime = new Date(time);
    if (Number.isNaN(eventTime.getTime()) || !/^\d+$/.test(id)) throw new Error('bad token');
    return { eventTime, id };
  } catch {
    throw new DomainError(ProblemCode.ValidationFailed, 'nextPageToken is not one this server issued', {
      field: 'nextPageToken',
    });
  }
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
      after: nextPageToken ? decodeToken(nextPageToken) : undefined,
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
      nextPageToken: rows.length > q.perPage && last ? encodeToken(last.eventTime, last.id) : null,
    };
  }
}
