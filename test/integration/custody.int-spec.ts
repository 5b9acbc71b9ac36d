import { randomUUID } from 'node:crypto';
import {
  formatDigitalLink,
  formatElementString,
  hasValidGs1CheckDigit,
  sgtinUri,
  ssccUri,
} from '@lyotrace/domain';
import { ScanAction } from '@lyotrace/contracts';
import { CustodyRepository } from '@lyotrace/persistence';
import { BridgeCredentialService } from '@lyotrace/services';
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
import { epcisSchemaErrors } from '../support/epcis-validator.js';
import { unique } from '../support/factories.js';
import type { GenealogyFactory } from '../support/genealogy-factory.js';

interface Interval {
  step: string;
  from: string;
  to: string | null;
  siteId: string | null;
  locationId: string | null;
  containerId: string | null;
}
interface QueryDoc {
  epcisBody: {
    queryResults: { resultsBody: { eventList: { type: string; bizStep: string; action?: string }[] } };
  };
}

describe('chain of custody: scan, store, ship, receive', () => {
  let api: ApiHarness;
  let db: DataSource;
  let f: GenealogyFactory;
  let w: CustodyWorld;

  beforeAll(async () => {
    ({ api, db, f, w } = await openCustodySuite());
  });
  afterAll(() => closeCustodySuite({ api, db }));

  const custody = async (vialId: string, token = w.warehouse.token) =>
    api.request<{
      vial: { state: string; hold: string | null; holder: Record<string, string | null> };
      intervals: Interval[];
    }>('GET', `/api/vials/${vialId}/custody`, { token });
  const auditActions = async (entityId: string): Promise<string[]> =>
    (
      await db.query<{ action: string }[]>(
        'SELECT action FROM audit_event WHERE entity_id = $1 ORDER BY occurred_at, id',
        [entityId],
      )
    ).map((r) => r.action);
  const rows = (sql: string, params: unknown[]) => db.query<Record<string, unknown>[]>(sql, params);

  const snapshot = async (vialId: string) => ({
    vial: (
      await rows(
        'SELECT state, holder_site_id, location_id, container_id, hold, version FROM vial WHERE id = $1',
        [vialId],
      )
    )[0],
    intervals: (
      await rows('SELECT count(*)::int AS n FROM custody_interval WHERE vial_id = $1', [vialId])
    )[0],
    aggregations: (await rows('SELECT count(*)::int AS n FROM aggregation WHERE vial_id = $1', [vialId]))[0],
  });

  it('follows a vial from commissioning to clinic receipt, one custody interval at a time, audited and in EPCIS', async () => {
    const { lot, vials } = await releasedVials(f, 2);
    const v = vials[0]!;
    const raw = scanOf(v, lot.code);

    const received = await w.scan(w.warehouse.token, raw, 'receive');
    expect(received.status).toBe(200);
    expect(received.body).toMatchObject({ outcome: 'done', replayed: false, subject: { kind: 'vial' } });
    expect(received.body.subject.vial!.holder.siteId).toBe(w.depot.id);

    // A Digital Link URI (a wedge typing the QR's URI) is the same vial.
    const dl = formatDigitalLink({ gtin: v.gtin, serial: v.serial, lot: lot.code, expiry: v.expiry });
    const stored = await w.scan(w.warehouse.token, dl, 'putaway', { locationCode: w.location.code });
    expect(stored.status).toBe(200);
    expect(stored.body.subject.vial!.holder.locationId).toBe(w.location.id);

    const moved = await w.scan(w.warehouse.token, raw, 'move', { locationId: w.location2.id });
    expect(moved.status).toBe(200);
    expect((await w.scan(w.warehouse.token, raw, 'pick')).status).toBe(200);

    const shipper = await w.shipper();
    expect(shipper.sscc).toMatch(/^\d{18}$/);
    expect(hasValidGs1CheckDigit(shipper.sscc)).toBe(true);
    const packed = await w.scan(w.warehouse.token, raw, 'pack', { sscc: shipper.sscc });
    expect(packed.status).toBe(200);
    expect(packed.body.subject.vial!.holder.sscc).toBe(shipper.sscc);

    const shipment = await w.shipment([shipper.id]);
    expect(shipment.state).toBe('planned');
    // A clinic does not see a shipment being planned.
    expect(
      (await api.request('GET', `/api/shipments/${shipment.id}/receipt`, { token: w.clinicUser.token }))
        .status,
    ).toBe(404);
    const dispatched = await w.dispatch(shipment.id);
    expect(dispatched.status).toBe(200);
    expect(dispatched.body.state).toBe('dispatched');
    expect((await custody(v.id)).body.vial.state).toBe('in_transit');

    // The clinic sees it now, scans the shipper, then the vial, and confirms, e-signed.
    const list = await api.request<{ id: string }[]>('GET', '/api/shipments', { token: w.clinicUser.token });
    expect(list.body.map((s) => s.id)).toContain(shipment.id);
    const opened = await w.scan(
      w.clinicUser.token,
      `]C1${formatElementString([{ ai: '00', value: shipper.sscc }])}`,
      'receipt',
    );
    expect(opened.status).toBe(200);
    expect(opened.body.receipt).toMatchObject({ shipmentId: shipment.id, state: 'receiving' });
    const found = await w.scan(w.clinicUser.token, raw, 'receipt', { shipmentId: shipment.id });
    expect(found.status).toBe(200);
    expect(found.body.receipt).toMatchObject({ line: 'received' });
    const confirmed = await w.confirm(shipment.id);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ expected: 1, scanned: 1, unexpected: 0 });
    expect((confirmed.body.shipment as { receiptResult: string }).receiptResult).toBe('complete');

    // At the bedside: the pre-check scan, then the dose, e-signed; the chain patient → donor is one query.
    const precheck = await w.scan(w.clinicUser.token, raw, 'dose');
    expect(precheck.status).toBe(200);
    expect(precheck.body).toMatchObject({ outcome: 'looked', reasons: [] });
    expect((await w.scan(w.otherClinicUser.token, raw, 'dose')).status).toBe(404);
    const patientRef = `P-${randomUUID().slice(0, 8)}`;
    const dose = await api.request<{ id: string }>('POST', '/api/doses', {
      token: w.clinicUser.token,
      body: {
        raw,
        patientRef,
        administeredAt: new Date().toISOString(),
        volumeMl: '2.5',
        route: 'intravenous',
        signature: { password: w.clinicUser.password },
      },
    });
    expect(dose.status).toBe(201);
    const again = await w.scan(w.clinicUser.token, raw, 'dose');
    expect(again.status).toBe(409);
    expect(again.body.reasons).toContain('VIAL_ALREADY_DISPENSED');
    const chain = await api.request<{ lots: { kind: string }[] }>(
      'GET',
      `/api/trace/backward?ref=${encodeURIComponent(`patient:${patientRef}`)}`,
      { token: w.clinicUser.token },
    );
    expect(chain.status).toBe(200);
    expect(chain.body.lots.map((l) => l.kind)).toEqual(
      expect.arrayContaining(['finished_lot', 'master_cell_bank', 'donor']),
    );

    const history = await custody(v.id, w.clinicUser.token);
    expect(history.status).toBe(200);
    expect(history.body.vial).toMatchObject({ state: 'dispensed', hold: null });
    expect(history.body.vial.holder.siteId).toBe(w.clinic.id);
    const steps = history.body.intervals;
    expect(steps.map((i) => i.step)).toEqual([
      'commission',
      'receive',
      'putaway',
      'move',
      'pick',
      'pack',
      'dispatch',
      'receipt',
    ]);
    // One place at any time: each interval ends where the next begins; only the last is open.
    for (let i = 1; i < steps.length; i++) expect(steps[i - 1]!.to).toBe(steps[i]!.from);
    // Dosed: the last interval is closed too; the vial is in no one's custody any more.
    expect(steps.filter((i) => i.to === null)).toHaveLength(0);
    expect(steps.map((i) => [i.siteId, i.locationId, i.containerId])).toEqual([
      [f.siteId, null, null],
      [w.depot.id, null, null],
      [w.depot.id, w.location.id, null],
      [w.depot.id, w.location2.id, null],
      [w.depot.id, null, null],
      [w.depot.id, null, shipper.id],
      [null, null, shipper.id],
      [w.clinic.id, null, null],
    ]);

    expect(await auditActions(v.id)).toEqual([
      'vial.commission',
      'vial.receive',
      'vial.putaway',
      'vial.move',
      'vial.pick',
      'vial.pack',
      'vial.dispatch',
      'vial.receipt',
      'vial.dispense',
      'scan.dose.refused',
    ]);
    expect(await auditActions(shipment.id)).toEqual(
      expect.arrayContaining([
        'shipment.create',
        'shipment.dispatch',
        'shipment.receipt_start',
        'receipt.scan.received',
        'shipment.receipt_confirm',
      ]),
    );

    const events = async (epc: string) => {
      const res = await api.request<QueryDoc>(
        'GET',
        `/api/epcis/events?${new URLSearchParams({ MATCH_anyEPC: epc, perPage: '100' }).toString()}`,
        {
          token: f.qaToken,
        },
      );
      expect(res.status).toBe(200);
      expect(epcisSchemaErrors(res.body)).toEqual([]);
      return res.body.epcisBody.queryResults.resultsBody.eventList;
    };
    const vialEvents = await events(sgtinUri(v.gtin, v.serial));
    expect(vialEvents.map((e) => `${e.type}:${e.bizStep}`)).toEqual(
      expect.arrayContaining([
        'ObjectEvent:commissioning',
        'ObjectEvent:receiving',
        'ObjectEvent:storing',
        'ObjectEvent:picking',
        'AggregationEvent:packing',
        'ObjectEvent:accepting',
        'ObjectEvent:dispensing',
      ]),
    );
    const shipperEvents = await events(ssccUri(shipper.sscc));
    expect(shipperEvents.map((e) => `${e.type}:${e.bizStep}`)).toEqual(
      expect.arrayContaining(['AggregationEvent:packing', 'ObjectEvent:shipping', 'ObjectEvent:receiving']),
    );
  });

  describe('idempotency', () => {
    it('answers a retried scan with the first answer and changes nothing more', async () => {
      const { lot, vials } = await releasedVials(f, 1);
      const v = vials[0]!;
      const key = randomUUID();
      const first = await w.scan(w.warehouse.token, scanOf(v, lot.code), 'receive', {}, key);
      const before = await snapshot(v.id);
      const again = await w.scan(w.warehouse.token, scanOf(v, lot.code), 'receive', {}, key);
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ ...first.body, replayed: true });
      expect(await snapshot(v.id)).toEqual(before);
    });

    it('has one effect when the same scan arrives several times at once', async () => {
      const { lot, vials } = await releasedVials(f, 1);
      const v = vials[0]!;
      const key = randomUUID();
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => w.scan(w.warehouse.token, scanOf(v, lot.code), 'receive', {}, key)),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
      expect(new Set(answers.map((a) => a.body.scanId)).size).toBe(1);
      expect(answers.filter((a) => !a.body.replayed)).toHaveLength(1);
      expect((await snapshot(v.id)).intervals).toEqual({ n: 2 });
      expect((await auditActions(v.id)).filter((a) => a === 'vial.receive')).toHaveLength(1);
    });

    it('moves many vials at once, each once, without a failure', async () => {
      const { lot, vials } = await releasedVials(f, 12);
      for (const v of vials) {
        await w.scan(w.warehouse.token, scanOf(v, lot.code), 'receive');
        await w.scan(w.warehouse.token, scanOf(v, lot.code), 'putaway', { locationId: w.location.id });
      }
      for (const target of [w.location2.id, w.location.id, w.location2.id]) {
        const answers = await Promise.all(
          vials.map((v) => w.scan(w.warehouse.token, scanOf(v, lot.code), 'move', { locationId: target })),
        );
        expect(answers.map((a) => `${a.status} ${a.body.code ?? a.body.outcome}`)).toEqual(
          Array(vials.length).fill('200 done'),
        );
      }
      for (const v of vials) expect((await snapshot(v.id)).intervals).toEqual({ n: 6 });
    });

    it('lets only one of two concurrent steps on one vial through, with different keys (fresh reads under lock)', async () => {
      for (let round = 0; round < 3; round++) {
        const { lot, vials } = await releasedVials(f, 1);
        const v = vials[0]!;
        const answers = await Promise.all(
          [0, 1].map(() => w.scan(w.warehouse.token, scanOf(v, lot.code), 'receive')),
        );
        expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
        expect(answers.find((a) => a.status === 409)!.body.reasons).toEqual(['VIAL_ALREADY_RECEIVED']);
        expect((await snapshot(v.id)).intervals).toEqual({ n: 2 });
      }
    });

    it('knows when its one-statement read waited for another change to the vial (stale), and when it did not', async () => {
      const { lot, vials } = await releasedVials(f, 1);
      const v = vials[0]!;
      const received = await w.scan(w.warehouse.token, scanOf(v, lot.code), 'receive');
      const [scanRow] = await db.query<{ user_id: string }[]>('SELECT user_id FROM scan WHERE id = $1', [
        received.body.scanId,
      ]);
      const userId = scanRow!.user_id;
      const custody = api.app.get(CustodyRepository);
      const claim = (key: string) => ({
        userId,
        idempotencyKey: key,
        requestHash: 'h',
        action: ScanAction.Move,
        raw: 'r',
        scannedAt: new Date(),
      });
      const at = { vial: { gtin: v.gtin, serial: v.serial }, siteId: w.depot.id, location: null };
      const read = (key: string) =>
        db
          .transaction(async (m) => {
            const result = await custody.claimScanAndLockVial(m, claim(key), at, { lockFirst: false });
            throw Object.assign(new Error('roll back'), { result });
          })
          .catch((error: { result?: { stale: boolean; found: unknown } }) => error.result!);

      expect((await read(randomUUID())).stale).toBe(false);
      // Another transaction changes the vial and holds its lock; the read starts, waits, then reads stale.
      const holder = db.createQueryRunner();
      await holder.startTransaction();
      try {
        await holder.query('UPDATE vial SET version = version + 1 WHERE id = $1', [v.id]);
        const waiting = read(randomUUID());
        await new Promise((resolve) => setTimeout(resolve, 300));
        await holder.commitTransaction();
        const result = await waiting;
        expect(result.stale).toBe(true);
        expect(result.found).not.toBeNull();
      } finally {
        await holder.release();
      }
    });

    it('refuses the same key for another scan', async () => {
      const { lot, vials } = await releasedVials(f, 2);
      const key = randomUUID();
      await w.scan(w.warehouse.token, scanOf(vials[0]!, lot.code), 'receive', {}, key);
      const other = await w.scan(w.warehouse.token, scanOf(vials[1]!, lot.code), 'receive', {}, key);
      expect(other.status).toBe(409);
      expect(other.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
      expect((await snapshot(vials[1]!.id)).intervals).toEqual({ n: 1 });
    });

    it('needs a key', async () => {
      const res = await api.request<{ code: string; errors?: unknown }>('POST', '/api/scans', {
        token: w.warehouse.token,
        body: { raw: ']d20109526000000001', action: 'lookup' },
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'idempotencyKey' });
    });
  });

  describe('scan input', () => {
    it('names the AI and the rule of a syntactically bad scan (422), and says 404 for a valid scan of nothing known', async () => {
      const { lot, vials } = await releasedVials(f, 1);
      const v = vials[0]!;
      const noSerial = await w.scan(
        w.warehouse.token,
        `]d2${formatElementString({ gtin: v.gtin, lot: lot.code, expiry: v.expiry })}`,
        'receive',
      );
      expect(noSerial.status).toBe(422);
      expect(noSerial.body).toMatchObject({ code: 'GS1_SERIAL_MISSING', ai: '21' });
      const badCheck = await w.scan(
        w.warehouse.token,
        `]d201${v.gtin.slice(0, 13)}${(Number(v.gtin[13]) + 1) % 10}21${v.serial}`,
        'receive',
      );
      expect(badCheck.status).toBe(422);
      expect(badCheck.body).toMatchObject({ code: 'GS1_CHECK_DIGIT', ai: '01' });
      const unknown = await w.scan(
        w.warehouse.token,
        `]d2${formatElementString({ gtin: v.gtin, serial: 'NOSUCHVIAL1' })}`,
        'receive',
      );
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ code: 'SCAN_UNKNOWN' });
      // Wedge substitutes for GS are accepted: '^' between the lot and the serial.
      const wedge = await w.scan(
        w.warehouse.token,
        `01${v.gtin}17${v.expiry.slice(2).replaceAll('-', '')}10${lot.code}^21${v.serial}`,
        'lookup',
      );
      expect(wedge.status).toBe(200);
      expect(wedge.body.subject.vial!.id).toBe(v.id);
      expect(await snapshot(v.id)).toMatchObject({ intervals: { n: 1 } });
    });
  });

  describe('gates: each refusal changes nothing and is audited', () => {
    const refused = async (
      v: TestVial,
      lotCode: string,
      action: string,
      context: Record<string, unknown>,
      reason: string,
    ) => {
      const before = await snapshot(v.id);
      const res = await w.scan(w.warehouse.token, scanOf(v, lotCode), action, context);
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ code: 'SCAN_REFUSED' });
      expect(res.body.reasons).toContain(reason);
      expect(await snapshot(v.id)).toEqual(before);
      expect(await auditActions(v.id)).toContain(`scan.${action}.refused`);
    };
    const inStock = async (n = 2) => {
      const r = await releasedVials(f, n);
      for (const v of r.vials) {
        expect((await w.scan(w.warehouse.token, scanOf(v, r.lot.code), 'receive')).status).toBe(200);
      }
      return r;
    };

    it('refuses to pick or pack a vial of an unreleased lot', async () => {
      const { other, otherVials } = await releasedVials(f, 1);
      const v = otherVials[0]!;
      expect((await w.scan(w.warehouse.token, scanOf(v, other.code), 'receive')).status).toBe(200); // quarantine storage is allowed
      await refused(v, other.code, 'pick', {}, 'VIAL_UNRELEASED');
      const shipper = await w.shipper();
      await refused(v, other.code, 'pack', { sscc: shipper.sscc }, 'VIAL_UNRELEASED');
    });

    it('refuses a rejected lot at receipt and pick', async () => {
      const c = await f.chain(1);
      // lot B's vial is received while its lot awaits QA (quarantine storage), then the lot is rejected.
      expect((await w.scan(w.warehouse.token, scanOf(c.vialsB[0]!, c.lotB.code), 'receive')).status).toBe(
        200,
      );
      await f.release(c.lotA, 'reject');
      await f.release(c.lotB, 'reject');
      await refused(c.vialsA[0]!, c.lotA.code, 'receive', {}, 'VIAL_REJECTED');
      await refused(c.vialsB[0]!, c.lotB.code, 'pick', {}, 'VIAL_REJECTED');
    });

    // A recalled vial at pick: custody-rules.spec.ts; through the API after a real recall: doses.int-spec.ts.
    it('refuses a quarantined, an expired and a spent-budget vial at pick', async () => {
      const { lot, vials } = await inStock(3);
      await rows(`UPDATE vial SET hold = 'quarantine', hold_reason = 'test' WHERE id = $1`, [vials[0]!.id]);
      await refused(vials[0]!, lot.code, 'pick', {}, 'VIAL_QUARANTINED');
      await rows(`UPDATE vial SET expiry = (now() - interval '2 days')::date WHERE id = $1`, [vials[1]!.id]);
      const expired = {
        ...vials[1]!,
        expiry: (
          await db.query<{ e: string }[]>('SELECT expiry AS e FROM vial WHERE id = $1', [vials[1]!.id])
        )[0]!.e,
      };
      await refused(expired, lot.code, 'pick', {}, 'VIAL_EXPIRED');
      await rows(`UPDATE product SET stability_budget_s = 3600 WHERE gtin = $1`, [vials[2]!.gtin]);
      await rows(`UPDATE vial SET exposure_out_of_range_s = 3601 WHERE id = $1`, [vials[2]!.id]);
      await refused(vials[2]!, lot.code, 'pick', {}, 'VIAL_STABILITY_BUDGET_EXCEEDED');
      await rows(`UPDATE product SET stability_budget_s = NULL WHERE gtin = $1`, [vials[2]!.gtin]);
    });

    it('refuses to pack a vial already shipped', async () => {
      const { lot, vials } = await inStock(2);
      const s1 = await w.shipper();
      await w.scan(w.warehouse.token, scanOf(vials[0]!, lot.code), 'pack', { sscc: s1.sscc });
      const shipment = await w.shipment([s1.id]);
      expect((await w.dispatch(shipment.id)).status).toBe(200);
      const s2 = await w.shipper();
      const before = await snapshot(vials[0]!.id);
      const res = await w.scan(w.warehouse.token, scanOf(vials[0]!, lot.code), 'pack', { sscc: s2.sscc });
      expect(res.status).toBe(409);
      expect(res.body.reasons).toContain('VIAL_ALREADY_SHIPPED');
      expect(await snapshot(vials[0]!.id)).toEqual(before);
    });

    it('refuses the whole dispatch when one vial is blocked, naming it; nothing leaves; the refusal is audited', async () => {
      const { lot, vials } = await inStock(2);
      const s = await w.shipper();
      for (const v of vials) await w.scan(w.warehouse.token, scanOf(v, lot.code), 'pack', { sscc: s.sscc });
      await rows(`UPDATE vial SET hold = 'quarantine', hold_reason = 'excursion' WHERE id = $1`, [
        vials[1]!.id,
      ]);
      const shipment = await w.shipment([s.id]);
      const before = await Promise.all(vials.map((v) => snapshot(v.id)));
      const res = await w.dispatch(shipment.id);
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({
        code: 'SHIPMENT_BLOCKED',
        blocked: [{ vialId: vials[1]!.id, reasons: ['VIAL_QUARANTINED'] }],
      });
      expect(await Promise.all(vials.map((v) => snapshot(v.id)))).toEqual(before);
      expect(await auditActions(shipment.id)).toContain('shipment.dispatch.refused');
      expect((await rows(`SELECT state FROM shipment WHERE id = $1`, [shipment.id]))[0]).toEqual({
        state: 'planned',
      });
    });

    it('refuses to dispatch a shipper without a temperature logger (EU GDP 9.2)', async () => {
      const { lot, vials } = await inStock(1);
      const s = await w.shipper();
      await w.scan(w.warehouse.token, scanOf(vials[0]!, lot.code), 'pack', { sscc: s.sscc });
      const shipment = await w.shipment([s.id], 48, { monitored: false });
      const res = await w.dispatch(shipment.id);
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ code: 'SHIPMENT_NO_LOGGER', shippers: [s.sscc] });
      expect(await snapshot(vials[0]!.id)).toMatchObject({ vial: { state: 'in_stock' } });
      await w.monitor(s.id);
      expect((await w.dispatch(shipment.id)).status).toBe(200);
    });

    it('refuses to ship a vial that would expire in transit (end of the expiry day in the clinic’s zone)', async () => {
      const { lot, vials } = await inStock(1);
      const v = vials[0]!;
      // Expires at the end of tomorrow (local); the shipment arrives in three days.
      await rows(`UPDATE vial SET expiry = (now() + interval '1 day')::date WHERE id = $1`, [v.id]);
      const expiry = (
        await db.query<{ e: string }[]>('SELECT expiry AS e FROM vial WHERE id = $1', [v.id])
      )[0]!.e;
      const s = await w.shipper();
      expect(
        (await w.scan(w.warehouse.token, scanOf({ ...v, expiry }, lot.code), 'pack', { sscc: s.sscc }))
          .status,
      ).toBe(200);
      const late = await w.shipment([s.id], 72);
      const res = await w.dispatch(late.id);
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ blocked: [{ vialId: v.id, reasons: ['VIAL_EXPIRES_IN_TRANSIT'] }] });
    });
  });

  describe('clinic receipt', () => {
    async function inTransit(n: number) {
      const { lot, vials } = await releasedVials(f, n);
      const s = await w.shipper();
      for (const v of vials) await w.stockAndPack(v, lot.code, s.sscc);
      const shipment = await w.shipment([s.id]);
      expect((await w.dispatch(shipment.id)).status).toBe(200);
      return { lot, vials, shipper: s, shipment };
    }
    const sscc = (s: string) => `]C1${formatElementString([{ ai: '00', value: s }])}`;

    it('records missing vials as under investigation with a QA task, unexpected ones not taken into stock', async () => {
      const { lot, vials, shipper, shipment } = await inTransit(2);
      const stray = await releasedVials(f, 1);
      await w.scan(w.clinicUser.token, sscc(shipper.sscc), 'receipt');
      await w.scan(w.clinicUser.token, scanOf(vials[0]!, lot.code), 'receipt', { shipmentId: shipment.id });
      const unexpected = await w.scan(
        w.clinicUser.token,
        scanOf(stray.vials[0]!, stray.lot.code),
        'receipt',
        { shipmentId: shipment.id },
      );
      expect(unexpected.status).toBe(200);
      expect(unexpected.body.reasons).toEqual(['VIAL_UNEXPECTED']);
      const res = await w.confirm(shipment.id);
      expect(res.status).toBe(200);
      expect((res.body.shipment as { receiptResult: string }).receiptResult).toBe('with_discrepancy');
      const missing = await rows(`SELECT state, hold, container_id FROM vial WHERE id = $1`, [vials[1]!.id]);
      expect(missing[0]).toEqual({
        state: 'in_transit',
        hold: 'under_investigation',
        container_id: shipper.id,
      });
      const tasks = await rows(`SELECT kind, state, details FROM qa_task WHERE shipment_id = $1`, [
        shipment.id,
      ]);
      expect(tasks).toEqual([
        {
          kind: 'missing_at_receipt',
          state: 'open',
          details: { missingVialIds: [vials[1]!.id], unexpectedVialIds: [stray.vials[0]!.id] },
        },
      ]);
      const strayNow = await rows(`SELECT state, holder_site_id FROM vial WHERE id = $1`, [
        stray.vials[0]!.id,
      ]);
      expect(strayNow[0]).toEqual({ state: 'in_stock', holder_site_id: f.siteId });
      // The missing vial passes no gate from now on.
      const qaLookup = await w.scan(f.qaToken, scanOf(vials[1]!, lot.code), 'lookup');
      expect(qaLookup.body.reasons).toContain('VIAL_UNDER_INVESTIGATION');
    });

    it('shows the transit logger’s readings, uploaded by a bridge, with the receipt', async () => {
      const { lot, vials } = await releasedVials(f, 1);
      const s = await w.shipper();
      await w.stockAndPack(vials[0]!, lot.code, s.sscc);
      const shipment = await w.shipment([s.id], 48, { monitored: false });
      const logger = await w.monitor(s.id);
      const dispatched = await w.dispatch(shipment.id);
      expect(dispatched.status).toBe(200);
      const token = (
        await api.app
          .get(BridgeCredentialService)
          .issue({ actor: { kind: 'system', name: 'test' } }, w.clinic.id, unique('bridge'))
      ).token;
      // Readings taken on the road, just after dispatch (a millisecond apart, so that all are past by now).
      const t0 = Date.parse(dispatched.body.dispatchedAt as string) + 1;
      const records = [4.1, 4.4, 9.2].map((temperatureC, i) => {
        const time = new Date(t0 + i).toISOString();
        return { seq: i + 1, deviceTime: time, time, skewMs: 0, temperatureC, flags: [] };
      });
      const upload = await api.request<{ accepted: number }>('POST', '/api/ingest/readings', {
        headers: { authorization: `Bearer ${token}` },
        body: {
          version: 1,
          batchId: randomUUID(),
          device: { protocol: 'lyotrace-native', serial: logger.serial, model: 'LT-1' },
          mission: '',
          live: false,
          records,
        },
      });
      expect(upload.status).toBe(200);
      expect(upload.body.accepted).toBe(3);
      const view = await api.request<{
        transit: { loggerId: string; count: number; minC: number; maxC: number }[];
      }>('GET', `/api/shipments/${shipment.id}/receipt`, { token: w.clinicUser.token });
      expect(view.status).toBe(200);
      expect(view.body.transit).toEqual([
        expect.objectContaining({ loggerId: logger.loggerId, count: 3, minC: 4.1, maxC: 9.2 }),
      ]);
    });

    it('receives into quarantine, not stock, while an excursion is open on the shipper', async () => {
      const { lot, vials, shipper, shipment } = await inTransit(1);
      await rows(
        `INSERT INTO excursion (container_id, started_at, state, severity) VALUES ($1, now() - interval '3 hours', 'open', 'critical')`,
        [shipper.id],
      );
      const view = await api.request<{ openExcursions: unknown[] }>(
        'GET',
        `/api/shipments/${shipment.id}/receipt`,
        { token: w.clinicUser.token },
      );
      expect(view.body.openExcursions).toHaveLength(1);
      await w.scan(w.clinicUser.token, sscc(shipper.sscc), 'receipt');
      await w.scan(w.clinicUser.token, scanOf(vials[0]!, lot.code), 'receipt', { shipmentId: shipment.id });
      expect((await w.confirm(shipment.id)).status).toBe(200);
      const v = await rows(`SELECT state, hold FROM vial WHERE id = $1`, [vials[0]!.id]);
      expect(v[0]).toEqual({ state: 'at_clinic', hold: 'quarantine' });
    });

    it('refuses to confirm before the shipper was scanned, and a wrong password', async () => {
      const { shipment, shipper } = await inTransit(1);
      expect((await w.confirm(shipment.id)).body).toMatchObject({ code: 'SHIPMENT_STATE' });
      await w.scan(w.clinicUser.token, sscc(shipper.sscc), 'receipt');
      const bad = await w.confirm(shipment.id, w.clinicUser.token, 'not-the-password');
      expect(bad.status).toBe(401);
      expect((await rows(`SELECT state FROM shipment WHERE id = $1`, [shipment.id]))[0]).toEqual({
        state: 'receiving',
      });
    });

    it('keeps every clinic to its own shipments, shippers and vials (404)', async () => {
      const { lot, vials, shipper, shipment } = await inTransit(1);
      const other = w.otherClinicUser.token;
      expect(
        (await api.request('GET', `/api/shipments/${shipment.id}/receipt`, { token: other })).status,
      ).toBe(404);
      expect((await api.request('GET', `/api/shippers/${shipper.id}`, { token: other })).status).toBe(404);
      expect(
        (await api.request<unknown[]>('GET', '/api/shipments', { token: other })).body,
      ).not.toContainEqual(expect.objectContaining({ id: shipment.id }));
      expect((await w.scan(other, sscc(shipper.sscc), 'receipt')).status).toBe(404);
      expect(
        (await w.scan(other, scanOf(vials[0]!, lot.code), 'receipt', { shipmentId: shipment.id })).status,
      ).toBe(404);
      expect((await w.confirm(shipment.id, other, 'whatever-password')).status).toBe(404);
      // Received at clinic A: clinic B can neither look the vial up nor read its custody.
      await w.scan(w.clinicUser.token, sscc(shipper.sscc), 'receipt');
      await w.scan(w.clinicUser.token, scanOf(vials[0]!, lot.code), 'receipt', { shipmentId: shipment.id });
      expect((await w.confirm(shipment.id)).status).toBe(200);
      expect((await w.scan(other, scanOf(vials[0]!, lot.code), 'lookup')).status).toBe(404);
      expect((await custody(vials[0]!.id, other)).status).toBe(404);
      expect((await custody(vials[0]!.id, w.clinicUser.token)).status).toBe(200);
    });
  });
});
