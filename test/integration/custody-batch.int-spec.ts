import { formatElementString, LaneVerifier } from '@lyotrace/domain';
import { AuditRepository } from '@lyotrace/persistence';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import type { ApiHarness } from '../support/api-harness.js';
import {
  closeCustodySuite,
  type CustodyWorld,
  openCustodySuite,
  releasedVials,
  scanOf,
  type TestVial,
} from '../support/custody-journey.js';
import type { GenealogyFactory } from '../support/genealogy-factory.js';

interface VialRow {
  id: string;
  state: string;
  holder_site_id: string;
  location_id: string | null;
  container_id: string | null;
  hold: string | null;
  hold_reason: string | null;
  version: number;
}
interface ReceiptBody {
  shippers: { id: string }[];
  expected: number;
  scanned: number;
  lines: { vial: { id: string; state: string; hold: string | null }; outcome: string | null }[];
  openExcursions: { id: string; containerId: string }[];
  shipment: { receiptResult: string | null };
}
interface ShipperBody {
  contents: { id: string; state: string; holder: { containerId: string | null } }[];
  history: { vialId: string; unpackedAt: string | null }[];
}

/**
 * Dispatch, the shipper view and clinic receipt read and write a whole shipment in a fixed number of statements.
 * These tests hold them to what they did one vial at a time: every vial moved, held, unpacked, listed and audited
 * once, with its own values, whatever shipper it travels in (EU GDP 5.5, 9.2; 21 CFR 11.10(e)).
 */
