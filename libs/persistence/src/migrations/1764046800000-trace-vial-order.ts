import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Vials indexed by (lot, serial) instead of lot alone: every forward trace lists a lot's vials in that order, and
 * the index now yields them in it, so neither a page nor the million-vial stream sorts (the sort took longer
 * than reading the vials). It still serves every lookup by lot. Written by hand.
 */
export class TraceVialOrder1764046800000 implements MigrationInterface {
  name = 'TraceVialOrder1764046800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX "IDX_vial_lot_serial" ON "vial" ("lot_id", "serial")`);
    await q.query(`DROP INDEX "IDX_vial_lot"`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX "IDX_vial_lot" ON "vial" ("lot_id")`);
    await q.query(`DROP INDEX "IDX_vial_lot_serial"`);
  }
}
