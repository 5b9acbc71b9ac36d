import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Role, SiteKind } from '@lyotrace/contracts';
import { RecallService } from '@lyotrace/services';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { WorkerModule } from '../../apps/worker/src/worker.module.js';
import { ApiHarness } from '../support/api-harness.js';
import { openTestDataSource } from '../support/database.js';
import { makeSite, makeUser } from '../support/factories.js';
import { GenealogyFactory } from '../support/genealogy-factory.js';
import { testServices } from '../support/test-env.js';

interface Recall {
  id: string;
  status: string;
  propagated: boolean;
  counts: { total: number; unaccounted: number; returned: number; destroyed: number; dispensed: number };
}
interface Item {
  vialId: string;
  finalState: string | null;
  holder: { siteId: string };
}

describe('recall from any node, reconciled to the last vial', () => {
  let api: ApiHarness;
  let db: DataSource;
  let f: GenealogyFactory;
  let worker: INestApplicationContext | undefined;

  beforeAll(async () => {
    api = await ApiHarness.start();
    db = await openTestDataSource();
    f = await GenealogyFactory.create(api);
  });
  afterAll(async () => {
    await worker?.close();
    await api.close();
    await db.destroy();
  });

  const startWorker = async () => {
    worker = await NestFactory.createApplicationContext(WorkerModule.register(api.config), { logger: false });
    await worker.init();
  };
  const getRecall = (id: string, token = f.qaToken) =>
    api.request<Recall>('GET', `/api/recalls/${id}`, { token });
  async function untilPropagated(id: string): Promise<Recall> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = (await getRecall(id)).body;
      if (r.propagated || Date.now() > deadline) return r;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const openRecall = (ref: string, password = f.qaPassword) =>
    api.request<Recall>('POST', '/api/recalls', {
      token: f.qaToken,
      body: { ref, reason: 'endotoxin out of specification in the MCB', password },
    });

  it('marks every downstream vial by a queued job, lists dosed and destroyed ones as accounted, and is safe to run twice', async () => {
    await startWorker();
    const c = await f.chain(3);
    await f.release(c.lotA);
    const [dosed, destroyed] = c.vialsB;
    // What the custody feature will record: one vial given to a patient, one destroyed.
    await db.query(`UPDATE vial SET state = 'dispensed' WHERE id = $1`, [dosed!.id]);
    await db.query(`UPDATE vial SET state = 'destroyed' WHERE id = $1`, [destroyed!.id]);

    const opened = await openRecall(c.mcb.code);
    expect(opened.status).toBe(201);
    const recall = await untilPropagated(opened.body.id);
    expect(recall).toMatchObject({
      status: 'open',
      propagated: true,
      counts: { total: 6, unaccounted: 4, dispensed: 1, destroyed: 1 },
    });

    const trace = await api.request<{ vials: { items: { id: string; recalled: boolean }[] } }>(
      'GET',
      `/api/trace/forward?ref=${c.mcb.id}`,
      { token: f.qaToken },
    );
    const recalled = trace.body.vials.items
      .filter((v) => v.recalled)
      .map((v) => v.id)
      .sort();
    expect(recalled).toEqual([...c.vialsA.map((v) => v.id), c.vialsB[2]!.id].sort());

    const again = await worker!.get(RecallService).propagate(opened.body.id);
    expect(again.marked).toBe(0);
    expect((await getRecall(opened.body.id)).body.counts).toEqual(recall.counts);
    const audits = await db.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM audit_event WHERE action = 'vial.recall' AND new_values->>'recallId' = $1`,
      [opened.body.id],
    );
    expect(Number(audits[0]!.n)).toBe(4);
    const epcis = await db.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM epcis_event WHERE biz_step = 'holding' AND event->'bizTransactionList'->0->>'bizTransaction' = $1`,
      [`urn:uuid:${opened.body.id}`],
    );
    expect(Number(epcis[0]!.n)).toBe(1);
  });

  it('shows each holder site its own items only, and refuses another site’s vial', async () => {
    const c = await f.chain(2);
    const clinic = await makeSite(api.app, SiteKind.Clinic);
    const otherClinic = await makeSite(api.app, SiteKind.Clinic);
    const atClinic = c.vialsA[0]!;
    await db.query(`UPDATE vial SET state = 'at_clinic', holder_site_id = $2 WHERE id = $1`, [
      atClinic.id,
      clinic.id,
    ]);
    const nurse = await makeUser(api.app, Role.Clinic, { siteId: clinic.id });
    const nurseToken = await api.login(nurse.username, nurse.password);
    const stranger = await makeUser(api.app, Role.Clinic, { siteId: otherClinic.id });
    const strangerToken = await api.login(stranger.username, stranger.password);
    const opened = await openRecall(c.lotA.code);
    await untilPropagated(opened.body.id);

    const mine = await api.request<Item[]>('GET', `/api/recalls/${opened.body.id}/items`, {
      token: nurseToken,
    });
    expect(mine.body.map((i) => i.vialId)).toEqual([atClinic.id]);
    expect((await getRecall(opened.body.id, nurseToken)).body.counts).toMatchObject({
      total: 1,
      unaccounted: 1,
    });
    expect(
      (await api.request<Item[]>('GET', `/api/recalls/${opened.body.id}/items`, { token: strangerToken }))
        .body,
    ).toEqual([]);
    const refused = await api.request('POST', `/api/recalls/${opened.body.id}/items/${atClinic.id}/resolve`, {
      token: strangerToken,
      body: { finalState: 'destroyed', reason: 'not mine' },
    });
    expect(refused.status).toBe(404);
    const ok = await api.request('POST', `/api/recalls/${opened.body.id}/items/${atClinic.id}/resolve`, {
      token: nurseToken,
      body: { finalState: 'destroyed', reason: 'destroyed on site, witnessed' },
    });
    expect(ok.status).toBe(204);
    const [vial] = await db.query<{ state: string }[]>('SELECT state FROM vial WHERE id = $1', [atClinic.id]);
    expect(vial!.state).toBe('destroyed');
  });

  it('refuses to close while a vial is unaccounted for, then closes with a signature once all are', async () => {
    const c = await f.chain(1);
    const opened = await openRecall(c.lotA.code);
    const recall = await untilPropagated(opened.body.id);
    expect(recall.counts.unaccounted).toBe(1);
    const early = await api.request('POST', `/api/recalls/${recall.id}/close`, {
      token: f.qaToken,
      body: { password: f.qaPassword, reason: 'done' },
    });
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ code: 'RECALL_UNACCOUNTED', unaccounted: 1 });
    expect((await getRecall(recall.id)).body.status).toBe('open');

    const items = (await api.request<Item[]>('GET', `/api/recalls/${recall.id}/items`, { token: f.qaToken }))
      .body;
    for (const item of items.filter((i) => !i.finalState)) {
      await api.request('POST', `/api/recalls/${recall.id}/items/${item.vialId}/resolve`, {
        token: f.qaToken,
        body: { finalState: 'returned', reason: 'returned to the depot' },
      });
    }
    const badPassword = await api.request('POST', `/api/recalls/${recall.id}/close`, {
      token: f.qaToken,
      body: { password: 'wrong', reason: 'done' },
    });
    expect(badPassword.body).toMatchObject({ code: 'SIGNATURE_INVALID_PASSWORD' });
    const closed = await api.request<Recall>('POST', `/api/recalls/${recall.id}/close`, {
      token: f.qaToken,
      body: { password: f.qaPassword, reason: 'all vials returned' },
    });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ status: 'closed', counts: { unaccounted: 0, returned: 1 } });
    const late = await api.request('POST', `/api/recalls/${recall.id}/items/${items[0]!.vialId}/resolve`, {
      token: f.qaToken,
      body: { finalState: 'destroyed', reason: 'x' },
    });
    expect(late.body).toMatchObject({ code: 'RECALL_CLOSED' });
  });

  it('re-queues a propagation lost with Redis (sweep), so the recall still completes', async () => {
    await worker?.close();
    worker = undefined;
    const c = await f.chain(1);
    const opened = await openRecall(c.lotB.code);
    // Redis loses the queued job (what a crash without persistence would do).
    const redis = new Redis(testServices().redisUrl);
    await redis.flushdb();
    await redis.quit();
    await startWorker();
    expect((await getRecall(opened.body.id)).body.propagated).toBe(false);
    expect(await worker!.get(RecallService).sweep()).toBeGreaterThanOrEqual(1);
    expect(await untilPropagated(opened.body.id)).toMatchObject({
      propagated: true,
      counts: { total: 1, unaccounted: 1 },
    });
  });

  it('reconciles a finished lot: commissioned = sum of states, nothing unaccounted', async () => {
    const c = await f.chain(3);
    await db.query(`UPDATE vial SET state = 'dispensed' WHERE id = $1`, [c.vialsA[0]!.id]);
    const res = await api.request<Record<string, number>>('GET', `/api/lots/${c.lotA.id}/reconciliation`, {
      token: f.qaToken,
    });
    expect(res.body).toEqual({
      commissioned: 3,
      in_stock: 2,
      in_transit: 0,
      at_clinic: 0,
      dispensed: 1,
      destroyed: 0,
      sample: 0,
      quarantine: 0,
      under_investigation: 0,
      unaccounted: 0,
    });
  });
});
