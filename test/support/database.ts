import { createDataSource, runMigrations } from '@lyotrace/persistence';
import type { DataSource } from 'typeorm';
import { testServices } from './test-env.js';

/** Applies the real migrations to the test database (idempotent, under the migration advisory lock). */
export async function migrateTestDatabase(): Promise<void> {
  const ds = createDataSource({ databaseUrl: testServices().databaseUrl, poolSize: 2 });
  await ds.initialize();
  try {
    await runMigrations(ds);
  } finally {
    await ds.destroy();
  }
}

/** A raw connection for assertions and for what a test must do behind the application's back. */
export async function openTestDataSource(): Promise<DataSource> {
  const ds = createDataSource({
    databaseUrl: testServices().databaseUrl,
    poolSize: 4,
    applicationName: 'lyotrace-test',
  });
  await ds.initialize();
  return ds;
}
