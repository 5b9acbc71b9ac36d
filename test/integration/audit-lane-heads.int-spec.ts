import { LaneVerifier, systemClock } from '@lyotrace/domain';
import {
  AUDIT_LANE_LOCK_NAMESPACE,
  AuditLog,
  AuditRepository,
  TransactionRunner,
  type UnitOfWork,
} from '@lyotrace/persistence';
import type { DataSource } from 'typeorm';
import { migrateTestDatabase, openTestDataSource } from '../support/database.js';
import { unique } from '../support/factories.js';

/**
 * The AuditLog remembers the head it committed on each lane, so that a transaction's first event usually takes
 * one round trip. These tests play several processes (several AuditLogs) on the same lanes, with rollbacks,
 * busy lanes and writes riding along with the event, and check that the chain is exactly what the slow path
 * writes: every lane intact, every event once, every ride-along write once.
 */
describe('audit trail: lane heads remembered between transactions', () => {
  let db: DataSource;
  const system = { actor: { kind: 'system' as const, name: 'lane-heads-test' } };

  beforeAll(async () => {
    await migrateTestDatabase();
    db = await openTestDataSource();
  });
  afterAll(() => db.destroy());

  /** A process: its own AuditLog (its own memory of the heads) over the shared database. */
  const writer = (lanes: number) => new TransactionRunner(db, new AuditLog(lanes, systemClock));

  async function laneIsIntact(lane: number): Promise<void> {
    const verifier = new LaneVerifier(lane);
    for await (const row of new AuditRepository(db).laneInOrder(lane))
      expect(verifier.accept(row)).toBeNull();
    expect(verifier.finish()).toBeNull();
  }

  const eventsOf = (marker: string) =>
    db.query<{ lane: number; lane_seq: string; entity_id: string }[]>(
      'SELECT lane, lane_seq, entity_id FROM audit_event WHERE entity_id LIKE $1 ORDER BY lane, lane_seq',
      [`${marker}%`],
    );

  const write = (
    runner: TransactionRunner,
    entityId: string,
    n = 1,
    more?: (uow: UnitOfWork) => Promise<void>,
  ) =>
    runner.run(system, async (uow) => {
      for (let i = 0; i < n; i += 1)
        await uow.audit({ action: 'test.lane_head', entityType: 'test', entityId: `${entityId}-${i}` });
      await more?.(uow);
    });

  it('keeps one intact chain when two processes take turns on the same lane (each one’s memory goes stale)', async () => {
    const [a, b] = [writer(1), writer(1)];
    const marker = unique('turns');
    for (let i = 0; i < 6; i += 1) await write(i % 2 === 0 ? a : b, `${marker}-${i}`, 1 + (i % 3));
    const rows = await eventsOf(marker);
    expect(rows).toHaveLength(1 + 2 + 3 + 1 + 2 + 3);
    expect(new Set(rows.map((r) => r.lane))).toEqual(new Set([0]));
    await laneIsIntact(0);
  });

  it('does not remember a head that rolled back', async () => {
    const a = writer(1);
    const marker = unique('rollback');
    await write(a, `${marker}-kept`);
    await expect(
      write(a, `${marker}-lost`, 2, () => Promise.reject(new Error('business rule refused'))),
    ).rejects.toThrow('business rule refused');
    await write(a, `${marker}-after`);
    expect((await eventsOf(marker)).map((r) => r.entity_id)).toEqual([
      `${marker}-kept-0`,
      `${marker}-after-0`,
    ]);
    await laneIsIntact(0);
  });

  it('goes to a free lane when the remembered one is held by another process', async () => {
    const a = writer(2);
    const marker = unique('busy');
    await write(a, `${marker}-first`);
    const [first] = await eventsOf(`${marker}-first`);
    const held = first!.lane;
    const other = db.createQueryRunner();
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1, $2)', [AUDIT_LANE_LOCK_NAMESPACE, held]);
      await write(a, `${marker}-then`, 2);
      expect(new Set((await eventsOf(`${marker}-then`)).map((r) => r.lane))).toEqual(new Set([1 - held]));
    } finally {
      await other.query('SELECT pg_advisory_unlock($1, $2)', [AUDIT_LANE_LOCK_NAMESPACE, held]);
      await other.release();
    }
    await write(a, `${marker}-last`);
    await laneIsIntact(0);
    await laneIsIntact(1);
  });

  it('checks a remembered head with one step down the lane index, however long the trail (never a scan of it)', async () => {
    const a = writer(1);
    const marker = unique('head-plan');
    // A long lane, so that reading all of it and reading its newest row differ by far in the planner's eyes.
    await a.run(system, (uow) =>
      uow.auditMany(
        Array.from({ length: 5_000 }, (_, i) => ({
          action: 'test.lane_head',
          entityType: 'test',
          entityId: `${marker}-${i}`,
        })),
      ),
    );
    await db.query('ANALYZE audit_event');
    const plan = await a.run(system, async (uow) => {
      // The transaction's first event on a lane this process knows: the one-statement path, now prepared on this
      // connection. Its generic plan (the one a prepared statement settles on) is what every later scan runs.
      await uow.audit({ action: 'test.lane_head', entityType: 'test', entityId: `${marker}-probe` });
      const [known] = await uow.manager.query<{ statement: string; n: number }[]>(
        `SELECT statement, cardinality(parameter_types) AS n FROM pg_prepared_statements
          WHERE statement LIKE '%audit_lane AS (SELECT pg_try_advisory_xact_lock%'`,
      );
      if (!known) throw new Error('the one-statement append was not prepared');
      await uow.manager.query(`PREPARE head_probe AS ${known.statement}`);
      await uow.manager.query('SET LOCAL plan_cache_mode = force_generic_plan');
      const nulls = Array.from({ length: known.n }, () => 'NULL').join(', ');
      const rows = await uow.manager.query<{ 'QUERY PLAN': string }[]>(
        `EXPLAIN EXECUTE head_probe(${nulls})`,
      );
      await uow.manager.query('DEALLOCATE head_probe');
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).not.toMatch(/Seq Scan on audit_event/);
    expect(plan).toMatch(/Index (Only )?Scan Backward using "?UQ_audit_event_lane_seq"? on audit_event/);
    await laneIsIntact(0);
  });

  it('runs the writes riding along with an event exactly once, whichever path the event takes', async () => {
    const [a, b] = [writer(1), writer(1)];
    const marker = unique('along');
    const ride = (uow: UnitOfWork, n: number) =>
      uow.audit({ action: 'test.lane_head', entityType: 'test', entityId: `${marker}-${n}` }, (p) => [
        `ride AS (INSERT INTO ride_along (n) VALUES (${p.add(n, 'int')}))`,
      ]);
    const rides: number[] = [];
    const run = (runner: TransactionRunner, from: number) =>
      runner.run(system, async (uow) => {
        // A temporary table of this transaction's connection: the test's own, gone at commit.
        await uow.manager.query('CREATE TEMP TABLE ride_along (n int) ON COMMIT DROP');
        await ride(uow, from); // the transaction's first event: no lane yet
        await ride(uow, from + 1); // a later event: lane and head known
        const rows = await uow.manager.query<{ n: number }[]>('SELECT n FROM ride_along ORDER BY n');
        rides.push(...rows.map((r) => r.n));
      });
    await run(a, 0); // a knows no lane: the writes go alone, then the slow path
    await run(a, 10); // a knows lane 0: the writes ride with the first event
    await run(b, 20); // b moves lane 0 on…
    await run(a, 30); // …so a's memory is stale: the writes rode with the refused attempt, not again
    expect(rides).toEqual([0, 1, 10, 11, 20, 21, 30, 31]);
    expect((await eventsOf(marker)).map((r) => r.entity_id)).toHaveLength(8);
    await laneIsIntact(0);
  });

  it('runs the unit of work again when its last event, carrying the COMMIT, finds the remembered head moved on', async () => {
    const [a, b] = [writer(1), writer(1)];
    const marker = unique('last');
    await db.query('CREATE TABLE IF NOT EXISTS audit_last_probe (tag text)');
    const lastEvent = async (tag: string): Promise<number> => {
      let runs = 0;
      await a.run(system, async (uow) => {
        runs += 1;
        await uow.audit(
          { action: 'test.lane_head', entityType: 'test', entityId: tag },
          (p) => [`ride AS (INSERT INTO audit_last_probe (tag) VALUES (${p.add(tag, 'text')}))`],
          { last: true },
        );
      });
      return runs;
    };
    await write(a, `${marker}-a`); // a remembers lane 0's head…
    await write(b, `${marker}-b`); // …which b moves on
    // a's one-statement append (with the COMMIT riding) fails as a whole, and the unit of work runs again.
    expect(await lastEvent(`${marker}-moved`)).toBe(2);
    // Now a knows the head again: one run, the event and its COMMIT in one statement.
    expect(await lastEvent(`${marker}-known`)).toBe(1);
    expect((await eventsOf(marker)).map((r) => r.entity_id)).toEqual([
      `${marker}-a-0`,
      `${marker}-b-0`,
      `${marker}-moved`,
      `${marker}-known`,
    ]);
    const rides = await db.query<{ tag: string }[]>(
      'SELECT tag FROM audit_last_probe WHERE tag LIKE $1 ORDER BY tag',
      [`${marker}%`],
    );
    expect(rides.map((r) => r.tag)).toEqual([`${marker}-known`, `${marker}-moved`]);
    await laneIsIntact(0);
  });

  it('never lets the COMMIT ride from inside a savepoint (a nested transaction)', async () => {
    const a = writer(1);
    const marker = unique('nested');
    await write(a, `${marker}-first`); // a remembers lane 0's head: the one-statement path is open
    await expect(
      a.run(system, async (uow) => {
        await uow.manager.transaction(async () => {
          await uow.audit(
            { action: 'test.lane_head', entityType: 'test', entityId: `${marker}-inner` },
            undefined,
            {
              last: true,
            },
          );
        });
        throw new Error('the outer transaction fails');
      }),
    ).rejects.toThrow('the outer transaction fails');
    expect((await eventsOf(marker)).map((r) => r.entity_id)).toEqual([`${marker}-first-0`]);
    await laneIsIntact(0);
  });

  it('fails as a whole when a write riding along fails: no event, no write, the lane free again', async () => {
    const a = writer(1);
    const marker = unique('failing');
    await write(a, `${marker}-known`); // a knows lane 0: the failing write rides with the event's INSERT
    await expect(
      a.run(system, async (uow) => {
        await uow.manager.query('CREATE TEMP TABLE ride_along (n int NOT NULL) ON COMMIT DROP');
        await uow.audit({ action: 'test.lane_head', entityType: 'test', entityId: `${marker}-lost` }, (p) => [
          `ride AS (INSERT INTO ride_along (n) VALUES (${p.add(null, 'int')}))`,
        ]);
      }),
    ).rejects.toThrow(/null value/);
    await write(a, `${marker}-after`);
    expect((await eventsOf(marker)).map((r) => r.entity_id)).toEqual([
      `${marker}-known-0`,
      `${marker}-after-0`,
    ]);
    await laneIsIntact(0);
  });

  it('keeps every lane intact with many concurrent transactions of two processes', async () => {
    const [a, b] = [writer(4), writer(4)];
    const marker = unique('many');
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => write(i % 2 === 0 ? a : b, `${marker}-${i}`, 1 + (i % 2))),
    );
    expect(await eventsOf(marker)).toHaveLength(60);
    for (const lane of [0, 1, 2, 3]) await laneIsIntact(lane);
  });
});
