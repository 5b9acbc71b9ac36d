import { TransactionBatchingClient } from '@lyotrace/persistence';
import type { PoolClient } from 'pg';
import QueryStream from 'pg-query-stream';
import type { DataSource, QueryRunner } from 'typeorm';
import { migrateTestDatabase, openTestDataSource } from '../support/database.js';

/**
 * The pool's connections send a transaction's BEGIN together with its first statement, and its COMMIT with a
 * statement said to be its last (TransactionBatchingClient).
 * These tests watch the wire (ReadyForQuery messages, one per round trip) and the transaction ids PostgreSQL
 * hands out (txid_current(): the same id twice means the same transaction), on a real PostgreSQL.
 */
describe('persistence: BEGIN rides with the first statement of a transaction, COMMIT with the last', () => {
  let db: DataSource;

  beforeAll(async () => {
    await migrateTestDatabase();
    db = await openTestDataSource();
    // Scratch tables of these tests: a plain one, and one whose unique constraint is checked only at COMMIT.
    await db.query('CREATE TABLE IF NOT EXISTS batching_probe (tag text)');
    await db.query(
      `CREATE TABLE IF NOT EXISTS batching_deferred (tag text,
         CONSTRAINT batching_deferred_once UNIQUE (tag) DEFERRABLE INITIALLY DEFERRED)`,
    );
  });
  afterAll(() => db.destroy());

  const clientOf = (runner: QueryRunner) =>
    (runner as unknown as { databaseConnection: PoolClient & TransactionBatchingClient }).databaseConnection;

  /** Runs `work` in a TypeORM transaction, counting the round trips (ReadyForQuery) it takes from BEGIN on. */
  async function inTransaction(
    work: (runner: QueryRunner, client: PoolClient) => Promise<void>,
    end: 'commit' | 'rollback' = 'commit',
  ): Promise<number> {
    const runner = db.createQueryRunner();
    await runner.connect();
    const client = clientOf(runner);
    let roundTrips = 0;
    const count = () => (roundTrips += 1);
    const wire = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
    wire.on('readyForQuery', count);
    try {
      await runner.startTransaction();
      expect(client.hasPendingBegin).toBe(true);
      try {
        await work(runner, client);
      } catch (error) {
        await runner.rollbackTransaction();
        throw error;
      }
      await (end === 'commit' ? runner.commitTransaction() : runner.rollbackTransaction());
    } finally {
      wire.off('readyForQuery', count);
      await runner.release();
    }
    return roundTrips;
  }

  const txid = async (run: () => Promise<{ x: string }[]>) => (await run())[0]!.x;
  /** A named prepared statement, as the hot paths send theirs (queryPrepared). */
  const prepared = async <T extends object>(
    client: PoolClient,
    name: string,
    text: string,
    values: unknown[],
  ) => (await client.query<T>({ name, text, values })).rows;

  it('is what the pool hands out', async () => {
    const runner = db.createQueryRunner();
    await runner.connect();
    try {
      expect(clientOf(runner)).toBeInstanceOf(TransactionBatchingClient);
    } finally {
      await runner.release();
    }
  });

  it('sends BEGIN with a statement that has parameters: one round trip for both, in one transaction', async () => {
    const ids: string[] = [];
    const trips = await inTransaction(async (runner) => {
      ids.push(await txid(() => runner.query('SELECT txid_current()::text AS x WHERE $1::int = 1', [1])));
      ids.push(await txid(() => runner.query('SELECT txid_current()::text AS x')));
    });
    expect(ids[0]).toBe(ids[1]);
    expect(trips).toBe(3); // BEGIN + first statement, second statement, COMMIT
  });

  it('sends BEGIN with a named prepared statement (as queryPrepared does), which stays prepared for the next use', async () => {
    const text = 'SELECT txid_current()::text AS x, $1::text AS tag';
    for (let round = 0; round < 2; round += 1) {
      const ids: string[] = [];
      const trips = await inTransaction(async (runner, client) => {
        ids.push(await txid(() => prepared<{ x: string }>(client, 'deferred_begin_txid', text, ['probe'])));
        ids.push(await txid(() => runner.query('SELECT txid_current()::text AS x')));
      });
      expect(ids[0]).toBe(ids[1]);
      expect(trips).toBe(3);
    }
  });

  it('sends BEGIN first, on its own, before a statement without parameters (simple protocol)', async () => {
    const ids: string[] = [];
    const trips = await inTransaction(async (runner) => {
      ids.push(await txid(() => runner.query('SELECT txid_current()::text AS x')));
      ids.push(await txid(() => runner.query('SELECT txid_current()::text AS x')));
    });
    expect(ids[0]).toBe(ids[1]);
    expect(trips).toBe(4);
  });

  it('sends BEGIN before a stream, which then reads inside the transaction', async () => {
    const ids: string[] = [];
    await inTransaction(async (runner, client) => {
      const stream = client.query(new QueryStream('SELECT txid_current()::text AS x'));
      for await (const row of stream) ids.push((row as { x: string }).x);
      ids.push(await txid(() => runner.query('SELECT txid_current()::text AS x')));
    });
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
  });

  it('rolls back a first statement that rode with BEGIN', async () => {
    const marker = `deferred-${Date.now()}`;
    await inTransaction(async (runner) => {
      await runner.query('INSERT INTO batching_probe (tag) VALUES ($1)', [marker]);
    }, 'rollback');
    expect(await db.query('SELECT 1 FROM batching_probe WHERE tag = $1', [marker])).toHaveLength(0);
  });

  it('sends nothing at all for a transaction that ran no statement, and the connection goes on working', async () => {
    expect(await inTransaction(() => Promise.resolve())).toBe(0);
    expect(await inTransaction(() => Promise.resolve(), 'rollback')).toBe(0);
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('answers a failed first statement as an error and leaves the transaction to roll back', async () => {
    await expect(
      inTransaction(async (runner) => {
        await runner.query('SELECT 1 / $1::int AS boom', [0]);
      }),
    ).rejects.toThrow(/division by zero/);
    // A prepared statement whose batch failed before its own Parse answered is parsed again next time.
    await expect(
      inTransaction(async (_runner, client) => {
        await prepared(
          client,
          'deferred_begin_bad',
          'SELECT no_such_column, $1::int AS x FROM pg_class',
          [1],
        );
      }),
    ).rejects.toThrow(/no_such_column/);
    // The same name, now with a text that parses: pg must send its Parse, not assume the failed one took.
    const again = await inTransaction(async (_runner, client) => {
      expect(await prepared(client, 'deferred_begin_bad', 'SELECT $1::int AS x', [7])).toEqual([{ x: 7 }]);
    });
    expect(again).toBe(2);
  });

  const visibleElsewhere = async (marker: string) =>
    (await db.query<unknown[]>('SELECT 1 FROM batching_probe WHERE tag = $1', [marker])).length === 1;
  const lastInsert = (client: PoolClient, marker: string) =>
    (client as unknown as TransactionBatchingClient).queryThenCommit({
      name: 'batching_probe_insert',
      text: 'INSERT INTO batching_probe (tag) VALUES ($1) RETURNING tag',
      values: [marker],
    });

  it('sends COMMIT with the last statement: committed when it answers, before the transaction’s own COMMIT', async () => {
    const marker = `last-${Date.now()}`;
    let seen: boolean | null = null;
    const trips = await inTransaction(async (runner, client) => {
      await runner.query('SELECT txid_current() WHERE $1::int = 1', [1]);
      const result = await lastInsert(client, marker);
      expect(result.rows).toEqual([{ tag: marker }]);
      seen = await visibleElsewhere(marker);
    });
    expect(seen).toBe(true);
    expect(trips).toBe(2); // BEGIN + first statement, last statement + COMMIT; the COMMIT call sends nothing
  });

  it('sends BEGIN, the statement and COMMIT in one round trip when the first statement is also the last', async () => {
    const marker = `only-${Date.now()}`;
    const trips = await inTransaction(async (_runner, client) => {
      await lastInsert(client, marker);
    });
    expect(trips).toBe(1);
    expect(await visibleElsewhere(marker)).toBe(true);
  });

  it('refuses any statement after the last one, and keeps what the COMMIT committed', async () => {
    const marker = `after-${Date.now()}`;
    await expect(
      inTransaction(async (runner, client) => {
        await lastInsert(client, marker);
        await runner.query('SELECT $1::int AS x', [1]);
      }),
    ).rejects.toThrow(/already committed/);
    expect(await visibleElsewhere(marker)).toBe(true);
    // Refused for as long as the transaction lasts, not just once: none of them runs outside it.
    const late = `late-${Date.now()}`;
    await inTransaction(async (runner, client) => {
      await lastInsert(client, `${late}-last`);
      for (const n of [1, 2]) {
        await expect(
          runner.query('INSERT INTO batching_probe (tag) VALUES ($1)', [`${late}-${n}`]),
        ).rejects.toThrow(/already committed/);
      }
    });
    expect(await visibleElsewhere(`${late}-1`)).toBe(false);
    expect(await visibleElsewhere(`${late}-2`)).toBe(false);
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('refuses a statement sent while the last one is still on its way (it would run after the COMMIT)', async () => {
    const marker = `concurrent-${Date.now()}`;
    await inTransaction(async (runner, client) => {
      const last = lastInsert(client, `${marker}-last`);
      const beside = runner.query('INSERT INTO batching_probe (tag) VALUES ($1)', [`${marker}-beside`]);
      await expect(beside).rejects.toThrow(/already committed/);
      await last;
    });
    expect(await visibleElsewhere(`${marker}-last`)).toBe(true);
    expect(await visibleElsewhere(`${marker}-beside`)).toBe(false);
  });

  it('commits nothing when the riding COMMIT itself fails (a deferred constraint), and says so', async () => {
    const marker = `deferred-${Date.now()}`;
    await expect(
      inTransaction(async (runner, client) => {
        await runner.query('INSERT INTO batching_deferred (tag) VALUES ($1)', [marker]);
        await (client as unknown as TransactionBatchingClient).queryThenCommit({
          text: 'INSERT INTO batching_deferred (tag) VALUES ($1)',
          values: [marker],
        });
      }),
    ).rejects.toThrow(/batching_deferred_once/);
    expect(await db.query('SELECT 1 FROM batching_deferred WHERE tag = $1', [marker])).toHaveLength(0);
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('closes, rather than lends out again, a connection handed back inside a transaction', async () => {
    const runner = db.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    const rows = (await runner.query('SELECT pg_backend_pid() AS pid WHERE $1::int = 1', [1])) as {
      pid: number;
    }[];
    const pid = rows[0]!.pid;
    await runner.release(); // neither COMMIT nor ROLLBACK: PostgreSQL still has the transaction open
    let alive = true;
    for (let i = 0; i < 50 && alive; i += 1) {
      alive = (await db.query<unknown[]>('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).length > 0;
      if (alive) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(alive).toBe(false);
  });

  it('commits nothing when the last statement fails: its COMMIT never runs, the transaction rolls back', async () => {
    const marker = `failed-${Date.now()}`;
    await expect(
      inTransaction(async (runner, client) => {
        await runner.query('INSERT INTO batching_probe (tag) VALUES ($1)', [marker]);
        await (client as unknown as TransactionBatchingClient).queryThenCommit({
          text: 'SELECT 1 / $1::int AS boom',
          values: [0],
        });
      }),
    ).rejects.toThrow(/division by zero/);
    expect(await visibleElsewhere(marker)).toBe(false);
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('never carries a pending BEGIN over to the next user of the connection', async () => {
    const marker = `carried-${Date.now()}`;
    const runner = db.createQueryRunner();
    await runner.connect();
    const client = clientOf(runner);
    await runner.startTransaction();
    expect(client.hasPendingBegin).toBe(true);
    await runner.release(); // abandoned: neither COMMIT nor ROLLBACK
    expect(client.hasPendingBegin).toBe(false);
    // Whoever gets this connection next writes outside any transaction: the row is there for everyone at once.
    const pool = (db.driver as unknown as { master: { connect(): Promise<PoolClient> } }).master;
    const next = await pool.connect();
    try {
      await next.query('INSERT INTO batching_probe (tag) VALUES ($1)', [marker]);
      expect(await db.query('SELECT 1 FROM batching_probe WHERE tag = $1', [marker])).toHaveLength(1);
    } finally {
      next.release();
    }
  });
});
