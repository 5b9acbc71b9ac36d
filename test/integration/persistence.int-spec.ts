import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createDataSource, MIGRATIONS, runMigrations } from '@lyotrace/persistence';
import type { DataSource } from 'typeorm';
import { ApiHarness } from '../support/api-harness.js';
import { migrateTestDatabase, openTestDataSource } from '../support/database.js';
import { testServices } from '../support/test-env.js';

describe('persistence', () => {
  let db: DataSource;

  beforeAll(async () => {
    await migrateTestDatabase();
    db = await openTestDataSource();
  });
  afterAll(() => db.destroy());

  it('has a schema that matches the entities exactly once migrated (no hidden synchronize)', async () => {
    const pending = await db.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('lists every migration file in MIGRATIONS (nothing committed is silently skipped)', () => {
    const dir = resolve(import.meta.dirname, '../../libs/persistence/src/migrations');
    const files = readdirSync(dir).filter((f) => /^\d+-.+\.ts$/.test(f) && !f.endsWith('.spec.ts'));
    expect(MIGRATIONS.map((m) => new m().name).sort()).toEqual(
      files
        .map(
          (f) =>
            `${f.replace(/^\d+-|\.ts$/g, '').replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase())}${f.split('-')[0]}`,
        )
        .sort(),
    );
  });

  it('applies each migration once, even when two processes migrate at the same time (advisory lock)', async () => {
    const [a, b] = [1, 2].map(() =>
      createDataSource({ databaseUrl: testServices().databaseUrl, poolSize: 2 }),
    );
    await Promise.all([a!.initialize(), b!.initialize()]);
    try {
      const results = await Promise.all([runMigrations(a!), runMigrations(b!)]);
      expect(results).toEqual([[], []]);
      const applied = await db.query<{ name: string }[]>('SELECT name FROM schema_migration ORDER BY id');
      expect(applied.map((m) => m.name)).toEqual([
        'Platform1764014400000',
        'AuditLaneHeads1764021600000',
        'Genealogy1764025200000',
        'EpcisEvents1764028800000',
        'Recalls1764032400000',
        'Custody1764036000000',
        'Readings1764039600000',
        'EpcisErrorDeclarations1764041400000',
        'TraceVialOrder1764046800000',
        'LeanStepIndexes1764050400000',
        'TraceDoseCover1764052200000',
        'AuditLaneGuard1764054000000',
      ]);
    } finally {
      await Promise.all([a!.destroy(), b!.destroy()]);
    }
  });

  it('survives the database dropping its connections: the next request reconnects, nothing crashes', async () => {
    const api = await ApiHarness.start();
    try {
      expect((await api.request('GET', '/api/health')).status).toBe(200);
      const killed = await db.query<{ ok: boolean }[]>(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'lyotrace-api' AND pid <> pg_backend_pid()`,
      );
      expect(killed.length).toBeGreaterThan(0);
      // The first query on a dead pooled connection may fail; health must recover without a restart.
      const deadline = Date.now() + 10_000;
      let status = 0;
      while (Date.now() < deadline && status !== 200) {
        status = (await api.request('GET', '/api/health')).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
    } finally {
      await api.close();
    }
  });
});
