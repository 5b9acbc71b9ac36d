import { lotUri, sgtinUri } from '@lyotrace/domain';
import { ApiHarness } from '../support/api-harness.js';
import { epcisSchemaErrors } from '../support/epcis-validator.js';
import { GenealogyFactory } from '../support/genealogy-factory.js';

interface QueryDoc {
  type: string;
  epcisBody: {
    queryResults: {
      resultsBody: {
        eventList: {
          type: string;
          bizStep: string;
          eventID: string;
          eventTime: string;
          [k: string]: unknown;
        }[];
      };
    };
  };
}

describe('EPCIS 2.0 events of production, commissioning and QA disposition', () => {
  let api: ApiHarness;
  let f: GenealogyFactory;
  let c: Awaited<ReturnType<GenealogyFactory['chain']>>;
  const since = new Date(Date.now() - 1000).toISOString();

  beforeAll(async () => {
    api = await ApiHarness.start();
    f = await GenealogyFactory.create(api);
    c = await f.chain(2);
    await f.release(c.lotA, 'release');
    await f.release(c.lotB, 'reject');
  });
  afterAll(() => api.close());

  const query = async (params: Record<string, string>) => {
    const res = await api.request<QueryDoc>(
      'GET',
      `/api/epcis/events?${new URLSearchParams(params).toString()}`,
      {
        token: f.qaToken,
      },
    );
    expect(res.status).toBe(200);
    return {
      doc: res.body,
      events: res.body.epcisBody.queryResults.resultsBody.eventList,
      link: res.headers.link,
    };
  };

  it('answers an EPCISQueryDocument that validates against the GS1 schema, for every event type emitted', async () => {
    const { doc, events } = await query({
      GE_eventTime: since,
      perPage: '1000',
      MATCH_anyEPC: `${lotUri(c.donor.code)}`,
    });
    expect(doc.type).toBe('EPCISQueryDocument');
    expect(events.length).toBeGreaterThan(0);
    const all = await query({ GE_eventTime: since, perPage: '1000' });
    expect(new Set(all.events.map((e) => e.type))).toEqual(new Set(['ObjectEvent', 'TransformationEvent']));
    expect(new Set(all.events.map((e) => e.bizStep))).toEqual(
      new Set(['receiving', 'creating_class_instance', 'commissioning', 'inspecting']),
    );
    expect(epcisSchemaErrors(all.doc)).toEqual([]);
  });

  it('records commissioning with the vials, lot and expiry, and releases/rejects with our persistent dispositions', async () => {
    const vial = c.vialsA[0]!;
    const { events } = await query({ MATCH_epc: sgtinUri(vial.gtin, vial.serial) });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'ObjectEvent',
      action: 'ADD',
      bizStep: 'commissioning',
      ilmd: { 'cbvmda:lotNumber': c.lotA.code, 'cbvmda:itemExpirationDate': c.expiry },
    });
    const release = await query({
      EQ_bizStep: 'inspecting',
      MATCH_epc: `https://id.gs1.org/01/${c.product.gtin}/10/${c.lotA.code}`,
    });
    expect(release.events[0]).toMatchObject({
      disposition: 'conformant',
      persistentDisposition: { set: ['https://lyotrace.dev/epcis/disposition/released'] },
    });
    const reject = await query({
      EQ_bizStep: 'inspecting',
      MATCH_epc: `https://id.gs1.org/01/${c.product.gtin}/10/${c.lotB.code}`,
    });
    expect(reject.events[0]).toMatchObject({
      disposition: 'non_conformant',
      persistentDisposition: { set: ['https://lyotrace.dev/epcis/disposition/rejected'] },
    });
  });

  it('finds transformations by input and by output', async () => {
    const asInput = await query({ eventType: 'TransformationEvent', MATCH_inputEPC: lotUri(c.pool.code) });
    expect(asInput.events).toHaveLength(1);
    expect(JSON.stringify(asInput.events[0]!.outputQuantityList)).toContain(c.lotA.code);
    const asOutput = await query({ eventType: 'TransformationEvent', MATCH_outputEPC: lotUri(c.pool.code) });
    expect(asOutput.events).toHaveLength(1);
    expect(JSON.stringify(asOutput.events[0]!.inputQuantityList)).toContain(c.harvest1.code);
    expect(
      (await query({ MATCH_anyEPC: `${lotUri(c.pool.code).slice(0, -3)}*` })).events.length,
    ).toBeGreaterThanOrEqual(2);
  });

  it('filters by time window and pages with perPage + nextPageToken in the Link header', async () => {
    const all = (
      await query({
        GE_eventTime: since,
        perPage: '1000',
        MATCH_anyEPC: `https://id.gs1.org/01/${c.product.gtin}/*`,
      })
    ).events;
    expect(all.length).toBeGreaterThanOrEqual(5);
    const seen: string[] = [];
    let params: Record<string, string> = {
      GE_eventTime: since,
      perPage: '2',
      MATCH_anyEPC: `https://id.gs1.org/01/${c.product.gtin}/*`,
    };
    for (let i = 0; i < 20; i += 1) {
      const page = await query(params);
      seen.push(...page.events.map((e) => e.eventID));
      const link = String(page.link ?? '');
      if (!link) break;
      expect(page.events).toHaveLength(2);
      const token = /nextPageToken=([^&>]+)/.exec(link)![1]!;
      params = { ...params, nextPageToken: decodeURIComponent(token) };
    }
    expect(seen).toEqual(all.map((e) => e.eventID));
    const future = await query({ GE_eventTime: new Date(Date.now() + 3_600_000).toISOString() });
    expect(future.events).toHaveLength(0);
    const bad = await api.request('GET', '/api/epcis/events?nextPageToken=garbage', { token: f.qaToken });
    expect(bad.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'nextPageToken' });
    // A day that does not exist is refused, not rolled over into March.
    const feb31 = await api.request('GET', '/api/epcis/events?GE_eventTime=2026-02-31T00:00:00Z', {
      token: f.qaToken,
    });
    expect(feb31.status).toBe(400);
    expect(feb31.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'GE_eventTime' });
  });
});
