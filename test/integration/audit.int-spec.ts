import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Role, type Actor } from '@lyotrace/contracts';
import { TransactionRunner } from '@lyotrace/persistence';
import type { DataSource } from 'typeorm';
import { WorkerModule } from '../../apps/worker/src/worker.module.js';
import { ApiHarness } from '../support/api-harness.js';
import { openTestDataSource } from '../support/database.js';
import { makeUser, unique } from '../support/factories.js';

interface AuditRow {
  id: string;
  lane: number;
  lane_seq: string;
  action: string;
  entity_id: string;
  new_values: Record<string, unknown> | null;
}

const system: Actor = { kind: 'system', name: 'audit-test' };

describe('audit trail (21 CFR Part 11 §11.10(e), EU GMP Annex 11 §9)', () => {
  let api: ApiHarness;
  let db: DataSource;
  let qaToken: string;

  beforeAll(async () => {
    api = await ApiHarness.start({ AUDIT_CHAIN_LANES: 8 });
    db = await openTestDataSource();
    const qa = await makeUser(api.app, Role.Qa);
    qaToken = await api.login(qa.username, qa.password);
  });
  afterAll(async () => {
    await api.close();
    await db.destroy();
  });

  const verify = () =>
    api.request<{ ok: boolean; firstBroken: { id: string; problem: string } | null; eventsChecked: number }>(
      'POST',
      '/api/audit/verify',
      { token: qaToken },
    );

  /** Drops the append-only trigger, runs SQL, puts the trigger back — what someone with DBA rights could do. */
  async function behindTheTriggersBack(sql: string, params: unknown[]): Promise<void> {
    await db.transaction(async (m) => {
      await m.query('DROP TRIGGER audit_event_append_only ON audit_event');
      await m.query(sql, params);
      await m.query(
        'CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event FOR EACH ROW EXECUTE FUNCTION lyotrace_refuse_change()',
      );
    });
  }

  it('records a create with who, what, when and the new values, in the same transaction as the change', async () => {
    const user = await makeUser(api.app, Role.Warehouse);
    const rows = await db.query<(AuditRow & { actor_name: string; occurred_at: Date })[]>(
      `SELECT * FROM audit_event WHERE entity_type = 'user' AND entity_id = $1 AND action = 'user.create'`,
      [user.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.actor_name).toBe('test-factory');
    expect(rows[0]!.new_values).toMatchObject({ username: user.username, role: 'warehouse' });
    expect(rows[0]!.new_values).not.toHaveProperty('passwordHash');
  });

  it('writes no audit event when the change rolls back, and no change without its audit event', async () => {
    const runner = api.app.get(TransactionRunner);
    const marker = unique('rollback');
    await expect(
      runner.run({ actor: system }, async (uow) => {
        await uow.audit({ action: 'test.event', entityType: 'test', entityId: marker });
        throw new Error('business rule refused');
      }),
    ).rejects.toThrow('business rule refused');
    expect(await db.query('SELECT 1 FROM audit_event WHERE entity_id = $1', [marker])).toHaveLength(0);
  });

  it('refuses UPDATE, DELETE and TRUNCATE in the database itself', async () => {
    const [row] = await db.query<AuditRow[]>('SELECT id FROM audit_event ORDER BY id LIMIT 1');
    await expect(
      db.query(`UPDATE audit_event SET reason = 'edited' WHERE id = $1`, [row!.id]),
    ).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM audit_event WHERE id = $1', [row!.id])).rejects.toThrow(/append-only/);
    await expect(db.query('TRUNCATE audit_event')).rejects.toThrow(/append-only/);
  });

  it('finds a row modified behind the trigger and names it; the chain is whole again once restored', async () => {
    const target = await makeUser(api.app, Role.Production);
    const [row] = await db.query<AuditRow[]>(
      `SELECT * FROM audit_event WHERE entity_id = $1 AND action = 'user.create'`,
      [target.id],
    );
    expect((await verify()).body.ok).toBe(true);

    const forged = { ...row!.new_values, role: 'admin' };
    await behindTheTriggersBack('UPDATE audit_event SET new_values = $2 WHERE id = $1', [
      row!.id,
      JSON.stringify(forged),
    ]);
    try {
      const res = await verify();
      expect(res.body.ok).toBe(false);
      expect(res.body.firstBroken).toMatchObject({ id: row!.id, problem: expect.stringMatching(/modified/) });
    } finally {
      await behindTheTriggersBack('UPDATE audit_event SET new_values = $2 WHERE id = $1', [
        row!.id,
        JSON.stringify(row!.new_values),
      ]);
    }
    expect((await verify()).body.ok).toBe(true);
  });

  it('finds a row deleted behind the trigger (a gap in its lane) and names the row after it', async () => {
    const runner = api.app.get(TransactionRunner);
    const marker = unique('gap');
    await runner.run({ actor: system }, async (uow) => {
      for (let i = 0; i < 3; i += 1)
        await uow.audit({ action: 'test.event', entityType: 'test', entityId: `${marker}-${i}` });
    });
    const rows = await db.query<(AuditRow & Record<string, unknown>)[]>(
      'SELECT * FROM audit_event WHERE entity_id LIKE $1 ORDER BY lane_seq',
      [`${marker}-%`],
    );
    expect(new Set(rows.map((r) => r.lane)).size).toBe(1); // one transaction, one lane
    const [, middle, last] = rows;
    await behindTheTriggersBack('DELETE FROM audit_event WHERE id = $1', [middle!.id]);
    try {
      const res = await verify();
      expect(res.body.firstBroken).toMatchObject({ id: last!.id, problem: expect.stringMatching(/gap/) });
    } finally {
      const columns = Object.keys(middle!);
      await db.query(
        `INSERT INTO audit_event (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        columns.map((c) => {
          const v = middle![c];
          return v !== null && typeof v === 'object' && !(v instanceof Date) ? JSON.stringify(v) : v;
        }),
      );
    }
    expect((await verify()).body.ok).toBe(true);
  });

  it('finds rows cut off the end of a lane, which leave a valid but shorter chain, against the last verification', async () => {
    const runner = api.app.get(TransactionRunner);
    const marker = unique('tail');
    await runner.run({ actor: system }, async (uow) => {
      for (let i = 0; i < 2; i += 1)
        await uow.audit({ action: 'test.event', entityType: 'test', entityId: `${marker}-${i}` });
    });
    expect((await verify()).body.ok).toBe(true); // records every lane's head, including these two rows
    const rows = await db.query<(AuditRow & Record<string, unknown>)[]>(
      'SELECT * FROM audit_event WHERE entity_id LIKE $1 ORDER BY lane_seq',
      [`${marker}-%`],
    );
    const tail = rows[1]!;
    const [{ max }] = (await db.query<{ max: string }[]>(
      'SELECT max(lane_seq) AS max FROM audit_event WHERE lane = $1',
      [tail.lane],
    )) as [{ max: string }];
    if (max !== tail.lane_seq) return; // another writer appended to this lane since: not a tail any more
    await behindTheTriggersBack('DELETE FROM audit_event WHERE id = $1', [tail.id]);
    try {
      const res = await verify();
      expect(res.body.ok).toBe(false);
      expect(res.body.firstBroken).toMatchObject({
        id: rows[0]!.id,
        problem: expect.stringMatching(/missing from the end of the lane/),
      });
    } finally {
      const columns = Object.keys(tail);
      await db.query(
        `INSERT INTO audit_event (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        columns.map((c) => {
          const v = tail[c];
          return v !== null && typeof v === 'object' && !(v instanceof Date) ? JSON.stringify(v) : v;
        }),
      );
    }
    expect((await verify()).body.ok).toBe(true);
  });

  it('keeps every lane intact under concurrent writers, spreading them over several lanes', async () => {
    const runner = api.app.get(TransactionRunner);
    const marker = unique('conc');
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        runner.run({ actor: system }, async (uow) => {
          for (let j = 0; j < 3; j += 1)
            await uow.audit({
              action: 'test.concurrent',
              entityType: 'test',
              entityId: `${marker}-${i}-${j}`,
            });
        }),
      ),
    );
    const rows = await db.query<{ lane: number; entity_id: string }[]>(
      'SELECT lane, entity_id FROM audit_event WHERE entity_id LIKE $1',
      [`${marker}-%`],
    );
    expect(rows).toHaveLength(120);
    expect(new Set(rows.map((r) => r.lane)).size).toBeGreaterThan(1);
    // The three events of one transaction share a lane.
    for (let i = 0; i < 40; i += 1) {
      expect(
        new Set(rows.filter((r) => r.entity_id.startsWith(`${marker}-${i}-`)).map((r) => r.lane)).size,
      ).toBe(1);
    }
    const res = await verify();
    expect(res.body.ok).toBe(true);
    expect(res.body.eventsChecked).toBeGreaterThanOrEqual(120);
  });

  it('lets QA filter the trail by entity, user and time, newest first, with paging', async () => {
    const subject = await makeUser(api.app, Role.Warehouse);
    const subjectToken = await api.login(subject.username, subject.password);
    await api.request('POST', '/api/auth/login', {
      body: { username: subject.username, password: 'wrong-password-x' },
    });
    expect(subjectToken).toBeTruthy();

    const byEntity = await api.request<{ items: AuditRow[] & { action: string }[] }>(
      'GET',
      `/api/audit?entityType=user&entityId=${subject.id}`,
      { token: qaToken },
    );
    expect(byEntity.status).toBe(200);
    expect(byEntity.body.items.map((e) => e.action)).toEqual([
      'auth.login_failed',
      'auth.login',
      'user.create',
    ]);

    const byUser = await api.request<{ items: { actorName: string }[] }>(
      'GET',
      `/api/audit?username=${subject.username}`,
      { token: qaToken },
    );
    expect(byUser.body.items.length).toBeGreaterThan(0);
    expect(byUser.body.items.every((e) => e.actorName === subject.username)).toBe(true);

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const none = await api.request<{ items: unknown[] }>(
      'GET',
      `/api/audit?from=${encodeURIComponent(future)}`,
      { token: qaToken },
    );
    expect(none.body.items).toHaveLength(0);

    const page1 = await api.request<{ items: { id: string }[]; nextBeforeId: string }>(
      'GET',
      '/api/audit?limit=2',
      { token: qaToken },
    );
    expect(page1.body.items).toHaveLength(2);
    const page2 = await api.request<{ items: { id: string }[] }>(
      'GET',
      `/api/audit?limit=2&beforeId=${page1.body.nextBeforeId}`,
      { token: qaToken },
    );
    expect(BigInt(page2.body.items[0]!.id)).toBeLessThan(BigInt(page1.body.items[1]!.id));

    const bad = await api.request('GET', '/api/audit?from=yesterday', { token: qaToken });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'from' }] });
    const noSuchDay = await api.request('GET', '/api/audit?to=2026-02-31T00:00:00Z', { token: qaToken });
    expect(noSuchDay.status).toBe(400);
    expect(noSuchDay.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'to' }] });
  });

  it('is closed to roles other than QA and admin', async () => {
    const wh = await makeUser(api.app, Role.Warehouse);
    const token = await api.login(wh.username, wh.password);
    expect((await api.request('GET', '/api/audit', { token })).status).toBe(403);
  });

  describe('queued verification, processed by the worker over the real Redis', () => {
    let worker: INestApplicationContext;
    beforeAll(async () => {
      worker = await NestFactory.createApplicationContext(WorkerModule.register(api.config), {
        logger: false,
      });
      await worker.init();
    });
    afterAll(() => worker.close());

    it('runs the chain check in the worker and records the result', async () => {
      const queued = await api.request<{ id: string; status: string }>('POST', '/api/audit/verifications', {
        token: qaToken,
      });
      expect(queued.status).toBe(202);
      expect(queued.body.status).toBe('queued');
      const deadline = Date.now() + 15_000;
      let status = 'queued';
      let body: Record<string, unknown> = {};
      while (Date.now() < deadline && (status === 'queued' || status === 'running')) {
        await new Promise((r) => setTimeout(r, 100));
        const res = await api.request<{ status: string }>(
          'GET',
          `/api/audit/verifications/${queued.body.id}`,
          { token: qaToken },
        );
        status = res.body.status;
        body = res.body;
      }
      expect(body).toMatchObject({
        status: 'intact',
        eventsChecked: expect.any(Number),
        finishedAt: expect.any(String),
      });
    });
  });
});
