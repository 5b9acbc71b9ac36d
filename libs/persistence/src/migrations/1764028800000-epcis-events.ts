import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The EPCIS 2.0 event store. Table and btree indexes generated from the entity; the GIN indexes on the
 * identifier arrays (what MATCH_* queries use) and the append-only triggers added by hand.
 */
export class EpcisEvents1764028800000 implements MigrationInterface {
  name = 'EpcisEvents1764028800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "epcis_event" ("id" BIGSERIAL NOT NULL, "event_id" text NOT NULL, "event_type" text NOT NULL, "biz_step" text NOT NULL, "event_time" TIMESTAMP WITH TIME ZONE NOT NULL, "record_time" TIMESTAMP WITH TIME ZONE NOT NULL, "epcs" text array NOT NULL, "input_epcs" text array NOT NULL, "output_epcs" text array NOT NULL, "event" jsonb NOT NULL, CONSTRAINT "UQ_002cb64658fce730df000df1e84" UNIQUE ("event_id"), CONSTRAINT "PK_076acdfc7309b86abf1af60b3b2" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "IDX_epcis_event_biz_step" ON "epcis_event" ("biz_step")`);
    await q.query(`CREATE INDEX "IDX_epcis_event_time" ON "epcis_event" ("event_time", "id")`);
    await q.query(`CREATE INDEX "IDX_epcis_event_epcs" ON "epcis_event" USING gin ("epcs")`);
    await q.query(`CREATE INDEX "IDX_epcis_event_inputs" ON "epcis_event" USING gin ("input_epcs")`);
    await q.query(`CREATE INDEX "IDX_epcis_event_outputs" ON "epcis_event" USING gin ("output_epcs")`);
    // EPCIS events are never changed: a wrong one is answered by an error declaration and corrective events.
    await q.query(
      `CREATE TRIGGER epcis_event_append_only BEFORE UPDATE OR DELETE ON epcis_event FOR EACH ROW EXECUTE FUNCTION lyotrace_refuse_change()`,
    );
    await q.query(
      `CREATE TRIGGER epcis_event_no_truncate BEFORE TRUNCATE ON epcis_event FOR EACH STATEMENT EXECUTE FUNCTION lyotrace_refuse_change()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS "epcis_event" CASCADE`);
  }
}
