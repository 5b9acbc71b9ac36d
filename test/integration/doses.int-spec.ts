import { SiteKind } from '@lyotrace/contracts';
import { epcisDocument, formatElementString, type EpcisEvent } from '@lyotrace/domain';
import { RecallService } from '@lyotrace/services';
import type { DataSource } from 'typeorm';
import { ApiHarness } from '../support/api-harness.js';
import { type Clinic, CustodyFactory, type TestVial } from '../support/custody-factory.js';
import { openTestDataSource } from '../support/database.js';
import { epcisSchemaErrors } from '../support/epcis-validator.js';
import { makeSite } from '../support/factories.js';
import { GenealogyFactory } from '../support/genealogy-factory.js';

interface Dose {
  id: string;
  version: number;
  vial: { id: string; serial: string; lotCode: string };
  patient: { id: string; ref: string };
  site: { id: string; code: string };
  administeredAt: string;
  volumeMl: string;
  route: string;
  signatureId: string;
  corrections: {
    oldValues: Record<string, unknown>;
    newValues: Record<string, unknown>;
    reason: string;
    signatureId: string;
  }[];
}
interface Problem {
  code: string;
  reasons?: string[];
  field?: string;
}
interface TraceVial {
  id: string;
  state: string;
  holder: { siteId: string; siteCode: string; locationId: string | null; sscc: string | null };
  dose: { id: string; patientRef: string; site: { id: string } } | null;
}
interface Backward {
  ref: { type: string; doseId: string | null; patientId: string | null; lotId: string | null };
  patient: { ref: string; site: { id: string } } | null;
  doses: { id: string; vialId: string; patient: { ref: string }; site: { id: string } }[];
  vial: TraceVial | null;
  vials: TraceVial[];
  lots: { id: string; kind: string }[];
  edges: { from: string; to: string }[];
}
interface Forward {
  ref: { type: string };
  vials: { total: number; items: TraceVial[] };
}

const minutesAgo = (n: number): string => new Date(Date.now() - n * 60_000).toISOString();

