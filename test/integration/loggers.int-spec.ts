import { LoggerProtocol, Role, SiteKind } from '@lyotrace/contracts';
import { loggerUri, ssccUri } from '@lyotrace/domain';
import { LoggerRepository } from '@lyotrace/persistence';
import type { DataSource } from 'typeorm';
import { ApiHarness } from '../support/api-harness.js';
import { openTestDataSource } from '../support/database.js';
import { epcisSchemaErrors } from '../support/epcis-validator.js';
import { makeSite, makeUser, unique } from '../support/factories.js';
import {
  batch,
  makeBridge,
  makeContainer,
  makeLocation,
  MINUTE,
  records,
  SERIES_START,
  seqRange,
} from '../support/reading-factory.js';

interface Logger {
  id: string;
  serial: string;
  siteId: string;
  registration: string;
  approved: boolean;
  streams?: { mission: string; highestContiguousSeq: number | null }[];
  openGaps?: number;
}
interface Assignment {
  id: string;
  loggerId: string;
  locationId: string | null;
  containerId: string | null;
  from: string;
  to: string | null;
}
interface Reading {
  seq: number;
  time: string;
  temperatureC: number | null;
}
interface Problem {
  code: string;
  field?: string;
}

const at = (minutes: number): string => new Date(SERIES_START + minutes * MINUTE).toISOString();