describe('chain of custody: a shipment of several shippers, vial by vial', () => {
  let api: ApiHarness;
  let db: DataSource;
  let f: GenealogyFactory;
  let w: CustodyWorld;

  beforeAll(async () => {
    ({ api, db, f, w } = await openCustodySuite());
  });
  afterAll(() => closeCustodySuite({ api, db }));

  const sscc = (s: string) => `]C1${formatElementString([{ ai: '00', value: s }])}`;
  const vialRows = async (ids: string[]): Promise<Map<string, VialRow>> =>
    new Map(
      (
        await db.query<VialRow[]>(
          `SELECT id, state, holder_site_id, location_id, container_id, hold, hold_reason, version
             FROM vial WHERE id = ANY($1::uuid[])`,
          [ids],
        )
      ).map((r) => [r.id, r]),
    );
  const openInterval = async (vialId: string) =>
    db.query<{ step: string; site_id: string | null; container_id: string | null; n: number }[]>(
      `SELECT step, site_id, container_id, (SELECT count(*)::int FROM custody_interval WHERE vial_id = $1) AS n
         FROM custody_interval WHERE vial_id = $1 AND to_at IS NULL`,
      [vialId],
    );

  /** Statements sent to PostgreSQL by this process while `work` runs (the test's own reads come after). */
  async function statements(work: () => Promise<unknown>): Promise<number> {
    const original = pg.Client.prototype.query;
    let count = 0;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      count += 1;
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    try {
      await work();
    } finally {
      pg.Client.prototype.query = original;
    }
    return count;
  }

  it('dispatches, shows and receives a shipment in as many statements for 3 vials a shipper as for 1', async () => {
    /** Two shippers of `perShipper` vials; at receipt, the second shipper's last vial is missing. */
    async function journey(perShipper: number): Promise<Record<string, number>> {
      const { lot, vials } = await releasedVials(f, 2 * perShipper);
      const shippers = [await w.shipper(), await w.shipper()];
      for (const [i, shipper] of shippers.entries())
        for (const v of vials.slice(i * perShipper, (i + 1) * perShipper))
          await w.stockAndPack(v, lot.code, shipper.sscc);
      const shipment = await w.shipment(shippers.map((s) => s.id));
      const counts: Record<string, number> = {};
      counts.dispatch = await statements(async () =>
        expect((await w.dispatch(shipment.id)).status).toBe(200),
      );
      counts.shipper = await statements(async () =>
        expect(
          (await api.request('GET', `/api/shippers/${shippers[0]!.id}`, { token: w.warehouse.token })).status,
        ).toBe(200),
      );
      await w.scan(w.clinicUser.token, sscc(shippers[0]!.sscc), 'receipt');
      for (const v of vials.slice(0, -1))
        await w.scan(w.clinicUser.token, scanOf(v, lot.code), 'receipt', { shipmentId: shipment.id });
      counts.view = await statements(async () =>
        expect(
          (await api.request('GET', `/api/shipments/${shipment.id}/receipt`, { token: w.clinicUser.token }))
            .status,
        ).toBe(200),
      );
      counts.confirm = await statements(async () => expect((await w.confirm(shipment.id)).status).toBe(200));
      return counts;
    }
    await journey(1); // warm-up: the audit lanes' heads known, the statements prepared
    expect(await journey(3)).toEqual(await journey(1));
  });

  it('dispatches, shows and receives three shippers: stock, quarantine per excursion, missing — each vial once', async () => {
    const { lot, vials } = await releasedVials(f, 6);
    const [a, b, c] = [await w.shipper(), await w.shipper(), await w.shipper()];
    const packing: [{ id: string; sscc: string }, TestVial[]][] = [
      [a, vials.slice(0, 3)],
      [b, vials.slice(3, 5)],
      [c, vials.slice(5)],
    ];
    for (const [shipper, inside] of packing)
      for (const v of inside) await w.stockAndPack(v, lot.code, shipper.sscc);
    const shipment = await w.shipment([a.id, b.id, c.id]);
    const ids = vials.map((v) => v.id);

    // Dispatch: every vial of every shipper on the road, in its own shipper, one open interval each.
    const beforeDispatch = await vialRows(ids);
    const dispatched = await w.dispatch(shipment.id);
    expect(dispatched.status).toBe(200);
    const onRoad = await vialRows(ids);
    for (const [shipper, inside] of packing) {
      for (const v of inside) {
        expect(onRoad.get(v.id)).toMatchObject({
          state: 'in_transit',
          container_id: shipper.id,
          version: beforeDispatch.get(v.id)!.version + 1,
        });
        // commission, receive, putaway, pick, pack, dispatch
        expect(await openInterval(v.id)).toEqual([
          { step: 'dispatch', site_id: null, container_id: shipper.id, n: 6 },
        ]);
      }
    }
    const [dispatchAudit] = await db.query<{ new_values: { vials: number } }[]>(
      `SELECT new_values FROM audit_event WHERE action = 'shipment.dispatch' AND entity_id = $1`,
      [shipment.id],
    );
    expect(dispatchAudit!.new_values.vials).toBe(6);

    // The shipper view, to the clinic now that it travels there: what is inside, in packing order.
    const view = await api.request<ShipperBody>('GET', `/api/shippers/${a.id}`, {
      token: w.clinicUser.token,
    });
    expect(view.status).toBe(200);
    expect(view.body.contents.map((v) => v.id)).toEqual(ids.slice(0, 3));
    expect(view.body.contents.every((v) => v.state === 'in_transit' && v.holder.containerId === a.id)).toBe(
      true,
    );
    expect(view.body.history.map((h) => h.vialId)).toEqual(ids.slice(0, 3));
    expect(
      (await api.request('GET', `/api/shippers/${a.id}`, { token: w.otherClinicUser.token })).status,
    ).toBe(404);

    // Open excursions on b and c: their vials go into quarantine, each saying which excursion and shipper.
    const excursion = async (containerId: string) =>
      (
        await db.query<{ id: string }[]>(
          `INSERT INTO excursion (container_id, started_at, state, severity)
           VALUES ($1, now() - interval '2 hours', 'open', 'critical') RETURNING id`,
          [containerId],
        )
      )[0]!.id;
    const [onB, onC] = [await excursion(b.id), await excursion(c.id)];

    await w.scan(w.clinicUser.token, sscc(a.sscc), 'receipt');
    const found = [vials[0]!, vials[1]!, vials[3]!, vials[5]!];
    const missing = [vials[2]!, vials[4]!];
    for (const v of found) {
      const res = await w.scan(w.clinicUser.token, scanOf(v, lot.code), 'receipt', {
        shipmentId: shipment.id,
      });
      expect(res.body.receipt).toMatchObject({ line: 'received' });
    }

    const before = await api.request<ReceiptBody>('GET', `/api/shipments/${shipment.id}/receipt`, {
      token: w.clinicUser.token,
    });
    expect(before.body).toMatchObject({ expected: 6, scanned: 4 });
    // Lines: each shipper's vials in packing order, the shippers in the order listed.
    const shipperOrder = before.body.shippers.map((s) => s.id);
    const expectedOrder = [...packing]
      .sort(([x], [y]) => shipperOrder.indexOf(x.id) - shipperOrder.indexOf(y.id))
      .flatMap(([, inside]) => inside.map((v) => v.id));
    expect(before.body.lines.map((l) => l.vial.id)).toEqual(expectedOrder);
    expect(
      before.body.lines
        .filter((l) => l.outcome === 'received')
        .map((l) => l.vial.id)
        .sort(),
    ).toEqual(found.map((v) => v.id).sort());
    expect(
      before.body.openExcursions.map((e) => [e.id, e.containerId]).sort(([x], [y]) => x!.localeCompare(y!)),
    ).toEqual(
      [
        [onB, b.id],
        [onC, c.id],
      ].sort(([x], [y]) => x!.localeCompare(y!)),
    );

    const versions = await vialRows(ids);
    const confirmed = await w.confirm(shipment.id);
    expect(confirmed.status).toBe(200);
    const after = confirmed.body as unknown as ReceiptBody;
    expect(after.shipment.receiptResult).toBe('with_discrepancy');
    expect(after.lines.map((l) => l.vial.id)).toEqual(expectedOrder);
    expect(Object.fromEntries(after.lines.map((l) => [l.vial.id, l.outcome]))).toEqual({
      [vials[0]!.id]: 'received',
      [vials[1]!.id]: 'received',
      [vials[2]!.id]: 'missing',
      [vials[3]!.id]: 'received',
      [vials[4]!.id]: 'missing',
      [vials[5]!.id]: 'received',
    });

    const now = await vialRows(ids);
    const atClinic = {
      state: 'at_clinic',
      holder_site_id: w.clinic.id,
      location_id: null,
      container_id: null,
    };
    expect(now.get(vials[0]!.id)).toMatchObject({ ...atClinic, hold: null, hold_reason: null });
    expect(now.get(vials[1]!.id)).toMatchObject({ ...atClinic, hold: null, hold_reason: null });
    expect(now.get(vials[3]!.id)).toMatchObject({
      ...atClinic,
      hold: 'quarantine',
      hold_reason: `received while excursion ${onB} was open on shipper ${b.sscc}`,
    });
    expect(now.get(vials[5]!.id)).toMatchObject({
      ...atClinic,
      hold: 'quarantine',
      hold_reason: `received while excursion ${onC} was open on shipper ${c.sscc}`,
    });
    for (const v of missing) {
      expect(now.get(v.id)).toMatchObject({
        state: 'in_transit',
        container_id: onRoad.get(v.id)!.container_id,
        hold: 'under_investigation',
        hold_reason: `missing at receipt of shipment ${shipment.id}`,
      });
    }
    // Each vial's row changed once: moved, or held.
    for (const id of ids) expect(now.get(id)!.version).toBe(versions.get(id)!.version + 1);

    for (const v of found) {
      expect(await openInterval(v.id)).toEqual([
        { step: 'receipt', site_id: w.clinic.id, container_id: null, n: 7 },
      ]);
    }
    for (const v of missing) {
      expect((await openInterval(v.id))[0]).toMatchObject({ step: 'dispatch', n: 6 });
    }
    const packings = await db.query<{ vial_id: string; open: boolean }[]>(
      `SELECT vial_id, unpacked_at IS NULL AS open FROM aggregation WHERE vial_id = ANY($1::uuid[])`,
      [ids],
    );
    expect(Object.fromEntries(packings.map((p) => [p.vial_id, p.open]))).toEqual(
      Object.fromEntries(ids.map((id) => [id, missing.some((v) => v.id === id)])),
    );
    const lines = await db.query<{ vial_id: string; outcome: string }[]>(
      `SELECT vial_id, outcome FROM receipt_line WHERE shipment_id = $1 AND outcome = 'missing' ORDER BY vial_id`,
      [shipment.id],
    );
    expect(lines).toEqual(
      missing
        .map((v) => ({ vial_id: v.id, outcome: 'missing' }))
        .sort((x, y) => x.vial_id.localeCompare(y.vial_id)),
    );

    // 21 CFR 11.10(e): one event per vial, right after the receipt's own, on its lane, chained.
    const [confirm] = await db.query<{ lane: number; lane_seq: string }[]>(
      `SELECT lane, lane_seq FROM audit_event WHERE action = 'shipment.receipt_confirm' AND entity_id = $1`,
      [shipment.id],
    );
    const perVial = await db.query<
      {
        lane_seq: string;
        action: string;
        entity_id: string;
        old_values: Record<string, unknown>;
        new_values: Record<string, unknown>;
      }[]
    >(
      `SELECT lane_seq, action, entity_id, old_values, new_values FROM audit_event
        WHERE lane = $1 AND lane_seq > $2 AND lane_seq <= $2::bigint + 6 ORDER BY lane_seq`,
      [confirm!.lane, confirm!.lane_seq],
    );
    expect(perVial.map((e) => e.entity_id).sort()).toEqual([...ids].sort());
    const byVial = new Map(perVial.map((e) => [e.entity_id, e]));
    for (const v of found) {
      const quarantined = v === vials[3] || v === vials[5];
      expect(byVial.get(v.id)).toMatchObject({
        action: 'vial.receipt',
        old_values: { state: 'in_transit', siteId: onRoad.get(v.id)!.holder_site_id, hold: null },
        new_values: {
          state: 'at_clinic',
          siteId: w.clinic.id,
          containerId: null,
          hold: quarantined ? 'quarantine' : null,
        },
      });
    }
    for (const v of missing) {
      expect(byVial.get(v.id)).toMatchObject({
        action: 'vial.missing_at_receipt',
        new_values: { hold: 'under_investigation' },
      });
    }
    // Stock first, then quarantine, then missing.
    expect(perVial.map((e) => e.action)).toEqual([
      'vial.receipt',
      'vial.receipt',
      'vial.receipt',
      'vial.receipt',
      'vial.missing_at_receipt',
      'vial.missing_at_receipt',
    ]);
    expect(
      perVial
        .slice(0, 2)
        .map((e) => e.entity_id)
        .sort(),
    ).toEqual([vials[0]!.id, vials[1]!.id].sort());
    const verifier = new LaneVerifier(confirm!.lane);
    for await (const row of new AuditRepository(db).laneInOrder(confirm!.lane))
      expect(verifier.accept(row)).toBeNull();
    expect(verifier.finish()).toBeNull();
  });
});
