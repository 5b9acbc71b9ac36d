import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * EPCIS 2.0 §7.4.1.2: an error declaration is the erroneous event captured again with the SAME eventID and an
 * `errorDeclaration` member. The store therefore keeps event IDs unique per kind: one original and at most one
 * declaration per eventID, instead of one row per eventID. Written by hand (partial indexes).
 */
export class EpcisErrorDeclarations1764041400000 implements MigrationInterface {
  name = 'EpcisErrorDeclarations1764041400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "epcis_event" DROP CONSTRAINT "UQ_002cb64658fce730df000df1e84"`);
    await q.query(
      `CREATE UNIQUE INDEX "UQ_epcis_event_id" ON "epcis_event" ("event_id") WHERE NOT (event ? 'errorDeclaration')`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "UQ_epcis_event_declaration" ON "epcis_event" ("event_id") WHERE event ? 'errorDeclaration'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "UQ_epcis_event_declaration"`);
    await q.query(`DROP INDEX "UQ_epcis_event_id"`);
    await q.query(
      `ALTER TABLE "epcis_event" ADD CONSTRAINT "UQ_002cb64658fce730df000df1e84" UNIQUE ("event_id")`,
    );
  }
}