describe('loggers: registration, readings by time range, assignments over time', () => {
  let api: ApiHarness;
  let db: DataSource;
  let siteId: string;
  let admin: string;
  let adminId: string;
  let warehouse: string;
  let qa: string;
  let bridge: { siteId: string; token: string };

  beforeAll(async () => {
    api = await ApiHarness.start();
    db = await openTestDataSource();
    bridge = await makeBridge(api.app);
    siteId = bridge.siteId;
    const a = await makeUser(api.app, Role.Admin);
    adminId = a.id;
    admin = await api.login(a.username, a.password);
    const w = await makeUser(api.app, Role.Warehouse, { siteId });
    warehouse = await api.login(w.username, w.password);
    const q = await makeUser(api.app, Role.Qa);
    qa = await api.login(q.username, q.password);
  });
  afterAll(async () => {
    await api.close();
    await db.destroy();
  });

  const register = (serial = unique('LT'), token = admin) =>
    api.request<Logger & Problem>('POST', '/api/loggers', {
      token,
      body: { protocol: LoggerProtocol.Native, serial, model: 'LT-1', calibrationDue: '2027-06-30', siteId },
    });
  const assign = (loggerId: string, body: Record<string, unknown>, token = warehouse) =>
    api.request<Assignment & Problem>('POST', `/api/loggers/${loggerId}/assignments`, { token, body });
  const end = (loggerId: string, aid: string, body: Record<string, unknown>, token = warehouse) =>
    api.request<Assignment & Problem>('POST', `/api/loggers/${loggerId}/assignments/${aid}/end`, {
      token,
      body,
    });

  it('an admin registers a logger (approved at once); the same device twice is a conflict; others may not', async () => {
    const serial = unique('LT');
    const res = await register(serial);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ serial, siteId, registration: 'admin', approved: true });
    expect((await register(serial)).body).toMatchObject({
      code: 'LOGGER_ALREADY_REGISTERED',
      field: 'serial',
    });
    expect((await register(unique('LT'), warehouse)).status).toBe(403);
    const [audit] = await db.query<{ actor_id: string }[]>(
      `SELECT actor_id FROM audit_event WHERE action = 'logger.register' AND entity_id = $1`,
      [res.body.id],
    );
    expect(audit!.actor_id).toBe(adminId);
  });

  it('refuses a calibration date that does not exist (2026-02-31) by name, as ingest would, and stores nothing', async () => {
    const serial = unique('LT');
    const before = await db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM audit_event WHERE action = 'logger.register'`,
    );
    for (const calibrationDue of ['2026-02-31', '2026-02-29', '2026-04-31']) {
      const res = await api.request<Problem & { errors?: { field: string; messages: string[] }[] }>(
        'POST',
        '/api/loggers',
        {
          token: admin,
          body: { protocol: LoggerProtocol.Native, serial, model: 'LT-1', calibrationDue, siteId },
        },
      );
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(res.body.errors).toEqual([
        {
          field: 'calibrationDue',
          messages: ['calibrationDue must be a calendar date YYYY-MM-DD that exists, e.g. 2027-02-28'],
        },
      ]);
    }
    expect(await db.query(`SELECT id FROM logger WHERE serial = $1`, [serial])).toEqual([]);
    expect(
      await db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM audit_event WHERE action = 'logger.register'`,
      ),
    ).toEqual(before);
    // The day that does exist is taken: the refusal is the calendar, not the field.
    const leap = await api.request<Logger>('POST', '/api/loggers', {
      token: admin,
      body: { protocol: LoggerProtocol.Native, serial, model: 'LT-1', calibrationDue: '2028-02-29', siteId },
    });
    expect(leap.status).toBe(201);
  });

  it('an admin approves a logger the system registered by itself from a bridge upload', async () => {
    const up = await api.request<{ loggerId: string }>('POST', '/api/ingest/readings', {
      token: bridge.token,
      body: batch({ records: records(seqRange(1, 5)) }),
    });
    const pending = await api.request<Logger[]>(
      'GET',
      `/api/loggers?approved=false&siteId=${siteId}&limit=1000`,
      {
        token: admin,
      },
    );
    expect(pending.body.map((l) => l.id)).toContain(up.body.loggerId);
    const approved = await api.request<Logger>('POST', `/api/loggers/${up.body.loggerId}/approve`, {
      token: admin,
      body: { reason: 'serial checked against the delivery note' },
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ registration: 'auto', approved: true });
    const detail = await api.request<Logger>('GET', `/api/loggers/${up.body.loggerId}`, { token: qa });
    expect(detail.body).toMatchObject({
      approved: true,
      streams: [{ mission: '', highestContiguousSeq: 5 }],
      openGaps: 0,
    });
    const [audit] = await db.query<{ reason: string }[]>(
      `SELECT reason FROM audit_event WHERE action = 'logger.approve' AND entity_id = $1`,
      [up.body.loggerId],
    );
    expect(audit!.reason).toBe('serial checked against the delivery note');
  });

  it('reads a time range in time order, a page at a time', async () => {
    const b = batch({ records: records(seqRange(1, 2500)) });
    const up = await api.request<{ loggerId: string }>('POST', '/api/ingest/readings', {
      token: bridge.token,
      body: b,
    });
    const url = (after?: string) =>
      `/api/loggers/${up.body.loggerId}/readings?from=${at(100)}&to=${at(2100)}&limit=800${after ? `&after=${after}` : ''}`;
    const seen: Reading[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await api.request<{ items: Reading[]; nextAfter: string | null }>('GET', url(after), {
        token: qa,
      });
      expect(page.status).toBe(200);
      seen.push(...page.body.items);
      after = page.body.nextAfter ?? undefined;
      pages += 1;
    } while (after && pages < 10);
    expect(pages).toBe(3);
    // [from, to): minutes 100…2099 are seqs 101…2100.
    expect(seen.map((r) => r.seq)).toEqual(seqRange(101, 2100));
    expect(seen[0]).toMatchObject({ time: at(100), temperatureC: b.records[100]!.temperatureC });

    const backwards = await api.request<Problem>(
      'GET',
      `/api/loggers/${up.body.loggerId}/readings?from=${at(10)}&to=${at(5)}`,
      {
        token: qa,
      },
    );
    expect(backwards.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'to' });
    const noZone = await api.request<Problem>(
      'GET',
      `/api/loggers/${up.body.loggerId}/readings?from=2026-01-05T08:00:00&to=${at(5)}`,
      { token: qa },
    );
    expect(noZone.status).toBe(400);
    // new Date() would have read 31 February as 3 March and answered readings for it.
    const noSuchDay = await api.request<Problem>(
      'GET',
      `/api/loggers/${up.body.loggerId}/readings?from=2026-02-31T00:00:00Z&to=2026-03-05T00:00:00Z`,
      { token: qa },
    );
    expect(noSuchDay.status).toBe(400);
    expect(noSuchDay.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'from' }] });
  });

  it('puts a logger in one place at a time: overlaps refused (by the service and by the database), audited', async () => {
    const logger = (await register()).body;
    const fridge = await makeLocation(db, siteId);
    const otherFridge = await makeLocation(db, siteId);

    const inFridge = await assign(logger.id, { locationId: fridge, from: at(0), reason: 'installed' });
    expect(inFridge.status).toBe(201);
    expect(inFridge.body).toMatchObject({ locationId: fridge, containerId: null, from: at(0), to: null });

    const clash = await assign(logger.id, { locationId: otherFridge, from: at(60) });
    expect(clash.status).toBe(409);
    expect(clash.body).toMatchObject({ code: 'LOGGER_ASSIGNMENT_OVERLAP', assignmentId: inFridge.body.id });
    expect((await assign(logger.id, { locationId: otherFridge, from: at(-60), to: at(1) })).status).toBe(409);

    const ended = await end(logger.id, inFridge.body.id, { at: at(120), reason: 'moved' });
    expect(ended.status).toBe(200);
    expect(ended.body.to).toBe(at(120));
    expect((await end(logger.id, inFridge.body.id, { at: at(130) })).body.code).toBe(
      'LOGGER_ASSIGNMENT_ENDED',
    );
    // Back to back is fine: [from, to) intervals.
    expect((await assign(logger.id, { locationId: otherFridge, from: at(120), to: at(180) })).status).toBe(
      201,
    );
    expect((await assign(logger.id, { locationId: fridge, from: at(-120), to: at(0) })).status).toBe(201);

    // The database refuses an overlap whatever the application does.
    await expect(
      db.query(
        `INSERT INTO logger_assignment (logger_id, location_id, valid_from, valid_to, assigned_at, version) VALUES ($1, $2, $3, $4, now(), 1)`,
        [logger.id, fridge, at(150), at(160)],
      ),
    ).rejects.toMatchObject({ driverError: { code: '23P01' } });

    const audits = await db.query<{ action: string }[]>(
      `SELECT action FROM audit_event WHERE entity_type = 'logger_assignment' AND entity_id = $1 ORDER BY occurred_at`,
      [inFridge.body.id],
    );
    expect(audits.map((a) => a.action)).toEqual(['logger_assignment.create', 'logger_assignment.end']);

    const list = await api.request<Assignment[]>('GET', `/api/loggers/${logger.id}/assignments`, {
      token: qa,
    });
    expect(list.body.map((a) => [a.from, a.to])).toEqual([
      [at(-120), at(0)],
      [at(0), at(120)],
      [at(120), at(180)],
    ]);
  });

  it('refuses a place that does not exist, both places at once, and a warehouse user another site’s location', async () => {
    const logger = (await register()).body;
    const elsewhere = await makeSite(api.app, SiteKind.Warehouse);
    const foreign = await makeLocation(db, elsewhere.id);
    expect((await assign(logger.id, { locationId: foreign, from: at(0) })).status).toBe(404);
    expect(
      (await assign(logger.id, { locationId: crypto.randomUUID(), from: at(0) }, admin)).body,
    ).toMatchObject({
      code: 'NOT_FOUND',
      field: 'locationId',
    });
    const both = await assign(logger.id, { locationId: foreign, containerId: crypto.randomUUID() }, admin);
    expect(both.status).toBe(400);
    expect((await assign(logger.id, { locationId: foreign, from: at(0) }, qa)).status).toBe(403);
  });

  it('records each assignment as an EPCIS AssociationEvent that validates against the GS1 schema', async () => {
    const logger = (await register()).body;
    const shipper = await makeContainer(db, siteId, adminId);
    const a = await assign(logger.id, { containerId: shipper.id, from: at(10) }, admin);
    await end(logger.id, a.body.id, { at: at(70) }, admin);

    const res = await api.request<{
      epcisBody: { queryResults: { resultsBody: { eventList: Record<string, unknown>[] } } };
    }>(
      'GET',
      `/api/epcis/events?${new URLSearchParams({ eventType: 'AssociationEvent', MATCH_anyEPC: loggerUri(LoggerProtocol.Native, logger.serial) }).toString()}`,
      { token: qa },
    );
    expect(res.status).toBe(200);
    expect(epcisSchemaErrors(res.body)).toEqual([]);
    const events = res.body.epcisBody.queryResults.resultsBody.eventList;
    expect(events.map((e) => [e.action, e.bizStep, e.eventTime, e.parentID, e.childEPCs])).toEqual([
      ['ADD', 'assembling', at(10), ssccUri(shipper.sscc), [loggerUri(LoggerProtocol.Native, logger.serial)]],
      [
        'DELETE',
        'disassembling',
        at(70),
        ssccUri(shipper.sscc),
        [loggerUri(LoggerProtocol.Native, logger.serial)],
      ],
    ]);
  });

  it('gives custody a shipper’s readings over [from, to), clipped to when its logger was in it', async () => {
    const serial = unique('LT');
    const up = await api.request<{ loggerId: string }>('POST', '/api/ingest/readings', {
      token: bridge.token,
      body: batch({
        device: { protocol: LoggerProtocol.Native, serial, model: 'LT-1' },
        records: records(seqRange(1, 300)),
      }),
    });
    const loggerId = up.body.loggerId;
    const shipper = await makeContainer(db, siteId, adminId);
    const other = await makeContainer(db, siteId, adminId);
    // In the shipper from minute 60 to 180, then in another one from 200 on.
    const a = await assign(loggerId, { containerId: shipper.id, from: at(60), to: at(180) }, admin);
    await assign(loggerId, { containerId: other.id, from: at(200) }, admin);

    const repo = api.app.get(LoggerRepository);
    const transit = await repo.readingsForContainer(shipper.id, new Date(at(0)), new Date(at(1000)));
    expect(transit.map((r) => Number(r.seq))).toEqual(seqRange(61, 180));
    expect(transit.every((r) => r.assignment_id === a.body.id)).toBe(true);
    const window = await repo.readingsForContainer(shipper.id, new Date(at(100)), new Date(at(110)));
    expect(window.map((r) => Number(r.seq))).toEqual(seqRange(101, 110));
    expect((await repo.readingsForContainer(other.id, new Date(at(0)), new Date(at(1000)))).length).toBe(100);

    const assignments = await repo.assignmentsFor({ containerId: shipper.id });
    expect(assignments.map((x) => [x.loggerId, x.validFrom.toISOString(), x.validTo?.toISOString()])).toEqual(
      [[loggerId, at(60), at(180)]],
    );
    const fridge = await makeLocation(db, siteId);
    expect(await repo.assignmentsFor({ locationId: fridge })).toEqual([]);
  });

  it('lists the gaps of a logger, open or all', async () => {
    const device = { protocol: LoggerProtocol.Native, serial: unique('LT'), model: 'LT-1' };
    const send = (seqs: number[]) =>
      api.request<{ loggerId: string }>('POST', '/api/ingest/readings', {
        token: bridge.token,
        body: batch({ device, records: records(seqs, { firstSeq: 1 }) }),
      });
    const { body } = await send(seqRange(1, 10));
    await send(seqRange(20, 30));
    const open = await api.request<{ fromSeq: number; toSeq: number; missing: number }[]>(
      'GET',
      `/api/loggers/${body.loggerId}/gaps`,
      {
        token: qa,
      },
    );
    expect(open.body).toMatchObject([{ fromSeq: 11, toSeq: 19, missing: 9 }]);
    await send(seqRange(11, 19));
    expect(
      (await api.request<unknown[]>('GET', `/api/loggers/${body.loggerId}/gaps`, { token: qa })).body,
    ).toEqual([]);
    const all = await api.request<{ closedAt: string | null }[]>(
      'GET',
      `/api/loggers/${body.loggerId}/gaps?open=false`,
      {
        token: qa,
      },
    );
    expect(all.body).toHaveLength(1);
    expect(all.body[0]!.closedAt).not.toBeNull();
  });
});