describe('patient doses: every gate again at the bedside, signed, corrected never deleted, clinic-scoped', () => {
  let api: ApiHarness;
  let db: DataSource;
  let g: GenealogyFactory;
  let f: CustodyFactory;
  let clinicA: Clinic;
  let clinicB: Clinic;
  let depot: { id: string };

  beforeAll(async () => {
    api = await ApiHarness.start();
    db = await openTestDataSource();
    g = await GenealogyFactory.create(api);
    f = new CustodyFactory(api, g);
    clinicA = await f.clinic();
    clinicB = await f.clinic();
    depot = await makeSite(api.app, SiteKind.Warehouse);
  });
  afterAll(async () => {
    await api.close();
    await db.destroy();
  });

  const dose = (clinic: Clinic, raw: string, body: Record<string, unknown> = {}) =>
    api.request<Dose & Problem>('POST', '/api/doses', {
      token: clinic.token,
      body: {
        raw,
        patientRef: 'P-7F3A',
        administeredAt: minutesAgo(10),
        volumeMl: '2.5',
        route: 'intravenous',
        signature: { password: clinic.password },
        ...body,
      },
    });

  /** Everything a dose would change about a vial: a refusal must leave all of it as it was. */
  const footprint = async (vialId: string) => {
    const [vial] = await db.query<Record<string, unknown>[]>(
      `SELECT state, holder_site_id, location_id, container_id, hold, version FROM vial WHERE id = $1`,
      [vialId],
    );
    const intervals = await db.query<Record<string, unknown>[]>(
      `SELECT id, to_at FROM custody_interval WHERE vial_id = $1 ORDER BY from_at`,
      [vialId],
    );
    const [counts] = await db.query<{ doses: string; events: string; audits: string }[]>(
      `SELECT (SELECT count(*) FROM dose WHERE vial_id = $1) AS doses,
              (SELECT count(*) FROM epcis_event e JOIN vial v ON v.id = $1
                WHERE e.biz_step = 'dispensing' AND e.event::text LIKE '%' || v.serial || '%') AS events,
              (SELECT count(*) FROM audit_event WHERE entity_id = $2 AND action <> 'dose.refuse') AS audits`,
      [vialId, vialId],
    );
    return { vial, intervals, counts };
  };
  const refusalAudits = (vialId: string) =>
    db.query<{ new_values: { reasons: string[]; siteId: string } }[]>(
      `SELECT new_values FROM audit_event WHERE action = 'dose.refuse' AND entity_id = $1 ORDER BY occurred_at`,
      [vialId],
    );
  const atClinic = async (count: number, clinic = clinicA) => {
    const { vials, chain, spare } = await f.releasedVials(count);
    for (const v of vials) await f.receiveAtClinic(v.id, clinic.site.id);
    return { vials, chain, spare };
  };

  /** The vial's dose is refused with `reason`; nothing about it changed but a refusal audit. */
  async function expectRefused(clinic: Clinic, vial: TestVial, reason: string, raw = vial.scan) {
    const before = await footprint(vial.id);
    const audits = (await refusalAudits(vial.id)).length;
    const res = await dose(clinic, raw);
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('DOSE_REFUSED');
    expect(res.body.reasons).toContain(reason);
    expect(await footprint(vial.id)).toEqual(before);
    const after = await refusalAudits(vial.id);
    expect(after).toHaveLength(audits + 1);
    expect(after[after.length - 1]!.new_values).toMatchObject({
      reasons: res.body.reasons,
      siteId: clinic.site.id,
    });
    return res.body.reasons!;
  }

  describe('recording a dose', () => {
    let vials: TestVial[];
    let first: Dose;
    const administeredAt = minutesAgo(15);

    beforeAll(async () => {
      ({ vials } = await atClinic(2));
    });

    it('records it in one transaction: dose, patient, vial dispensed, custody closed, signature, audit, EPCIS', async () => {
      const res = await dose(clinicA, vials[0]!.scan, { administeredAt, volumeMl: 2.5 });
      expect(res.status).toBe(201);
      first = res.body;
      expect(first).toMatchObject({
        version: 1,
        vial: { id: vials[0]!.id, serial: vials[0]!.serial },
        patient: { ref: 'P-7F3A' },
        site: { id: clinicA.site.id },
        administeredAt,
        volumeMl: '2.500',
        route: 'intravenous',
        corrections: [],
      });

      const [vial] = await db.query<{ state: string; holder_site_id: string; location_id: string | null }[]>(
        'SELECT state, holder_site_id, location_id FROM vial WHERE id = $1',
        [vials[0]!.id],
      );
      expect(vial).toEqual({ state: 'dispensed', holder_site_id: clinicA.site.id, location_id: null });
      const intervals = await db.query<{ to_at: Date | null; site_id: string }[]>(
        'SELECT to_at, site_id FROM custody_interval WHERE vial_id = $1 ORDER BY from_at',
        [vials[0]!.id],
      );
      // The vial left custody at the time it was given: no interval is open any more.
      expect(intervals.every((i) => i.to_at !== null)).toBe(true);
      expect(intervals[intervals.length - 1]).toEqual({
        to_at: new Date(administeredAt),
        site_id: clinicA.site.id,
      });

      const [signature] = await db.query<{ meaning: string; entity_type: string; entity_version: number }[]>(
        'SELECT meaning, entity_type, entity_version FROM electronic_signature WHERE id = $1',
        [first.signatureId],
      );
      expect(signature).toEqual({ meaning: 'responsibility', entity_type: 'dose', entity_version: 1 });
      const actions = await db.query<{ action: string; entity_id: string }[]>(
        `SELECT action, entity_id FROM audit_event WHERE entity_id IN ($1, $2) ORDER BY lane_seq`,
        [first.id, vials[0]!.id],
      );
      expect(actions.map((a) => a.action)).toEqual(
        expect.arrayContaining(['signature.apply', 'dose.record', 'vial.dispense']),
      );

      const events = await db.query<{ event: EpcisEvent }[]>(
        `SELECT event FROM epcis_event WHERE biz_step = 'dispensing' AND event->>'lyo:doseRef' = $1`,
        [`urn:uuid:${first.id}`],
      );
      expect(events).toHaveLength(1);
      const event = events[0]!.event;
      expect(event).toMatchObject({
        type: 'ObjectEvent',
        disposition: 'dispensed',
        'lyo:patientRef': `https://lyotrace.dev/epcis/patient/${clinicA.site.id}/P-7F3A`,
      });
      expect(epcisSchemaErrors(epcisDocument([event], new Date()))).toEqual([]);
    });

    it('knows the patient again at this clinic (one patient, two doses), and lists them', async () => {
      const second = await dose(clinicA, vials[1]!.scan, { route: 'subcutaneous', volumeMl: '1' });
      expect(second.status).toBe(201);
      expect(second.body.patient.id).toBe(first.patient.id);
      const list = await api.request<Dose[]>('GET', '/api/doses?patientRef=P-7F3A', { token: clinicA.token });
      expect(list.status).toBe(200);
      expect(list.body.map((d) => d.id).sort()).toEqual([first.id, second.body.id].sort());
      const one = await api.request<Dose>('GET', `/api/doses/${first.id}`, { token: clinicA.token });
      expect(one.body).toMatchObject({ id: first.id, patient: { ref: 'P-7F3A' } });
    });

    it('refuses a second dose of a vial (single use), changing nothing', async () => {
      const reasons = await expectRefused(clinicA, vials[0]!, 'VIAL_ALREADY_DOSED');
      expect(reasons).toContain('VIAL_ALREADY_DISPENSED');
    });
  });

  describe('every gate, checked again at the bedside', () => {
    let vials: TestVial[];
    let pending: TestVial;
    let rejected: TestVial;

    beforeAll(async () => {
      const released = await atClinic(8);
      vials = released.vials;
      const other = await f.releasedVials(1);
      pending = other.spare[0]!; // the sister lot, never released
      await f.receiveAtClinic(pending.id, clinicA.site.id);
      const third = await f.releasedVials(1);
      expect((await g.release(third.chain.lotB, 'reject')).status).toBe(200);
      rejected = third.spare[0]!;
      await f.receiveAtClinic(rejected.id, clinicA.site.id);
    });

    it('refuses an unreleased lot', () => expectRefused(clinicA, pending, 'VIAL_UNRELEASED'));
    it('refuses a rejected lot', () => expectRefused(clinicA, rejected, 'VIAL_REJECTED'));

    it('refuses a quarantined vial and one under investigation', async () => {
      await db.query(`UPDATE vial SET hold = 'quarantine' WHERE id = $1`, [vials[0]!.id]);
      await expectRefused(clinicA, vials[0]!, 'VIAL_QUARANTINED');
      await db.query(`UPDATE vial SET hold = 'under_investigation' WHERE id = $1`, [vials[1]!.id]);
      await expectRefused(clinicA, vials[1]!, 'VIAL_UNDER_INVESTIGATION');
    });

    it('refuses a vial whose stability budget is spent', async () => {
      await db.query(
        `UPDATE product SET stability_budget_s = 3600 WHERE id = (SELECT product_id FROM lot WHERE id = $1)`,
        [vials[2]!.lotId],
      );
      await db.query(`UPDATE vial SET exposure_out_of_range_s = 3601 WHERE id = $1`, [vials[2]!.id]);
      await expectRefused(clinicA, vials[2]!, 'VIAL_STABILITY_BUDGET_EXCEEDED');
    });

    it('refuses an expired vial (end of the expiry day in the clinic’s zone)', async () => {
      await db.query(`UPDATE vial SET expiry = '2024-01-31' WHERE id = $1`, [vials[3]!.id]);
      const raw = formatElementString({ gtin: vials[3]!.gtin, serial: vials[3]!.serial });
      await expectRefused(clinicA, vials[3]!, 'VIAL_EXPIRED', raw);
    });

    it('refuses a destroyed vial', async () => {
      await db.query(`UPDATE vial SET state = 'destroyed' WHERE id = $1`, [vials[4]!.id]);
      await expectRefused(clinicA, vials[4]!, 'VIAL_DESTROYED');
    });

    it('refuses a vial not yet received (still in transit to the clinic)', async () => {
      const { vials: road } = await f.releasedVials(1);
      await f.inTransit(road[0]!.id);
      const reasons = await expectRefused(clinicA, road[0]!, 'VIAL_NOT_RECEIVED');
      expect(reasons).toContain('VIAL_NOT_AT_THIS_CLINIC');
      await db.query(`UPDATE vial SET state = 'in_transit' WHERE id = $1`, [vials[5]!.id]);
      expect(await expectRefused(clinicA, vials[5]!, 'VIAL_NOT_RECEIVED')).toEqual(['VIAL_NOT_RECEIVED']);
    });

    it('refuses a vial that is not at this clinic (a depot’s stock)', async () => {
      await f.receiveAtClinic(vials[6]!.id, depot.id);
      await db.query(`UPDATE vial SET state = 'in_stock' WHERE id = $1`, [vials[6]!.id]);
      await expectRefused(clinicA, vials[6]!, 'VIAL_NOT_AT_THIS_CLINIC');
    });

    it('refuses a scanned label that is not the vial on record', async () => {
      const raw = formatElementString(
        { gtin: vials[7]!.gtin, lot: 'WRONG-LOT', serial: vials[7]!.serial, expiry: vials[7]!.expiry },
        { symbology: ']d2' },
      );
      await expectRefused(clinicA, vials[7]!, 'VIAL_LABEL_MISMATCH', raw);
    });

    it('refuses a recalled vial', async () => {
      const { vials: recalled, chain } = await atClinic(1);
      const opened = await api.request<{ id: string }>('POST', '/api/recalls', {
        token: g.qaToken,
        body: { ref: chain.lotA.code, reason: 'sterility failure', password: g.qaPassword },
      });
      expect(opened.status).toBe(201);
      await api.app.get(RecallService).propagate(opened.body.id);
      await expectRefused(clinicA, recalled[0]!, 'VIAL_RECALLED');
    });
  });

  describe('bad input: a clear error naming the field, nothing written', () => {
    let vial: TestVial;
    beforeAll(async () => {
      vial = (await atClinic(1)).vials[0]!;
    });
    const unchanged = async (run: () => Promise<void>) => {
      const before = await footprint(vial.id);
      const patients = await db.query<{ n: string }[]>('SELECT count(*) AS n FROM patient');
      await run();
      expect(await footprint(vial.id)).toEqual(before);
      expect(await refusalAudits(vial.id)).toEqual([]);
      expect(await db.query('SELECT count(*) AS n FROM patient')).toEqual(patients);
    };

    it('refuses a scan without (21) as GS1_SERIAL_MISSING', () =>
      unchanged(async () => {
        const raw = formatElementString({ gtin: vial.gtin, lot: vial.lotCode }, { symbology: ']d2' });
        const res = await dose(clinicA, raw);
        expect(res.status).toBe(422);
        expect(res.body).toMatchObject({ code: 'GS1_SERIAL_MISSING', ai: '21' });
      }));

    it.each([
      ['a name', 'Mario Rossi'],
      ['a birth date', 'P-1984-03-07'],
      ['a compact birth date', 'ROSSI19840307'],
    ])('refuses a patient ref that holds %s (422 PATIENT_REF_INVALID)', (_what, patientRef) =>
      unchanged(async () => {
        const res = await dose(clinicA, vial.scan, { patientRef });
        expect(res.status).toBe(422);
        expect(res.body).toMatchObject({ code: 'PATIENT_REF_INVALID', field: 'patientRef' });
      }),
    );

    it('refuses a time of administration in the future or before the vial was received', () =>
      unchanged(async () => {
        const future = await dose(clinicA, vial.scan, {
          administeredAt: new Date(Date.now() + 3_600_000).toISOString(),
        });
        expect(future.body).toMatchObject({ code: 'DOSE_TIME_INVALID', field: 'administeredAt' });
        const early = await dose(clinicA, vial.scan, { administeredAt: minutesAgo(24 * 60) });
        expect(early.status).toBe(422);
        expect(early.body).toMatchObject({ code: 'DOSE_TIME_INVALID', field: 'administeredAt' });
      }));

    it('refuses a zero volume, an unknown route and unknown fields (400, naming them)', () =>
      unchanged(async () => {
        const res = await dose(clinicA, vial.scan, { volumeMl: '0', route: 'oral-ish', patientName: 'x' });
        expect(res.status).toBe(400);
        const fields = (res.body as unknown as { errors: { field: string }[] }).errors.map((e) => e.field);
        expect(fields).toEqual(expect.arrayContaining(['volumeMl', 'route', 'patientName']));
      }));

    it('refuses a wrong password: nothing signed, nothing recorded', () =>
      unchanged(async () => {
        const res = await dose(clinicA, vial.scan, { signature: { password: 'not-my-password' } });
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('SIGNATURE_INVALID_PASSWORD');
      }));

    it('answers 404 SCAN_UNKNOWN for an unknown vial and for another clinic’s vial alike (never revealing it), as the pre-check scan does', async () => {
      const unknown = formatElementString({ gtin: vial.gtin, serial: 'NOSUCHVIAL1' }, { symbology: ']d2' });
      const none = await dose(clinicA, unknown);
      expect(none.status).toBe(404);
      expect(none.body).toMatchObject({ code: 'SCAN_UNKNOWN', field: 'raw', ai: '21' });
      await unchanged(async () => {
        const res = await dose(clinicB, vial.scan);
        expect(res.status).toBe(404);
        // The same answer as for a vial nobody knows (the text and request ids aside): nothing tells clinic B
        // the vial exists.
        const shape = (body: object): Record<string, unknown> =>
          Object.fromEntries(
            Object.entries(body).filter(([key]) => !['detail', 'instance', 'requestId'].includes(key)),
          );
        expect(shape(res.body)).toEqual(shape(none.body));
      });
    });

    it('lets only clinic staff record doses', async () => {
      const res = await api.request('POST', '/api/doses', {
        token: g.qaToken,
        body: {
          raw: vial.scan,
          patientRef: 'P-7F3A',
          administeredAt: minutesAgo(5),
          volumeMl: '1',
          route: 'intravenous',
          signature: { password: g.qaPassword },
        },
      });
      expect(res.status).toBe(403);
    });
  });

  it('lets one of two simultaneous doses of a vial win; the other is refused and audited', async () => {
    const { vials } = await atClinic(1);
    const results = await Promise.all([
      dose(clinicA, vials[0]!.scan, { patientRef: 'P-RACE-1' }),
      dose(clinicA, vials[0]!.scan, { patientRef: 'P-RACE-2' }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const loser = results.find((r) => r.status === 409)!;
    expect(loser.body.code).toBe('DOSE_REFUSED');
    expect(loser.body.reasons).toEqual(expect.arrayContaining(['VIAL_ALREADY_DOSED']));
    const rows = await db.query<{ n: string }[]>('SELECT count(*) AS n FROM dose WHERE vial_id = $1', [
      vials[0]!.id,
    ]);
    expect(Number(rows[0]!.n)).toBe(1);
    expect(await refusalAudits(vials[0]!.id)).toHaveLength(1);
  });

  describe('corrections: old and new values kept, signed, never deleted', () => {
    let vial: TestVial;
    let recorded: Dose;
    const correct = (clinic: Clinic, id: string, body: Record<string, unknown>) =>
      api.request<Dose & Problem>('POST', `/api/doses/${id}/corrections`, {
        token: clinic.token,
        body: { signature: { password: clinic.password }, ...body },
      });

    beforeAll(async () => {
      vial = (await atClinic(1)).vials[0]!;
      const res = await dose(clinicA, vial.scan, { patientRef: 'P-CORR-1', administeredAt: minutesAgo(30) });
      expect(res.status).toBe(201);
      recorded = res.body;
    });

    it('corrects patient and volume with a reason: version 2, the old values kept, EPCIS error declaration', async () => {
      const res = await correct(clinicA, recorded.id, {
        changes: { patientRef: 'P-CORR-2', volumeMl: '2.0', route: 'intravenous' },
        reason: 'wrong wristband scanned; volume misread',
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ version: 2, patient: { ref: 'P-CORR-2' }, volumeMl: '2.000' });
      expect(res.body.corrections).toEqual([
        expect.objectContaining({
          oldValues: { patientRef: 'P-CORR-1', volumeMl: '2.500' },
          newValues: { patientRef: 'P-CORR-2', volumeMl: '2.0' },
          reason: 'wrong wristband scanned; volume misread',
        }),
      ]);
      const [row] = await db.query<{ old_values: unknown; reason: string }[]>(
        'SELECT old_values, reason FROM dose_correction WHERE dose_id = $1',
        [recorded.id],
      );
      expect(row).toEqual({
        old_values: { patientRef: 'P-CORR-1', volumeMl: '2.500' },
        reason: 'wrong wristband scanned; volume misread',
      });
      const audits = await db.query<{ old_values: Record<string, unknown>; reason: string }[]>(
        `SELECT old_values, reason FROM audit_event WHERE action = 'dose.correct' AND entity_id = $1`,
        [recorded.id],
      );
      expect(audits).toEqual([
        {
          old_values: { patientRef: 'P-CORR-1', volumeMl: '2.500', version: 1 },
          reason: 'wrong wristband scanned; volume misread',
        },
      ]);

      const events = await db.query<
        { event: EpcisEvent & { errorDeclaration?: { correctiveEventIDs: string[] } } }[]
      >(
        `SELECT event FROM epcis_event WHERE biz_step = 'dispensing' AND event->>'lyo:doseRef' = $1 ORDER BY id`,
        [`urn:uuid:${recorded.id}`],
      );
      const [original, declaration, corrective] = events.map((e) => e.event);
      expect(events).toHaveLength(3);
      expect(declaration!.eventID).toBe(original!.eventID);
      expect(declaration!.errorDeclaration!.correctiveEventIDs).toEqual([corrective!.eventID]);
      expect(corrective!['lyo:patientRef']).toMatch(/\/P-CORR-2$/);
      expect(epcisSchemaErrors(epcisDocument([original!, declaration!, corrective!], new Date()))).toEqual(
        [],
      );
    });

    it('moves the end of custody with a corrected time of administration, never before receipt', async () => {
      const at = minutesAgo(40);
      const res = await correct(clinicA, recorded.id, {
        changes: { administeredAt: at },
        reason: 'time taken from the infusion pump log',
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ version: 3, administeredAt: at });
      const [last] = await db.query<{ to_at: Date }[]>(
        'SELECT to_at FROM custody_interval WHERE vial_id = $1 ORDER BY from_at DESC LIMIT 1',
        [vial.id],
      );
      expect(last!.to_at).toEqual(new Date(at));
      const early = await correct(clinicA, recorded.id, {
        changes: { administeredAt: minutesAgo(600) },
        reason: 'x',
      });
      expect(early.body).toMatchObject({ code: 'DOSE_TIME_INVALID', field: 'changes.administeredAt' });
    });

    it('refuses a correction without a reason or without a change', async () => {
      const noReason = await correct(clinicA, recorded.id, { changes: { volumeMl: '1.5' } });
      expect(noReason.status).toBe(400);
      expect(noReason.body).toMatchObject({ errors: [expect.objectContaining({ field: 'reason' })] });
      const same = await correct(clinicA, recorded.id, {
        changes: { route: 'intravenous' },
        reason: 'no-op',
      });
      expect(same.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'changes' });
      const badRef = await correct(clinicA, recorded.id, {
        changes: { patientRef: 'Anna Bianchi' },
        reason: 'x',
      });
      expect(badRef.body).toMatchObject({ code: 'PATIENT_REF_INVALID', field: 'changes.patientRef' });
      expect(
        (await api.request<Dose>('GET', `/api/doses/${recorded.id}`, { token: clinicA.token })).body.version,
      ).toBe(3);
    });

    it('never deletes a dose or a correction, through the API or the database', async () => {
      const res = await api.request('DELETE', `/api/doses/${recorded.id}`, { token: clinicA.token });
      expect([404, 405]).toContain(res.status);
      await expect(db.query('DELETE FROM dose WHERE id = $1', [recorded.id])).rejects.toThrow(/append-only/);
      await expect(db.query('DELETE FROM dose_correction WHERE dose_id = $1', [recorded.id])).rejects.toThrow(
        /append-only/,
      );
      await expect(db.query('DELETE FROM patient WHERE id = $1', [recorded.patient.id])).rejects.toThrow(
        /append-only/,
      );
    });
  });

  describe('trace: patient → dose → vial → lot → … → donor, and forward to the patients', () => {
    let vials: TestVial[];
    let chain: Awaited<ReturnType<CustodyFactory['releasedVials']>>['chain'];
    let doses: Dose[];
    const trace = <T>(token: string, kind: 'backward' | 'forward', ref: string) =>
      api.request<T & Problem>('GET', `/api/trace/${kind}?ref=${encodeURIComponent(ref)}`, { token });

    beforeAll(async () => {
      ({ vials, chain } = await atClinic(3));
      doses = [];
      for (const v of vials.slice(0, 2)) {
        const res = await dose(clinicA, v.scan, { patientRef: 'P-TRACE-1' });
        expect(res.status).toBe(201);
        doses.push(res.body);
      }
    });

    it('traces back from a dose to the donor in one answer: patient, dose, vial, every lot and step', async () => {
      const res = await trace<Backward>(g.qaToken, 'backward', doses[0]!.id);
      expect(res.status).toBe(200);
      expect(res.body.ref).toMatchObject({ type: 'dose', doseId: doses[0]!.id, lotId: chain.lotA.id });
      expect(res.body.patient).toMatchObject({ ref: 'P-TRACE-1', site: { id: clinicA.site.id } });
      expect(res.body.doses.map((d) => d.id)).toEqual([doses[0]!.id]);
      expect(res.body.vial).toMatchObject({
        id: vials[0]!.id,
        state: 'dispensed',
        dose: { id: doses[0]!.id },
      });
      const fromVial = await trace<Backward>(g.qaToken, 'backward', vials[0]!.id);
      expect(res.body.lots.map((l) => l.id).sort()).toEqual(fromVial.body.lots.map((l) => l.id).sort());
      expect(res.body.edges).toHaveLength(fromVial.body.edges.length);
      expect(res.body.lots.map((l) => l.kind)).toEqual(
        expect.arrayContaining(['donor', 'master_cell_bank', 'finished_lot']),
      );
    });

    it('traces back from a patient (patient:<ref> at the clinic, patient:<SITE>/<ref> for QA)', async () => {
      const mine = await trace<Backward>(clinicA.token, 'backward', 'patient:P-TRACE-1');
      expect(mine.status).toBe(200);
      expect(mine.body.ref.type).toBe('patient');
      expect(mine.body.doses.map((d) => d.id).sort()).toEqual(doses.map((d) => d.id).sort());
      expect(mine.body.vials.map((v) => v.id).sort()).toEqual([vials[0]!.id, vials[1]!.id].sort());
      expect(mine.body.lots.map((l) => l.id)).toContain(chain.donor.id);
      const qa = await trace<Backward>(g.qaToken, 'backward', `patient:${clinicA.site.code}/P-TRACE-1`);
      expect(qa.body.doses).toHaveLength(2);
      expect((await trace(g.qaToken, 'backward', 'patient:P-TRACE-1')).status).toBe(404);
    });

    it('lists, per vial forward, its holder and, once dispensed, the dose and pseudonymous patient', async () => {
      const res = await trace<Forward>(g.qaToken, 'forward', chain.lotA.code);
      expect(res.status).toBe(200);
      const byId = new Map(res.body.vials.items.map((v) => [v.id, v]));
      expect(byId.get(vials[0]!.id)).toMatchObject({
        state: 'dispensed',
        holder: { siteId: clinicA.site.id, siteCode: clinicA.site.code, locationId: null, sscc: null },
        dose: { id: doses[0]!.id, patientRef: 'P-TRACE-1', site: { id: clinicA.site.id } },
      });
      expect(byId.get(vials[2]!.id)).toMatchObject({ state: 'at_clinic', dose: null });
      const patient = await trace<Forward>(clinicA.token, 'forward', 'patient:P-TRACE-1');
      expect(patient.body.vials.items.map((v) => v.id).sort()).toEqual([vials[0]!.id, vials[1]!.id].sort());
    });

    it('answers 404 to another clinic on every dose and trace route, and to a clinic asking for a lot', async () => {
      const b = clinicB.token;
      const id = doses[0]!.id;
      expect((await api.request('GET', `/api/doses/${id}`, { token: b })).status).toBe(404);
      const corr = await api.request('POST', `/api/doses/${id}/corrections`, {
        token: b,
        body: { changes: { volumeMl: '1' }, reason: 'x', signature: { password: clinicB.password } },
      });
      expect(corr.status).toBe(404);
      expect(
        (await api.request<Dose[]>('GET', '/api/doses?patientRef=P-TRACE-1', { token: b })).body,
      ).toEqual([]);
      for (const ref of [
        id,
        'patient:P-TRACE-1',
        `patient:${clinicA.site.code}/P-TRACE-1`,
        vials[0]!.id,
        vials[0]!.scan,
        chain.lotA.code,
        chain.donor.id,
      ]) {
        for (const kind of ['backward', 'forward'] as const) {
          const res = await trace(b, kind, ref);
          expect({ ref, kind, status: res.status }).toEqual({ ref, kind, status: 404 });
        }
      }
      // Clinic A itself may not walk a lot: a clinic traces its own vials, doses and patients only.
      expect((await trace(clinicA.token, 'forward', chain.lotA.code)).status).toBe(404);
      expect((await trace(clinicA.token, 'backward', vials[2]!.id)).status).toBe(200);
    });
  });

  describe('recall and reconciliation with doses', () => {
    it('lists the patients already dosed, per clinic, each clinic seeing its own', async () => {
      const { vials, chain } = await f.releasedVials(4);
      await f.receiveAtClinic(vials[0]!.id, clinicA.site.id);
      await f.receiveAtClinic(vials[1]!.id, clinicA.site.id);
      await f.receiveAtClinic(vials[2]!.id, clinicB.site.id);
      expect((await dose(clinicA, vials[0]!.scan, { patientRef: 'P-RECALL-A' })).status).toBe(201);
      expect((await dose(clinicB, vials[2]!.scan, { patientRef: 'P-RECALL-B' })).status).toBe(201);
      await db.query(`UPDATE vial SET hold = 'under_investigation' WHERE id = $1`, [vials[3]!.id]);

      const recon = await api.request<Record<string, number>>(
        'GET',
        `/api/lots/${chain.lotA.id}/reconciliation`,
        {
          token: g.qaToken,
        },
      );
      expect(recon.body).toEqual({
        commissioned: 4,
        in_stock: 1,
        in_transit: 0,
        at_clinic: 1,
        dispensed: 2,
        destroyed: 0,
        sample: 0,
        quarantine: 0,
        under_investigation: 1,
        unaccounted: 1,
      });

      const opened = await api.request<{ id: string }>('POST', '/api/recalls', {
        token: g.qaToken,
        body: { ref: chain.lotA.code, reason: 'endotoxin out of specification', password: g.qaPassword },
      });
      expect(opened.status).toBe(201);
      await api.app.get(RecallService).propagate(opened.body.id);

      type Patients = { clinic: { id: string }; patients: { patientRef: string; vial: { id: string } }[] }[];
      const all = await api.request<Patients>('GET', `/api/recalls/${opened.body.id}/patients`, {
        token: g.qaToken,
      });
      expect(all.status).toBe(200);
      expect(
        all.body.map((c) => [c.clinic.id, c.patients.map((p) => [p.patientRef, p.vial.id])]).sort(),
      ).toEqual(
        [
          [clinicA.site.id, [['P-RECALL-A', vials[0]!.id]]],
          [clinicB.site.id, [['P-RECALL-B', vials[2]!.id]]],
        ].sort(),
      );
      const mine = await api.request<Patients>('GET', `/api/recalls/${opened.body.id}/patients`, {
        token: clinicA.token,
      });
      expect(mine.body.map((c) => c.clinic.id)).toEqual([clinicA.site.id]);
      const items = await api.request<
        { vialId: string; finalState: string | null; dose: unknown; action: string | null }[]
      >('GET', `/api/recalls/${opened.body.id}/items`, { token: clinicA.token });
      expect(items.body.find((i) => i.vialId === vials[0]!.id)).toMatchObject({
        finalState: 'dispensed',
        dose: { patientRef: 'P-RECALL-A' },
      });
      expect(items.body.find((i) => i.vialId === vials[1]!.id)).toMatchObject({
        finalState: null,
        dose: null,
      });
    });
  });
});
