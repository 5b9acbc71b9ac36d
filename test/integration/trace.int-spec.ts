import { Role } from '@lyotrace/contracts';
import { ApiHarness } from '../support/api-harness.js';
import { makeUser } from '../support/factories.js';
import { GenealogyFactory } from '../support/genealogy-factory.js';

interface Trace {
  ref: { type: string; lotId: string; vialId: string | null };
  vial?: { id: string; serial: string } | null;
  lots: {
    id: string;
    code: string;
    kind: string;
    recordedBy: { name: string };
    externalIds: Record<string, string>;
  }[];
  edges: {
    from: string;
    to: string;
    operator: { name: string };
    consumed: { quantity: string; unit: string };
    occurredAt: string;
  }[];
  vials?: {
    total: number;
    items: { id: string; serial: string; state: string; holder: { siteCode: string } }[];
    nextAfter: string | null;
  };
}

describe('trace: backward to the donor, forward to every vial', () => {
  let api: ApiHarness;
  let f: GenealogyFactory;
  let c: Awaited<ReturnType<GenealogyFactory['chain']>>;
  let ids: { elementString: string; humanReadable: string; digitalLink: string };

  beforeAll(async () => {
    api = await ApiHarness.start();
    f = await GenealogyFactory.create(api);
    c = await f.chain(3);
    ids = (
      await api.request<typeof ids>('GET', `/api/vials/${c.vialsA[0]!.id}/identifiers`, { token: f.token })
    ).body;
  });
  afterAll(() => api.close());

  const get = (path: string, ref: string) =>
    api.request<Trace>('GET', `${path}?ref=${encodeURIComponent(ref)}`, { token: f.qaToken });

  it('gives each vial its GS1 identifiers', () => {
    const v = c.vialsA[0]!;
    expect(ids.humanReadable).toBe(`(01)${c.product.gtin}(17)280630(10)${c.lotA.code}(21)${v.serial}`);
    expect(ids.elementString).toBe(`]d201${c.product.gtin}17280630${`10${c.lotA.code}\u001d`}21${v.serial}`);
    expect(ids.digitalLink).toBe(
      `https://id.gs1.org/01/${c.product.gtin}/10/${c.lotA.code}/21/${v.serial}?17=280630`,
    );
  });

  it('traces one vial back to exactly its chain: lot, pool, both harvests, expansion, WCB, MCB, donor and the materials', async () => {
    const res = await get('/api/trace/backward', ids.elementString);
    expect(res.status).toBe(200);
    expect(res.body.ref).toMatchObject({ type: 'vial', vialId: c.vialsA[0]!.id, lotId: c.lotA.id });
    expect(res.body.vial).toMatchObject({ serial: c.vialsA[0]!.serial });
    const expected = [
      c.lotA,
      c.pool,
      c.harvest1,
      c.harvest2,
      c.expansion,
      c.wcb,
      c.mcb,
      c.donor,
      c.medium,
      c.cryo,
    ]
      .map((l) => l.id)
      .sort();
    expect(res.body.lots.map((l) => l.id).sort()).toEqual(expected);
    expect(res.body.lots.map((l) => l.id)).not.toContain(c.lotB.id); // the sister lot is not an ancestor
    const donor = res.body.lots.find((l) => l.id === c.donor.id)!;
    expect(donor.externalIds.isbt128Din).toMatch(/^A9999/);
    // Edges carry the step's time, operator and the quantity consumed.
    const poolToLot = res.body.edges.find((e) => e.from === c.pool.id && e.to === c.lotA.id)!;
    expect(poolToLot).toMatchObject({
      consumed: { quantity: '2', unit: 'L' },
      operator: { name: expect.any(String) },
      occurredAt: expect.any(String),
    });
    expect(res.body.edges).toHaveLength(10); // donor→MCB→WCB, medium+WCB→expansion, →2 harvests, →pool, pool+cryo→lot
  });

  it('accepts the same vial as the printed (01)… form, as a Digital Link URI and by internal id', async () => {
    for (const ref of [ids.humanReadable, ids.digitalLink, c.vialsA[0]!.id]) {
      const res = await get('/api/trace/backward', ref);
      expect(res.status).toBe(200);
      expect(res.body.ref.vialId).toBe(c.vialsA[0]!.id);
    }
  });

  it('traces a master cell bank forward to every lot and every vial, with holder and state', async () => {
    const res = await get('/api/trace/forward', c.mcb.code);
    expect(res.status).toBe(200);
    expect(res.body.lots.map((l) => l.id).sort()).toEqual(
      [c.mcb, c.wcb, c.expansion, c.harvest1, c.harvest2, c.pool, c.lotA, c.lotB].map((l) => l.id).sort(),
    );
    expect(res.body.vials!.total).toBe(6);
    expect(res.body.vials!.items.map((v) => v.id).sort()).toEqual(
      [...c.vialsA, ...c.vialsB].map((v) => v.id).sort(),
    );
    expect(res.body.vials!.items[0]).toMatchObject({
      state: 'in_stock',
      holder: { siteCode: expect.any(String) },
    });
  });

  it('pages the downstream vials', async () => {
    const page1 = await api.request<Trace>('GET', `/api/trace/forward?ref=${c.mcb.id}&limit=4`, {
      token: f.qaToken,
    });
    expect(page1.body.vials!.items).toHaveLength(4);
    const page2 = await api.request<Trace>(
      'GET',
      `/api/trace/forward?ref=${c.mcb.id}&limit=4&after=${page1.body.vials!.nextAfter!}`,
      { token: f.qaToken },
    );
    expect(page2.body.vials!.items).toHaveLength(2);
    expect(page2.body.vials!.nextAfter).toBeNull();
    expect(new Set([...page1.body.vials!.items, ...page2.body.vials!.items].map((v) => v.id)).size).toBe(6);
  });

  it('streams the forward trace as NDJSON: header, lots, edges, then every vial', async () => {
    const res = await fetch(
      `${api.baseUrl}/api/trace/forward?ref=${encodeURIComponent(c.mcb.code)}&format=ndjson`,
      {
        headers: { authorization: `Bearer ${f.qaToken}` },
      },
    );
    expect(res.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; id?: string; vialTotal?: number });
    expect(lines[0]).toMatchObject({ type: 'trace', vialTotal: 6 });
    expect(lines.filter((l) => l.type === 'lot')).toHaveLength(8);
    expect(
      lines
        .filter((l) => l.type === 'vial')
        .map((l) => l.id)
        .sort(),
    ).toEqual([...c.vialsA, ...c.vialsB].map((v) => v.id).sort());
  });

  it('leaves out a step declared in error', async () => {
    const g = await GenealogyFactory.create(api);
    const chain = await g.chain(1);
    const extra = await g.make(
      [{ lot: chain.wcb, quantity: '1' }],
      'expansion_batch' as never,
      '1',
      'flasks' as never,
    );
    expect((await get('/api/trace/forward', chain.mcb.code)).body.lots.map((l) => l.id)).toContain(extra.id);
    await api.request('POST', `/api/transformations/${extra.transformationId}/declare-error`, {
      token: g.token,
      body: { reason: 'recorded twice' },
    });
    expect((await get('/api/trace/forward', chain.mcb.code)).body.lots.map((l) => l.id)).not.toContain(
      extra.id,
    );
  });

  it('refuses a malformed GS1 reference with its GS1 code, and an unknown one with 404', async () => {
    // The product's GTIN with its check digit changed (a fixed wrong digit is the right one one time in ten).
    const wrongCheck = (Number(c.product.gtin[13]) + 1) % 10;
    const bad = await get('/api/trace/backward', `(01)${c.product.gtin.slice(0, 13)}${wrongCheck}(21)X`);
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ code: 'GS1_CHECK_DIGIT', ai: '01' });
    const unknown = await get('/api/trace/backward', 'NO-SUCH-LOT');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'TRACE_REF_UNKNOWN', field: 'ref' });
  });

  it('is closed to warehouse users, and a clinic finds no lot (it traces its own vials, doses, patients)', async () => {
    const depot = await makeUser(api.app, Role.Warehouse);
    const depotToken = await api.login(depot.username, depot.password);
    expect(
      (await api.request('GET', `/api/trace/backward?ref=${c.mcb.code}`, { token: depotToken })).status,
    ).toBe(403);
    const clinic = await makeUser(api.app, Role.Clinic);
    const clinicToken = await api.login(clinic.username, clinic.password);
    for (const path of ['/api/trace/backward', '/api/trace/forward']) {
      const res = await api.request('GET', `${path}?ref=${c.mcb.code}`, { token: clinicToken });
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: 'TRACE_REF_UNKNOWN' });
    }
  });

  describe('labels', () => {
    it('renders a vial label as SVG and PNG and a lot sheet as PDF', async () => {
      const v = c.vialsA[0]!;
      const svg = await fetch(`${api.baseUrl}/api/vials/${v.id}/label.svg`, {
        headers: { authorization: `Bearer ${f.token}` },
      });
      expect(svg.headers.get('content-type')).toMatch(/image\/svg\+xml/);
      const text = await svg.text();
      expect(text).toContain('<svg');
      expect(text).toContain(v.serial);
      const png = Buffer.from(
        await (
          await fetch(`${api.baseUrl}/api/vials/${v.id}/label.png`, {
            headers: { authorization: `Bearer ${f.token}` },
          })
        ).arrayBuffer(),
      );
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      const pdf = Buffer.from(
        await (
          await fetch(`${api.baseUrl}/api/lots/${c.lotA.id}/labels.pdf`, {
            headers: { authorization: `Bearer ${f.token}` },
          })
        ).arrayBuffer(),
      );
      expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
    });
  });
});
