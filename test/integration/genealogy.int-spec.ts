import { LotKind, QuantityUnit } from '@lyotrace/contracts';
import type { DataSource } from 'typeorm';
import { ApiHarness } from '../support/api-harness.js';
import { openTestDataSource } from '../support/database.js';
import { unique } from '../support/factories.js';
import { GenealogyFactory, type Lot } from '../support/genealogy-factory.js';

describe('genealogy: production records from donor to vial', () => {
  let api: ApiHarness;
  let db: DataSource;
  let f: GenealogyFactory;

  beforeAll(async () => {
    api = await ApiHarness.start();
    db = await openTestDataSource();
    f = await GenealogyFactory.create(api);
  });
  afterAll(async () => {
    await api.close();
    await db.destroy();
  });

  /** Everything a refused request might have written: counts that must not move. */
  const snapshot = async () =>
    (
      await db.query<Record<string, string>[]>(`SELECT
        (SELECT count(*) FROM lot) AS lots, (SELECT count(*) FROM transformation) AS transformations,
        (SELECT count(*) FROM lot_edge) AS edges, (SELECT count(*) FROM vial) AS vials,
        (SELECT count(*) FROM audit_event) AS audit, (SELECT coalesce(sum(remaining_quantity), 0)::text FROM lot) AS remaining`)
    )[0];

  async function expectRefused(
    // A function, called after the snapshot: a request already in flight could write before it is taken.
    call: () => Promise<{ status: number; body: unknown }>,
    status: number,
    code: string,
    field?: string,
  ): Promise<void> {
    const before = await snapshot();
    const res = await call();
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject(field ? { code, field } : { code });
    expect(await snapshot()).toEqual(before);
  }

  it('records the whole chain with quantities conserved, and commissions serialized vials', async () => {
    const c = await f.chain(3);
    const lot = async (l: Lot) =>
      (await api.request<Lot>('GET', `/api/lots/${l.id}`, { token: f.token })).body;
    expect((await lot(c.expansion)).remainingQuantity).toBe('0');
    expect((await lot(c.medium)).remainingQuantity).toBe('80');
    expect((await lot(c.pool)).remainingQuantity).toBe('0');
    expect(await lot(c.lotA)).toMatchObject({
      kind: 'finished_lot',
      status: 'pending_release',
      remainingQuantity: '0',
      expiry: c.expiry,
      gtin: c.product.gtin,
    });
    expect(c.vialsA).toHaveLength(3);
    for (const v of [...c.vialsA, ...c.vialsB]) {
      expect(v.gtin).toBe(c.product.gtin);
      expect(v.serial).toMatch(/^[2-9A-HJ-NP-Z]{10}$/);
      expect(v.expiry).toBe(c.expiry);
    }
    expect(new Set([...c.vialsA, ...c.vialsB].map((v) => v.serial)).size).toBe(6);
    const edges = await db.query<{ n: string }[]>(
      'SELECT count(*) AS n FROM lot_edge WHERE child_lot_id = ANY($1::uuid[])',
      [[c.lotA.id, c.lotB.id]],
    );
    expect(Number(edges[0]!.n)).toBe(4); // pool and cryoprotectant → each of the two finished lots
    const audit = await db.query<{ action: string }[]>(
      `SELECT action FROM audit_event WHERE entity_id = $1 ORDER BY id`,
      [c.lotA.id],
    );
    expect(audit.map((a) => a.action)).toEqual(['lot.create', 'lot.commission']);
  });

  it('adds a later harvest to an existing pool (many-to-many)', async () => {
    const mcb = await f.make(
      [{ lot: await f.root(LotKind.Donor), quantity: '1' }],
      LotKind.MasterCellBank,
      '2',
      QuantityUnit.Vials,
    );
    const wcb = await f.make([{ lot: mcb, quantity: '1' }], LotKind.WorkingCellBank, '2', QuantityUnit.Vials);
    const exp = await f.make([{ lot: wcb, quantity: '1' }], LotKind.ExpansionBatch, '2', QuantityUnit.Flasks);
    const h1 = await f.make([{ lot: exp, quantity: '1' }], LotKind.Harvest, '3', QuantityUnit.Litre);
    const h2 = await f.make([{ lot: exp, quantity: '1' }], LotKind.Harvest, '4', QuantityUnit.Litre);
    const pool = await f.make([{ lot: h1, quantity: '3' }], LotKind.SecretomeBulk, '1', QuantityUnit.Litre);
    const more = await f.transform(
      [{ lot: h2, quantity: '4' }],
      [{ existingLotId: pool.id, quantity: '1.5' }],
    );
    expect(more.status).toBe(201);
    expect(more.body.outputs[0]).toMatchObject({ id: pool.id, quantity: '2.5', remainingQuantity: '2.5' });
  });

  describe('refusals write nothing', () => {
    it('refuses a kind that may not feed the output kind', async () => {
      const donor = await f.root(LotKind.Donor);
      await expectRefused(
        () =>
          f.transform(
            [{ lot: donor, quantity: '1' }],
            [{ lot: { code: unique('H'), kind: LotKind.Harvest, quantity: '1', unit: 'L' } }],
          ),
        422,
        'GENEALOGY_KIND_NOT_ALLOWED',
        'inputs',
      );
    });

    it('refuses a lineage kind fed by raw materials only', async () => {
      const medium = await f.root(LotKind.RawMaterial, '10', QuantityUnit.Litre);
      await expectRefused(
        () =>
          f.transform(
            [{ lot: medium, quantity: '1' }],
            [{ lot: { code: unique('X'), kind: LotKind.ExpansionBatch, quantity: '1', unit: 'flasks' } }],
          ),
        422,
        'GENEALOGY_KIND_NOT_ALLOWED',
      );
    });

    it('refuses to register a made kind as a root lot', async () => {
      await expectRefused(
        () =>
          api.request('POST', '/api/lots', {
            token: f.token,
            body: { siteId: f.siteId, code: unique('H'), kind: 'harvest', quantity: '1', unit: 'L' },
          }),
        422,
        'GENEALOGY_KIND_NOT_ALLOWED',
        'kind',
      );
    });

    it('refuses consuming more than remains, naming the input', async () => {
      const donor = await f.root(LotKind.Donor);
      const mcb = await f.make(
        [{ lot: donor, quantity: '1' }],
        LotKind.MasterCellBank,
        '5',
        QuantityUnit.Vials,
      );
      await expectRefused(
        () =>
          f.transform(
            [{ lot: mcb, quantity: '6' }],
            [{ lot: { code: unique('W'), kind: LotKind.WorkingCellBank, quantity: '1', unit: 'vials' } }],
          ),
        422,
        'GENEALOGY_INSUFFICIENT_QUANTITY',
        'inputs.0.quantity',
      );
    });

    it('refuses an unknown input and a unit other than the lot’s', async () => {
      const donor = await f.root(LotKind.Donor);
      await expectRefused(
        () =>
          api.request('POST', '/api/transformations', {
            token: f.token,
            body: {
              siteId: f.siteId,
              occurredAt: new Date().toISOString(),
              inputs: [{ lotId: '00000000-0000-4000-8000-000000000000', quantity: '1', unit: 'each' }],
              outputs: [
                { lot: { code: unique('M'), kind: 'master_cell_bank', quantity: '1', unit: 'vials' } },
              ],
            },
          }),
        422,
        'GENEALOGY_UNKNOWN_INPUT',
        'inputs.0.lotId',
      );
      await expectRefused(
        () =>
          api.request('POST', '/api/transformations', {
            token: f.token,
            body: {
              siteId: f.siteId,
              occurredAt: new Date().toISOString(),
              inputs: [{ lotId: donor.id, quantity: '1', unit: 'mL' }],
              outputs: [
                { lot: { code: unique('M'), kind: 'master_cell_bank', quantity: '1', unit: 'vials' } },
              ],
            },
          }),
        422,
        'GENEALOGY_UNIT_MISMATCH',
        'inputs.0.unit',
      );
    });

    it('refuses a cycle: a lot may not become its own ancestor', async () => {
      const mcb = await f.make(
        [{ lot: await f.root(LotKind.Donor), quantity: '1' }],
        LotKind.MasterCellBank,
        '4',
        QuantityUnit.Vials,
      );
      const wcb = await f.make(
        [{ lot: mcb, quantity: '1' }],
        LotKind.WorkingCellBank,
        '4',
        QuantityUnit.Vials,
      );
      const e1 = await f.make(
        [{ lot: wcb, quantity: '1' }],
        LotKind.ExpansionBatch,
        '4',
        QuantityUnit.Flasks,
      );
      const e2 = await f.make([{ lot: e1, quantity: '1' }], LotKind.ExpansionBatch, '4', QuantityUnit.Flasks);
      // e2 descends from e1: feeding e2 into e1 would close a loop.
      await expectRefused(
        () => f.transform([{ lot: e2, quantity: '1' }], [{ existingLotId: e1.id, quantity: '1' }]),
        422,
        'GENEALOGY_CYCLE',
      );
      await expectRefused(
        () => f.transform([{ lot: e1, quantity: '1' }], [{ existingLotId: e1.id, quantity: '1' }]),
        422,
        'GENEALOGY_CYCLE',
      );
    });

    it('refuses a finished lot without a product or expiry, and a duplicate lot code', async () => {
      const c = await f.chain(1);
      const pool = await f
        .make(
          [
            {
              lot: await f.make(
                [{ lot: c.wcb, quantity: '1' }],
                LotKind.ExpansionBatch,
                '1',
                QuantityUnit.Flasks,
              ),
              quantity: '1',
            },
          ],
          LotKind.Harvest,
          '1',
          QuantityUnit.Litre,
        )
        .then((h) => f.make([{ lot: h, quantity: '1' }], LotKind.SecretomeBulk, '1', QuantityUnit.Litre));
      const fill = (lot: Record<string, unknown>) =>
        f.transform(
          [{ lot: pool, quantity: '0.5' }],
          [{ lot: { code: unique('F'), kind: 'finished_lot', quantity: '2', unit: 'vials', ...lot } }],
        );
      await expectRefused(
        () => fill({ expiry: '2028-01-31' }),
        422,
        'PRODUCT_REQUIRED',
        'outputs.0.lot.productId',
      );
      await expectRefused(
        () => fill({ productId: c.product.id }),
        422,
        'PRODUCT_REQUIRED',
        'outputs.0.lot.expiry',
      );
      await expectRefused(
        () =>
          api.request('POST', '/api/lots', {
            token: f.token,
            body: { siteId: f.siteId, code: c.donor.code, kind: 'donor', quantity: '1', unit: 'each' },
          }),
        409,
        'LOT_CODE_TAKEN',
        'code',
      );
    });

    it('refuses to commission more vials than the lot holds', async () => {
      const c = await f.chain(2);
      await expectRefused(
        () => api.request('POST', `/api/lots/${c.lotA.id}/vials`, { token: f.token, body: { count: 1 } }),
        422,
        'COMMISSION_EXCEEDS_LOT',
        'count',
      );
    });

    it('refuses any change to a released lot', async () => {
      const c = await f.chain(1);
      expect((await f.release(c.lotA)).status).toBe(200);
      await expectRefused(
        () => f.transform([{ lot: c.cryo, quantity: '0.1' }], [{ existingLotId: c.lotA.id, quantity: '1' }]),
        409,
        'LOT_CLOSED',
      );
    });

    it('refuses an unknown field and a float-like quantity string, naming the field', async () => {
      const donor = await f.root(LotKind.Donor);
      await expectRefused(
        () =>
          api.request('POST', '/api/transformations', {
            token: f.token,
            body: {
              siteId: f.siteId,
              occurredAt: new Date().toISOString(),
              inputs: [{ lotId: donor.id, quantity: '1e3', unit: 'each' }],
              outputs: [],
            },
          }),
        400,
        'VALIDATION_FAILED',
      );
    });
  });

  describe('corrections never delete (EPCIS errorDeclaration)', () => {
    it('declares a step in error: the record stays, quantities go back, the edges leave the genealogy', async () => {
      const donor = await f.root(LotKind.Donor);
      const mcb = await f.make(
        [{ lot: donor, quantity: '1' }],
        LotKind.MasterCellBank,
        '3',
        QuantityUnit.Vials,
      );
      const res = await api.request('POST', `/api/transformations/${mcb.transformationId}/declare-error`, {
        token: f.token,
        body: { reason: 'wrong donor scanned' },
      });
      expect(res.status).toBe(204);
      const [t] = await db.query<{ declared_in_error_at: Date | null; error_reason: string }[]>(
        'SELECT declared_in_error_at, error_reason FROM transformation WHERE id = $1',
        [mcb.transformationId],
      );
      expect(t).toMatchObject({
        declared_in_error_at: expect.any(Date),
        error_reason: 'wrong donor scanned',
      });
      expect(
        (await api.request<Lot>('GET', `/api/lots/${donor.id}`, { token: f.token })).body.remainingQuantity,
      ).toBe('1');
      const edges = await db.query<{ valid: boolean }[]>(
        'SELECT valid FROM lot_edge WHERE transformation_id = $1',
        [mcb.transformationId],
      );
      expect(edges.map((e) => e.valid)).toEqual([false]);
      const again = await api.request('POST', `/api/transformations/${mcb.transformationId}/declare-error`, {
        token: f.token,
        body: { reason: 'again' },
      });
      expect(again.body).toMatchObject({ code: 'TRANSFORMATION_ALREADY_CORRECTED' });
      await expect(
        db.query('DELETE FROM transformation WHERE id = $1', [mcb.transformationId]),
      ).rejects.toThrow(/append-only|refused/);
    });
  });

  describe('correcting recorded lot data', () => {
    it('keeps the old values and the reason in the audit trail, and refuses once the lot is released', async () => {
      const c = await f.chain(1);
      const fix = await api.request<Lot & { attributes: Record<string, unknown> }>(
        'PATCH',
        `/api/lots/${c.expansion.id}`,
        {
          token: f.token,
          body: { attributes: { passage: 5, cellCount: 1.1e9 }, reason: 'passage number mistyped' },
        },
      );
      expect(fix.status).toBe(200);
      expect(fix.body.attributes).toEqual({ passage: 5, cellCount: 1.1e9 });
      const [audit] = await db.query<{ old_values: Record<string, unknown>; reason: string }[]>(
        `SELECT old_values, reason FROM audit_event WHERE entity_id = $1 AND action = 'lot.correct'`,
        [c.expansion.id],
      );
      expect(audit).toMatchObject({
        reason: 'passage number mistyped',
        old_values: { attributes: { passage: 4, cellCount: 1.2e9 } },
      });
      await expectRefused(
        () =>
          api.request('PATCH', `/api/lots/${c.expansion.id}`, { token: f.token, body: { attributes: {} } }),
        400,
        'VALIDATION_FAILED',
      );
      await expectRefused(
        () =>
          api.request('PATCH', `/api/lots/${c.lotA.id}`, {
            token: f.token,
            body: { expiry: '2029-01-31', reason: 'r' },
          }),
        409,
        'LOT_CLOSED',
        'expiry',
      );
      expect((await f.release(c.lotA)).status).toBe(200);
      await expectRefused(
        () =>
          api.request('PATCH', `/api/lots/${c.lotA.id}`, {
            token: f.token,
            body: { attributes: { x: 1 }, reason: 'r' },
          }),
        409,
        'LOT_CLOSED',
      );
    });
  });

  describe('QA release and rejection (e-signed, four eyes)', () => {
    it('releases with a signature bound to the reviewed lot version, by someone other than the recorder', async () => {
      const c = await f.chain(2);
      const res = await f.release(c.lotA);
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('released');
      const [sig] = await db.query<{ meaning: string; entity_version: number; user_id: string }[]>(
        `SELECT s.meaning, s.entity_version, s.user_id FROM electronic_signature s JOIN lot l ON l.disposition_signature_id = s.id WHERE l.id = $1`,
        [c.lotA.id],
      );
      // Signed: the version QA reviewed, i.e. the one just before the status change.
      expect(sig).toMatchObject({ meaning: 'approval', entity_version: res.body.version - 1 });
      expect((await f.release(c.lotA)).body).toMatchObject({ code: 'LOT_NOT_PENDING_RELEASE' });
    });

    it('lets only QA dispose of a lot: the production user who recorded it is refused by role', async () => {
      // Roles are exclusive, so the recorder (production) can never be the QA signer through the API; the
      // four-eyes rule itself (RELEASE_BY_SAME_USER) is proven in genealogy-rules.spec.ts.
      const c = await f.chain(1);
      const byRecorder = await api.request('POST', `/api/lots/${c.lotA.id}/release`, {
        token: f.token,
        body: { password: 'x', reason: 'r' },
      });
      expect(byRecorder.status).toBe(403);
      expect((await api.request<Lot>('GET', `/api/lots/${c.lotA.id}`, { token: f.token })).body.status).toBe(
        'pending_release',
      );
    });

    it('rejects with a signature; a rejected lot cannot be used or released', async () => {
      const c = await f.chain(1);
      expect((await f.release(c.lotB, 'reject')).body).toMatchObject({ status: 'rejected' });
      expect((await f.release(c.lotB)).body).toMatchObject({ code: 'LOT_NOT_PENDING_RELEASE' });
    });

    it('signs nothing with a wrong password', async () => {
      const c = await f.chain(1);
      const res = await f.release(c.lotA, 'release', f.qaToken, 'wrong-password');
      expect(res.body).toMatchObject({ code: 'SIGNATURE_INVALID_PASSWORD' });
      expect((await api.request<Lot>('GET', `/api/lots/${c.lotA.id}`, { token: f.token })).body.status).toBe(
        'pending_release',
      );
    });
  });
});
