import pg from 'pg';
import { DataSource, DataSourceOptions, Logger as TypeOrmLogger } from 'typeorm';

// A SQL DATE is a calendar day, not an instant: keep it as 'YYYY-MM-DD' instead of letting pg turn it into a
// JavaScript Date at local midnight (which shifts the day in any zone west of UTC).
pg.types.setTypeParser(pg.types.builtins.DATE, (value: string) => value);
import { TransactionBatchingClient } from './transaction-batching-client.js';
import { ENTITIES } from './entities/index.js';
import { MIGRATIONS } from './migrations/index.js';

/**
 * Per-connection settings. JIT compilation costs more than the short trace queries it would speed up; SSD
 * storage makes random reads nearly as cheap as sequential ones. Exported for the benchmark's raw baseline.
 */
export const SESSION_OPTIONS = '-c jit=off -c random_page_cost=1.1';

export interface DatabaseOptions {
  databaseUrl: string;
  poolSize?: number;
  applicationName?: string;
  /** Where pool-level errors go (a dropped idle connection, a database restart). Never throws. */
  onPoolError?: (error: Error) => void;
}

/**
 * One place that says how we connect. `synchronize` is off everywhere, tests included: the schema changes
 * only through committed migrations (STYLE.md habit 8).
 */
export function dataSourceOptions(options: DatabaseOptions): DataSourceOptions {
  return {
    type: 'postgres',
    url: options.databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migration',
    synchronize: false,
    uuidExtension: 'pgcrypto',
    migrationsRun: false,
    poolSize: options.poolSize ?? 10,
    applicationName: options.applicationName ?? 'lyotrace',
    connectTimeoutMS: 5_000,
    // A pool error (e.g. PostgreSQL restarted under an idle connection) is logged and the connection is
    // dropped; the next query opens a new one. Without a handler, pg would crash the process.
    poolErrorHandler: (error: unknown) =>
      options.onPoolError?.(error instanceof Error ? error : new Error(String(error))),
    extra: {
      idleTimeoutMillis: 30_000,
      statement_timeout: 60_000,
      options: SESSION_OPTIONS,
      // BEGIN rides with each transaction's first statement, COMMIT with a statement marked last: fewer round trips.
      Client: TransactionBatchingClient,
    },
    logging: ['error', 'warn', 'migration'],
    logger: quietLogger,
  };
}

const quietLogger: TypeOrmLogger = {
  logQuery: () => undefined,
  logQueryError: () => undefined,
  logQuerySlow: () => undefined,
  logSchemaBuild: () => undefined,
  logMigration: () => undefined,
  log: () => undefined,
};

export function createDataSource(options: DatabaseOptions): DataSource {
  return new DataSource(dataSourceOptions(options));
}

/** Advisory lock key under which migrations run, so two processes never migrate at once. */
export const MIGRATION_LOCK_KEY = 0x4c590002;

/**
 * Applies pending migrations, each in its own transaction, while holding a session-level advisory lock on a
 * dedicated connection. A second migrator waits for the first, then finds nothing left to do.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const lockRunner = dataSource.createQueryRunner();
  await lockRunner.connect();
  try {
    await lockRunner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await lockRunner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await lockRunner.release();
  }
}

export async function pendingMigrations(dataSource: DataSource): Promise<boolean> {
  return dataSource.showMigrations();
}
