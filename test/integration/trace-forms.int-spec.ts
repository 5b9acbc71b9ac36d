import { get as httpGet } from 'node:http';
import { Role } from '@lyotrace/contracts';
import { TraceRepository, type VialTuple } from '@lyotrace/persistence';
import type { DataSource } from 'typeorm';
import { ApiHarness } from '../support/api-harness.js';
import { CustodyFactory } from '../support/custody-factory.js';
import { CustodyWorld, scanOf } from '../support/custody-journey.js';
import { openTestDataSource } from '../support/database.js';
import { FACTORY_PASSWORD, makeUser } from '../support/factories.js';
import { GenealogyFactory } from '../support/genealogy-factory.js';

interface Vial {
  id: string;
  lotId: string;
  state: string;
  holder: {
    siteId: string;
    siteCode: string;
    locationId: string | null;
    locationCode: string | null;
    containerId: string | null;
    sscc: string | null;
    shipmentId: string | null;
  };
  dose: { id: string; administeredAt: string; site: { id: string; code: string }; patientRef: string } | null;
}
interface Forward {
  lots: { id: string }[];
  edges: { from: string; to: string }[];
  vials: { total: number; items: Vial[]; nextAfter: string | null };
}
type Line =
  | { type: 'trace'; vialTotal: number }
  | ({ type: 'lot' | 'edge' } & Record<string, unknown>)
  | ({ type: 'vial' } & Vial);

/**
 * The forward trace has two forms built two ways: the paged JSON (one statement per page, rows mapped to views)
 * and the NDJSON stream (one snapshot, a cursor, lines written from raw tuples). Both must tell the same thing,
 * vial for vial and in the same order, whatever a vial's holder: in a fridge, in a shipper on its way, dosed.
 */
describe('trace: the paged and the streamed forward trace agree', () => {
  let api: ApiHarness;
  let g: GenealogyFactory;
  let w: CustodyWorld;
  let lot: { id: string; code: string };
  let vialIds: string[];
  let dose: { id: string };
  let clinic: Awaited<ReturnType<CustodyFactory['clinic']>>;
  let mcbCode: string;

  beforeAll(async () => {
    api = await ApiHarness.start();
    g = await GenealogyFactory.create(api);
    w = await CustodyWorld.create(api);
    const custody = new CustodyFactory(api, g);
    // Commissioned hours ago (CustodyFactory), so that the dose can be received and given in the past.
    const released = await custody.releasedVials(5);
    lot = released.chain.lotA;
    const vials = released.vials;
    vialIds = vials.map((v) => v.id);
    const chain = await api.request<{ lots: { id: string; code: string; kind: string }[] }>(
      'GET',
      `/api/trace/backward?ref=${encodeURIComponent(lot.code)}`,
      { token: g.qaToken },
    );
    mcbCode = chain.body.lots.find((l) => l.kind === 'master_cell_bank')!.code;

    // vial 0 in a fridge; vials 1 and 2 packed into a shipper and dispatched; vial 3 dosed at a clinic.
    for (const [action, context] of [
      ['receive', {}],
      ['putaway', { locationId: w.location.id }],
    ] as const) {
      const res = await w.scan(w.warehouse.token, scanOf(vials[0]!, lot.code), action, context);
      expect(res.status).toBe(200);
    }
    const shipper = await w.shipper();
    for (const v of vials.slice(1, 3)) await w.stockAndPack(v, lot.code, shipper.sscc);
    const shipment = await w.shipment([shipper.id]);
    expect((await w.dispatch(shipment.id)).status).toBe(200);
    clinic = await custody.clinic();
    await custody.receiveAtClinic(vials[3]!.id, clinic.site.id);
    const dosed = await api.request<{ id: string }>('POST', '/api/doses', {
      token: clinic.token,
      body: {
        raw: scanOf(vials[3]!, lot.code),
        patientRef: 'P-FORMS-1',
        administeredAt: new Date(Date.now() - 10 * 60_000).toISOString(),
        volumeMl: '2.5',
        route: 'intravenous',
        signature: { password: clinic.password },
      },
    });
    expect(dosed.status).toBe(201);
    dose = dosed.body;
  });
  afterAll(() => api.close());

  const paged = (ref: string, limit = 1000, after?: string) =>
    api.request<Forward>(
      'GET',
      `/api/trace/forward?ref=${encodeURIComponent(ref)}&limit=${limit}${after ? `&after=${after}` : ''}`,
      { token: g.qaToken },
    );
  const streamed = async (ref: string): Promise<Line[]> => {
    const res = await fetch(`${api.baseUrl}/api/trace/forward?ref=${encodeURIComponent(ref)}&format=ndjson`, {
      headers: { authorization: `Bearer ${g.qaToken}` },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.endsWith('\n')).toBe(true);
    return text
      .slice(0, -1)
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
  };

  it('streams exactly the vials of the paged form, in its order, each line equal to its item', async () => {
    for (const ref of [lot.code, mcbCode]) {
      const json = await paged(ref);
      expect(json.status).toBe(200);
      const lines = await streamed(ref);
      const vials = lines.filter((l) => l.type === 'vial').map(({ type: _, ...v }) => v);
      expect(vials).toEqual(json.body.vials.items);
      expect(lines[0]).toMatchObject({ type: 'trace', vialTotal: json.body.vials.total });
      expect(vials).toHaveLength(json.body.vials.total);
      expect(lines.filter((l) => l.type === 'lot').map(({ type: _, ...l }) => l)).toEqual(json.body.lots);
      expect(lines.filter((l) => l.type === 'edge').map(({ type: _, ...e }) => e)).toEqual(json.body.edges);
    }
  });

  it('shows each vial where it is: in a fridge, in a shipper on a shipment, dosed to a pseudonymous patient', async () => {
    const byId = new Map((await streamed(lot.code)).flatMap((l) => (l.type === 'vial' ? [[l.id, l]] : [])));
    expect(byId.get(vialIds[0]!)).toMatchObject({
      holder: {
        locationId: w.location.id,
        locationCode: w.location.code,
        containerId: null,
        shipmentId: null,
      },
      dose: null,
    });
    for (const id of vialIds.slice(1, 3)) {
      expect(byId.get(id)).toMatchObject({
        state: 'in_transit',
        holder: {
          containerId: expect.any(String),
          sscc: expect.stringMatching(/^\d{18}$/),
          shipmentId: expect.any(String),
        },
      });
    }
    expect(byId.get(vialIds[3]!)).toMatchObject({
      state: 'dispensed',
      holder: { siteId: clinic.site.id, siteCode: clinic.site.code },
      dose: { id: dose.id, site: { id: clinic.site.id, code: clinic.site.code }, patientRef: 'P-FORMS-1' },
    });
    expect(byId.get(vialIds[4]!)).toMatchObject({ state: 'in_stock', dose: null });
  });

  it('pages in the stream order: the pages put together are the whole list', async () => {
    const all = (await paged(mcbCode)).body.vials.items.map((v) => v.id);
    const pages: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 10; i += 1) {
      const page = await paged(mcbCode, 3, after);
      pages.push(...page.body.vials.items.map((v) => v.id));
      if (!page.body.vials.nextAfter) break;
      after = page.body.vials.nextAfter;
    }
    expect(pages).toEqual(all);
    expect(all).toHaveLength(10);
  });
});

