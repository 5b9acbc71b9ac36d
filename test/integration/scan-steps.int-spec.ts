import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { ApiHarness } from '../support/api-harness.js';
import {
  closeCustodySuite,
  type CustodyWorld,
  openCustodySuite,
  releasedVials,
  scanOf,
  type ScanBody,
} from '../support/custody-journey.js';
import type { GenealogyFactory } from '../support/genealogy-factory.js';

/**
 * A custody step scan takes two statements besides BEGIN and COMMIT: the key's claim with the vial under lock,
 * and the writes riding with the audit event. Its answer is built from what it wrote, never read back: these
 * tests hold it against a fresh read, and check that what is refused before the database writes nothing.
 */
describe('scan steps: answers and claims', () => {
  let api: ApiHarness;
  let db: DataSource;
  let f: GenealogyFactory;
  let w: CustodyWorld;

  beforeAll(async () => {
    ({ api, db, f, w } = await openCustodySuite());
  });
  afterAll(() => closeCustodySuite({ api, db }));

  const storedScans = async (key: string) =>
    (
      await db.query<{ n: number }[]>('SELECT count(*)::int AS n FROM scan WHERE idempotency_key = $1', [key])
    )[0]!.n;

  it('answers each accepted step with the vial as a fresh read shows it', async () => {
    const { lot, vials } = await releasedVials(f, 1);
    const raw = scanOf(vials[0]!, lot.code);
    const shipper = await w.shipper();
    const steps: [string, Record<string, unknown>][] = [
      ['receive', {}],
      ['putaway', { locationCode: w.location.code }],
      ['move', { locationId: w.location2.id }],
      ['pick', {}],
      ['pack', { sscc: shipper.sscc }],
      ['unpack', {}],
      ['putaway', { locationId: w.location.id }],
    ];
    for (const [action, context] of steps) {
      const done = await w.scan(w.warehouse.token, raw, action, context);
      expect(`${action} ${done.status} ${done.body.outcome}`).toBe(`${action} 200 done`);
      const fresh = await w.scan(w.warehouse.token, raw, 'lookup');
      expect(fresh.status).toBe(200);
      expect(done.body.subject).toEqual(fresh.body.subject);
    }
    const last = await w.scan(w.warehouse.token, raw, 'lookup');
    expect(last.body.subject.vial!.holder).toMatchObject({
      siteId: w.depot.id,
      locationId: w.location.id,
      locationCode: w.location.code,
      containerId: null,
      sscc: null,
    });
  });

  it('replays a step after the vial moved on: the first answer, nothing written again', async () => {
    const { lot, vials } = await releasedVials(f, 1);
    const raw = scanOf(vials[0]!, lot.code);
    await w.scan(w.warehouse.token, raw, 'receive');
    await w.scan(w.warehouse.token, raw, 'putaway', { locationId: w.location.id });
    const key = randomUUID();
    const first = await w.scan(w.warehouse.token, raw, 'move', { locationId: w.location2.id }, key);
    expect(first.body.outcome).toBe('done');
    await w.scan(w.warehouse.token, raw, 'move', { locationId: w.location.id });
    const again = await w.scan(w.warehouse.token, raw, 'move', { locationId: w.location2.id }, key);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...first.body, replayed: true });
    const moves = await db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM custody_interval WHERE vial_id = $1 AND step = 'move'`,
      [vials[0]!.id],
    );
    expect(moves[0]!.n).toBe(2);
  });

  it('stores a refused step with its answer, once', async () => {
    const { lot, vials } = await releasedVials(f, 1);
    const raw = scanOf(vials[0]!, lot.code);
    await w.scan(w.warehouse.token, raw, 'receive');
    await w.scan(w.warehouse.token, raw, 'putaway', { locationId: w.location.id });
    const key = randomUUID();
    const refused = await w.scan(w.warehouse.token, raw, 'move', { locationId: w.location.id }, key);
    expect(refused.status).toBe(409);
    expect(refused.body.reasons).toEqual(['VIAL_ALREADY_THERE']);
    const [stored] = await db.query<{ outcome: string; answer: ScanBody }[]>(
      'SELECT outcome, answer FROM scan WHERE idempotency_key = $1',
      [key],
    );
    expect(stored).toMatchObject({ outcome: 'refused', answer: { reasons: ['VIAL_ALREADY_THERE'] } });
  });

  it('writes nothing, not even the claim, for a step it cannot apply', async () => {
    const { lot, vials } = await releasedVials(f, 1);
    const raw = scanOf(vials[0]!, lot.code);
    await w.scan(w.warehouse.token, raw, 'receive');
    const cases: [string, Record<string, unknown>, number, string][] = [
      ['putaway', { locationId: randomUUID() }, 404, 'context.locationId'],
      ['putaway', { locationCode: 'NO-SUCH-PLACE' }, 404, 'context.locationCode'],
      ['putaway', {}, 422, 'context.locationId'],
      ['move', { siteId: w.clinic.id, locationId: w.location.id }, 403, 'context.siteId'],
    ];
    for (const [action, context, status, field] of cases) {
      const key = randomUUID();
      const res = await w.scan(w.warehouse.token, raw, action, context, key);
      expect(`${action} ${JSON.stringify(context)} → ${res.status} ${String(res.body.field)}`).toBe(
        `${action} ${JSON.stringify(context)} → ${status} ${field}`,
      );
      expect(await storedScans(key)).toBe(0);
    }
    const key = randomUUID();
    const unknown = await w.scan(
      w.warehouse.token,
      scanOf({ ...vials[0]!, serial: 'NO-SUCH-VIAL' }, lot.code),
      'receive',
      {},
      key,
    );
    expect(unknown.status).toBe(404);
    expect(await storedScans(key)).toBe(0);
  });
});
