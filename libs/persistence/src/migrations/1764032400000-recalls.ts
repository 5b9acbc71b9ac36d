import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Recalls and their per-vial reconciliation items. Generated from the entities; no-delete triggers by hand. */
export class Recalls1764032400000 implements MigrationInterface {
  name = 'Recalls1764032400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "recall" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "scope_lot_id" uuid NOT NULL, "reason" text NOT NULL, "status" text NOT NULL, "opened_by" uuid NOT NULL, "opened_at" TIMESTAMP WITH TIME ZONE NOT NULL, "open_signature_id" uuid NOT NULL, "propagated_at" TIMESTAMP WITH TIME ZONE, "closed_at" TIMESTAMP WITH TIME ZONE, "close_signature_id" uuid, "version" integer NOT NULL, CONSTRAINT "CHK_recall_status" CHECK (status IN ('open','closed')), CONSTRAINT "PK_93db2feecc1f9bbf8c9fdd6d744" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE TABLE "recall_item" ("recall_id" uuid NOT NULL, "vial_id" uuid NOT NULL, "holder_site_id" uuid NOT NULL, "state_at_recall" text NOT NULL, "final_state" text, "resolved_at" TIMESTAMP WITH TIME ZONE, "resolved_by" uuid, CONSTRAINT "CHK_recall_item_final" CHECK (final_state IS NULL OR final_state IN ('returned','destroyed','dispensed')), CONSTRAINT "PK_b1ffb921c3034b264bb4c5a6daf" PRIMARY KEY ("recall_id", "vial_id"))`,
    );
    await q.query(`CREATE INDEX "IDX_recall_item_holder" ON "recall_item"  ("recall_id", "holder_site_id") `);
    await q.query(
      `ALTER TABLE "recall" ADD CONSTRAINT "FK_7c010afb982c1c778e21290f417" FOREIGN KEY ("scope_lot_id") REFERENCES "lot"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "recall_item" ADD CONSTRAINT "FK_b79935e8398f9625a9060069f58" FOREIGN KEY ("recall_id") REFERENCES "recall"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "recall_item" ADD CONSTRAINT "FK_41223efca6182a5137eb7ce7403" FOREIGN KEY ("vial_id") REFERENCES "vial"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "recall_item" ADD CONSTRAINT "FK_04e4fcac508a3dd3d48f044bff5" FOREIGN KEY ("holder_site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    for (const table of ['recall', 'recall_item']) {
      await q.query(
        `CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION lyotrace_refuse_change()`,
      );
      await q.query(
        `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION lyotrace_refuse_change()`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS "recall_item" CASCADE`);
    await q.query(`DROP TABLE IF EXISTS "recall" CASCADE`);
  }
}