/** The stream holds a pooled connection in a read-only transaction: it must come back however the stream ends. */
describe('trace: the NDJSON stream hands its connection back however it ends', () => {
  let api: ApiHarness;
  let db: DataSource;
  let chain: Awaited<ReturnType<GenealogyFactory['chain']>>;
  let qaToken: string;

  beforeAll(async () => {
    api = await ApiHarness.start();
    db = await openTestDataSource();
    const factory = await GenealogyFactory.create(api);
    qaToken = factory.qaToken;
    chain = await factory.chain(3);
  });
  afterAll(async () => {
    await api.close();
    await db.destroy();
  });

  /** The API's sessions that are not idle: a cursor left open or a transaction left running shows here. */
  const busySessions = async (): Promise<{ state: string; query: string }[]> => {
    for (let i = 0; i < 50; i += 1) {
      const busy = await db.query<{ state: string; query: string }[]>(
        `SELECT state, query FROM pg_stat_activity WHERE application_name = 'lyotrace-api' AND state <> 'idle'`,
      );
      if (busy.length === 0) return busy;
      await new Promise((r) => setTimeout(r, 20));
    }
    return db.query(
      `SELECT state, query FROM pg_stat_activity WHERE application_name = 'lyotrace-api' AND state <> 'idle'`,
    );
  };
  const ids = (batch: readonly VialTuple[]) => batch.map((t) => `${t[0]}\n`).join('');

  it('read to the end in batches that divide the vials exactly: every vial once, in order, then closed', async () => {
    const session = await api.app.get(TraceRepository).openForwardStream(chain.mcb.id);
    expect(session.vialCount).toBe(6);
    let text = '';
    for await (const chunk of session.vials(ids, 3)) text += chunk as string;
    const expected = (
      await db.query<{ id: string }[]>(`SELECT id FROM vial WHERE lot_id = ANY($1) ORDER BY lot_id, serial`, [
        [chain.lotA.id, chain.lotB.id],
      ])
    ).map((v) => v.id);
    expect(text.trimEnd().split('\n')).toEqual(expected);
    expect(await busySessions()).toEqual([]);
  });

  it('abandoned after its first chunk: cursor closed, transaction ended, the connection serves the next trace', async () => {
    const session = await api.app.get(TraceRepository).openForwardStream(chain.mcb.id);
    const stream = session.vials(ids, 2);
    for await (const chunk of stream) {
      expect((chunk as string).split('\n')).toHaveLength(3);
      break; // destroys the stream
    }
    expect(stream.destroyed).toBe(true);
    expect(await busySessions()).toEqual([]);
    const res = await fetch(
      `${api.baseUrl}/api/trace/forward?ref=${encodeURIComponent(chain.mcb.code)}&format=ndjson`,
      {
        headers: {
          authorization: `Bearer ${await api.login((await makeUser(api.app, Role.Qa)).username, FACTORY_PASSWORD)}`,
        },
      },
    );
    expect(
      (await res.text())
        .trimEnd()
        .split('\n')
        .filter((l) => l.includes('"type":"vial"')),
    ).toHaveLength(6);
  });

  it('a client that hangs up over HTTP, even before the first byte, leaves no session behind', async () => {
    // Hung up at 0–29 ms: some while the trace is still being opened (before the response could be closed).
    await Promise.all(
      Array.from({ length: 30 }, async (_, delay) => {
        // Its own connection each (no keep-alive pool): hanging up closes the socket, as a closed browser tab does.
        await new Promise<void>((resolve) => {
          const req = httpGet(
            `${api.baseUrl}/api/trace/forward?ref=${chain.mcb.id}&format=ndjson`,
            { agent: false, headers: { authorization: `Bearer ${qaToken}` } },
            (res) => res.resume(),
          );
          req.once('close', () => resolve());
          req.once('error', () => undefined);
          setTimeout(() => req.destroy(), delay);
        });
      }),
    );
    expect(await busySessions()).toEqual([]);
  });

  it('never opened (the request failed first): abandon() ends the transaction', async () => {
    const session = await api.app.get(TraceRepository).openForwardStream(chain.mcb.id);
    await session.abandon();
    expect(await busySessions()).toEqual([]);
  });
});
