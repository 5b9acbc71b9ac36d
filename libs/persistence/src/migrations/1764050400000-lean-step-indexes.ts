import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every custody step writes two custody intervals and one EPCIS event: index entries that no query can use are
 * pure cost on that path. A custody interval is held either at a location or in a shipper (rarely both), so
 * each of those indexes keeps only the rows that have one; an EPCIS event has inputs and outputs only when it is
 * a transformation, so those GIN indexes keep only such events. A query can still use them: a comparison with a
 * location or container (`location_id = $1`) implies IS NOT NULL, and the EPCIS query adds `cardinality(…) > 0`.
 */
export class LeanStepIndexes1764050400000 implements MigrationInterface {
  name = 'LeanStepIndexes1764050400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "IDX_custody_interval_location"`);
    await q.query(
      `CREATE INDEX "IDX_custody_interval_location" ON "custody_interval" ("location_id", "from_at") WHERE location_id IS NOT NULL`,
    );
    await q.query(`DROP INDEX "IDX_custody_interval_container"`);
    await q.query(
      `CREATE INDEX "IDX_custody_interval_container" ON "custody_interval" ("container_id", "from_at") WHERE container_id IS NOT NULL`,
    );
    await q.query(`DROP INDEX "IDX_epcis_event_inputs"`);
    await q.query(
      `CREATE INDEX "IDX_epcis_event_inputs" ON "epcis_event" USING gin ("input_epcs") WHERE cardinality(input_epcs) > 0`,
    );
    await q.query(`DROP INDEX "IDX_epcis_event_outputs"`);
    await q.query(
      `CREATE INDEX "IDX_epcis_event_outputs" ON "epcis_event" USING gin ("output_epcs") WHERE cardinality(output_epcs) > 0`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "IDX_epcis_event_outputs"`);
    await q.query(`CREATE INDEX "IDX_epcis_event_outputs" ON "epcis_event" USING gin ("output_epcs")`);
    await q.query(`DROP INDEX "IDX_epcis_event_inputs"`);
    await q.query(`CREATE INDEX "IDX_epcis_event_inputs" ON "epcis_event" USING gin ("input_epcs")`);
    await q.query(`DROP INDEX "IDX_custody_interval_container"`);
    await q.query(
      `CREATE INDEX "IDX_custody_interval_container" ON "custody_interval" ("container_id", "from_at")`,
    );
    await q.query(`DROP INDEX "IDX_custody_interval_location"`);
    await q.query(
      `CREATE INDEX "IDX_custody_interval_location" ON "custody_interval" ("location_id", "from_at")`,
    );
  }
}
