import { LaneVerifier, systemClock } from '@lyotrace/domain';
import { type AuditEntry, AuditLog, AuditRepository, TransactionRunner } from '@lyotrace/persistence';
import type { DataSource } from 'typeorm';
import { migrateTestDatabase, openTestDataSource } from '../support/database.js';
import { unique } from '../support/factories.js';

/**
 * AuditLog.appendMany writes many events in a few statements. The chain must be exactly the one `append` called
 * for each would write: one event per entry, in order, on the transaction's lane, each chained to the one before
 * (21 CFR 11.10(e)) — whether the transaction's lane is already held, still to be claimed, or known from an
 * earlier commit that another process has since moved on.
 */
describe('audit trail: many events appended at once', () => {
  let db: DataSource;
  const system = { actor: { kind: 'system' as const, name: 'append-many-test' }, requestId: 'req-many' };

  beforeAll(async () => {
    await migrateTestDatabase();
    db = await openTestDataSource();
  });
  afterAll(() => db.destroy());

  const writer = (lanes = 1) => {
    const log = new AuditLog(lanes, systemClock);
    return { log, runner: new TransactionRunner(db, log) };
  };

  async function laneIsIntact(lane: number): Promise<void> {
    const verifier = new LaneVerifier(lane);
    for await (const row of new AuditRepository(db).laneInOrder(lane))
      expect(verifier.accept(row)).toBeNull();
    expect(verifier.finish()).toBeNull();
  }

  const entries = (marker: string, n: number): AuditEntry[] =>
    Array.from({ length: n }, (_, i) => ({
      action: 'test.many',
      entityType: 'test',
      entityId: `${marker}-${String(i).padStart(5, '0')}`,
      oldValues: { n: i, nested: { quote: `"\\'{}` } },
      newValues: i % 2 === 0 ? { n: i + 1 } : null,
      reason: i % 3 === 0 ? `because ${i}` : null,
    }));

  const eventsOf = (marker: string) =>
    db.query<
      {
        id: string;
        lane: number;
        lane_seq: string;
        entity_id: string;
        old_values: unknown;
        new_values: unknown;
        reason: string | null;
        request_id: string | null;
      }[]
    >(
      `SELECT id, lane, lane_seq, entity_id, old_values, new_values, reason, request_id
         FROM audit_event WHERE entity_id LIKE $1 ORDER BY lane, lane_seq`,
      [`${marker}%`],
    );

  it('writes one event per entry, in order, on one lane, between single events, chained throughout', async () => {
    const { log, runner } = writer();
    const marker = unique('between');
    const batch = entries(`${marker}-b`, 25);
    let ids: string[] = [];
    await runner.run(system, async (uow) => {
      await uow.audit({ action: 'test.many', entityType: 'test', entityId: `${marker}-a` });
      ids = await log.appendMany(uow.manager, uow.ctx, batch);
      await uow.audit({ action: 'test.many', entityType: 'test', entityId: `${marker}-c` });
    });
    const rows = await eventsOf(marker);
    expect(rows.map((r) => r.entity_id)).toEqual([
      `${marker}-a`,
      ...batch.map((e) => e.entityId),
      `${marker}-c`,
    ]);
    // Consecutive positions on one lane: nothing else slipped in, nothing skipped.
    expect(new Set(rows.map((r) => r.lane)).size).toBe(1);
    const first = BigInt(rows[0]!.lane_seq);
    expect(rows.map((r) => BigInt(r.lane_seq) - first)).toEqual(rows.map((_, i) => BigInt(i)));
    expect(ids).toEqual(rows.slice(1, -1).map((r) => r.id));
    // Stored as given (jsonb, nulls, reasons, request id).
    expect(rows[1]).toMatchObject({
      old_values: { n: 0, nested: { quote: `"\\'{}` } },
      new_values: { n: 1 },
      reason: 'because 0',
      request_id: 'req-many',
    });
    expect(rows[2]).toMatchObject({ new_values: null, reason: null });
    await laneIsIntact(0);
  });

  it('claims the lane itself when it comes first, and crosses statement chunks without a seam', async () => {
    const { log, runner } = writer();
    const marker = unique('first');
    const batch = entries(marker, 4_003);
    const ids = await runner.run(system, (uow) => log.appendMany(uow.manager, uow.ctx, batch));
    const rows = await eventsOf(marker);
    expect(rows.map((r) => r.entity_id)).toEqual(batch.map((e) => e.entityId));
    expect(ids).toEqual(rows.map((r) => r.id));
    await laneIsIntact(0);
  });

  it('stays one chain when another process moved the lane on since this one last committed there', async () => {
    const [a, b] = [writer(), writer()];
    const marker = unique('stale');
    await a.runner.run(system, (uow) => a.log.appendMany(uow.manager, uow.ctx, entries(`${marker}-1`, 3)));
    await b.runner.run(system, (uow) => b.log.appendMany(uow.manager, uow.ctx, entries(`${marker}-2`, 4)));
    await a.runner.run(system, (uow) => a.log.appendMany(uow.manager, uow.ctx, entries(`${marker}-3`, 5)));
    expect(await eventsOf(marker)).toHaveLength(12);
    await laneIsIntact(0);
  });

  it('writes nothing when the transaction fails, and the lane goes on intact', async () => {
    const { log, runner } = writer();
    const marker = unique('rollback');
    await expect(
      runner.run(system, async (uow) => {
        await log.appendMany(uow.manager, uow.ctx, entries(`${marker}-lost`, 10));
        throw new Error('business rule refused');
      }),
    ).rejects.toThrow('business rule refused');
    await runner.run(system, (uow) => log.appendMany(uow.manager, uow.ctx, entries(`${marker}-kept`, 2)));
    expect((await eventsOf(marker)).map((r) => r.entity_id)).toEqual([
      `${marker}-kept-00000`,
      `${marker}-kept-00001`,
    ]);
    await laneIsIntact(0);
  });

  it('refuses to run outside a transaction, and writes nothing for no entries', async () => {
    const { log, runner } = writer();
    await expect(log.appendMany(db.manager, system, entries('outside', 1))).rejects.toThrow(
      /inside a transaction/,
    );
    expect(await runner.run(system, (uow) => log.appendMany(uow.manager, uow.ctx, []))).toEqual([]);
  });

  it('keeps every lane intact with concurrent transactions mixing single and many events', async () => {
    const [a, b] = [writer(3), writer(3)];
    const marker = unique('mixed');
    await Promise.all(
      Array.from({ length: 24 }, (_, i) => {
        const p = i % 2 === 0 ? a : b;
        return p.runner.run(system, async (uow) => {
          if (i % 3 === 0)
            await uow.audit({ action: 'test.many', entityType: 'test', entityId: `${marker}-${i}` });
          await p.log.appendMany(uow.manager, uow.ctx, entries(`${marker}-${i}-m`, 1 + (i % 4)));
        });
      }),
    );
    expect(await eventsOf(marker)).toHaveLength(8 + 24 + 6 * (0 + 1 + 2 + 3));
    for (const lane of [0, 1, 2]) await laneIsIntact(lane);
  });
});
