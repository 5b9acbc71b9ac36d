import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Chain of custody: locations, shippers (SSCC) and shipments, aggregation history, custody intervals, scans
 * (idempotency), receipts, patients and doses, QA tasks, and the excursion table receipt consults. Generated
 * from the entities; the no-delete triggers and the backfill of open custody intervals by hand.
 */
export class Custody1764036000000 implements MigrationInterface {
  name = 'Custody1764036000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "shipment" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "from_site_id" uuid NOT NULL, "to_site_id" uuid NOT NULL, "state" text NOT NULL, "planned_arrival_at" TIMESTAMP WITH TIME ZONE NOT NULL, "created_by" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "dispatched_at" TIMESTAMP WITH TIME ZONE, "dispatched_by" uuid, "receipt_started_at" TIMESTAMP WITH TIME ZONE, "received_at" TIMESTAMP WITH TIME ZONE, "received_by" uuid, "receipt_result" text, "receipt_signature_id" uuid, "version" integer NOT NULL, CONSTRAINT "CHK_shipment_sites" CHECK (from_site_id <> to_site_id), CONSTRAINT "CHK_shipment_result" CHECK (receipt_result IS NULL OR receipt_result IN ('complete','with_discrepancy')), CONSTRAINT "CHK_shipment_state" CHECK (state IN ('planned','dispatched','receiving','received')), CONSTRAINT "PK_f51f635db95c534ca206bf7a0a4" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "IDX_shipment_to_site" ON "shipment"  ("to_site_id", "state")`);
    await q.query(
      `CREATE TABLE "container" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "sscc" text NOT NULL, "site_id" uuid NOT NULL, "state" text NOT NULL, "shipment_id" uuid, "created_by" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "version" integer NOT NULL, CONSTRAINT "UQ_936cb6ef068d5dd8fcf9e571eaa" UNIQUE ("sscc"), CONSTRAINT "CHK_container_state" CHECK (state IN ('open','dispatched','received')), CONSTRAINT "CHK_container_sscc" CHECK (sscc ~ '^[0-9]{18}$'), CONSTRAINT "PK_74656f796df3346fa6ec89fa727" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "IDX_container_shipment" ON "container"  ("shipment_id")`);
    await q.query(
      `CREATE TABLE "aggregation" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "container_id" uuid NOT NULL, "vial_id" uuid NOT NULL, "packed_at" TIMESTAMP WITH TIME ZONE NOT NULL, "packed_by" uuid NOT NULL, "unpacked_at" TIMESTAMP WITH TIME ZONE, "unpacked_by" uuid, CONSTRAINT "CHK_aggregation_times" CHECK (unpacked_at IS NULL OR unpacked_at >= packed_at), CONSTRAINT "PK_5cc2180d1f91d0b6ad3331d1d78" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "UQ_aggregation_vial_open" ON "aggregation"  ("vial_id") WHERE unpacked_at IS NULL`,
    );
    await q.query(`CREATE INDEX "IDX_aggregation_container" ON "aggregation"  ("container_id", "packed_at")`);
    await q.query(
      `CREATE TABLE "receipt_line" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "shipment_id" uuid NOT NULL, "vial_id" uuid NOT NULL, "outcome" text NOT NULL, "recorded_at" TIMESTAMP WITH TIME ZONE NOT NULL, "recorded_by" uuid NOT NULL, CONSTRAINT "CHK_receipt_line_outcome" CHECK (outcome IN ('received','missing','unexpected')), CONSTRAINT "PK_a3268abea941f004250ff3135de" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE UNIQUE INDEX "UQ_receipt_line_vial" ON "receipt_line"  ("shipment_id", "vial_id")`);
    await q.query(
      `CREATE TABLE "location" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "site_id" uuid NOT NULL, "code" text NOT NULL, "name" text NOT NULL, "kind" text NOT NULL, "parent_id" uuid, "min_temp_c" numeric(6,2) NOT NULL, "max_temp_c" numeric(6,2) NOT NULL, "alarm_delay_s" integer NOT NULL, "hysteresis_c" numeric(4,2) NOT NULL, "budget_s" integer, "active" boolean NOT NULL DEFAULT true, "version" integer NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_location_site_code" UNIQUE ("site_id", "code"), CONSTRAINT "CHK_location_delays" CHECK (alarm_delay_s >= 0 AND hysteresis_c >= 0 AND (budget_s IS NULL OR budget_s >= 0)), CONSTRAINT "CHK_location_range" CHECK (min_temp_c < max_temp_c), CONSTRAINT "CHK_location_kind" CHECK (kind IN ('freezer','fridge','room','shelf')), CONSTRAINT "PK_876d7bdba03c72251ec4c2dc827" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE TABLE "custody_interval" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "vial_id" uuid NOT NULL, "site_id" uuid, "location_id" uuid, "container_id" uuid, "from_at" TIMESTAMP WITH TIME ZONE NOT NULL, "to_at" TIMESTAMP WITH TIME ZONE, "step" text NOT NULL, "opened_by" uuid, CONSTRAINT "CHK_custody_interval_holder" CHECK (site_id IS NOT NULL OR container_id IS NOT NULL), CONSTRAINT "CHK_custody_interval_times" CHECK (to_at IS NULL OR to_at >= from_at), CONSTRAINT "PK_c37a7a858dd647c490019fcd9e4" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE INDEX "IDX_custody_interval_container" ON "custody_interval"  ("container_id", "from_at")`,
    );
    await q.query(
      `CREATE INDEX "IDX_custody_interval_location" ON "custody_interval"  ("location_id", "from_at")`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "UQ_custody_interval_open" ON "custody_interval"  ("vial_id") WHERE to_at IS NULL`,
    );
    await q.query(`CREATE INDEX "IDX_custody_interval_vial" ON "custody_interval"  ("vial_id", "from_at")`);
    await q.query(
      `CREATE TABLE "patient" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "site_id" uuid NOT NULL, "ref" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "UQ_patient_site_ref" UNIQUE ("site_id", "ref"), CONSTRAINT "PK_8dfa510bb29ad31ab2139fbfb99" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE TABLE "dose" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "vial_id" uuid NOT NULL, "patient_id" uuid NOT NULL, "site_id" uuid NOT NULL, "administered_at" TIMESTAMP WITH TIME ZONE NOT NULL, "volume_ml" numeric(8,3) NOT NULL, "route" text NOT NULL, "recorded_by" uuid NOT NULL, "recorded_at" TIMESTAMP WITH TIME ZONE NOT NULL, "signature_id" uuid NOT NULL, "version" integer NOT NULL, CONSTRAINT "UQ_68b8e7caee8621d92bcd932d65e" UNIQUE ("vial_id"), CONSTRAINT "CHK_dose_volume" CHECK (volume_ml > 0), CONSTRAINT "PK_b3591f59169eb90b011b2ada007" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "IDX_dose_site" ON "dose"  ("site_id", "administered_at")`);
    await q.query(`CREATE INDEX "IDX_dose_patient" ON "dose"  ("patient_id")`);
    await q.query(
      `CREATE TABLE "dose_correction" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "dose_id" uuid NOT NULL, "old_values" jsonb NOT NULL, "new_values" jsonb NOT NULL, "reason" text NOT NULL, "corrected_by" uuid NOT NULL, "corrected_at" TIMESTAMP WITH TIME ZONE NOT NULL, "signature_id" uuid NOT NULL, CONSTRAINT "PK_58cbdf77a1492c7bf043687deed" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE INDEX "IDX_dose_correction_dose" ON "dose_correction"  ("dose_id", "corrected_at")`,
    );
    await q.query(
      `CREATE TABLE "excursion" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "location_id" uuid, "container_id" uuid, "started_at" TIMESTAMP WITH TIME ZONE NOT NULL, "ended_at" TIMESTAMP WITH TIME ZONE, "state" text NOT NULL, "severity" text NOT NULL, CONSTRAINT "CHK_excursion_state" CHECK (state IN ('open','acknowledged','under_investigation','closed')), CONSTRAINT "CHK_excursion_zone" CHECK ((location_id IS NULL) <> (container_id IS NULL)), CONSTRAINT "PK_147ab1d4f137d0f8abe9ac8c9a0" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "IDX_excursion_location" ON "excursion"  ("location_id", "state")`);
    await q.query(`CREATE INDEX "IDX_excursion_container" ON "excursion"  ("container_id", "state")`);
    await q.query(
      `CREATE TABLE "qa_task" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "kind" text NOT NULL, "site_id" uuid NOT NULL, "shipment_id" uuid, "details" jsonb NOT NULL, "state" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "CHK_qa_task_state" CHECK (state IN ('open','closed')), CONSTRAINT "PK_184f55f3a54d6dd63971cc08ef2" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "IDX_qa_task_state" ON "qa_task"  ("state", "created_at")`);
    await q.query(
      `CREATE TABLE "scan" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "idempotency_key" text NOT NULL, "request_hash" text NOT NULL, "action" text NOT NULL, "raw" text NOT NULL, "outcome" text NOT NULL, "answer" jsonb NOT NULL, "scanned_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "UQ_scan_idempotency" UNIQUE ("user_id", "idempotency_key"), CONSTRAINT "PK_9868a638d0569ba3fe3bddcef84" PRIMARY KEY ("id"))`,
    );
    await q.query(`ALTER TABLE "product" ADD "stability_budget_s" integer`);
    await q.query(`ALTER TABLE "vial" ADD "location_id" uuid`);
    await q.query(`ALTER TABLE "vial" ADD "container_id" uuid`);
    await q.query(`ALTER TABLE "vial" ADD "hold" text`);
    await q.query(`ALTER TABLE "vial" ADD "hold_reason" text`);
    await q.query(`ALTER TABLE "vial" ADD "exposure_out_of_range_s" integer NOT NULL DEFAULT '0'`);
    await q.query(
      `ALTER TABLE "vial" ADD CONSTRAINT "CHK_vial_hold" CHECK (hold IS NULL OR hold IN ('quarantine','under_investigation'))`,
    );
    await q.query(
      `ALTER TABLE "shipment" ADD CONSTRAINT "FK_037497abdd6f200be9640a481a0" FOREIGN KEY ("from_site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "shipment" ADD CONSTRAINT "FK_7151eb1a63be526ef9a2ad09d9c" FOREIGN KEY ("to_site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "shipment" ADD CONSTRAINT "FK_6da8a5df89a6104af8d18aedd69" FOREIGN KEY ("created_by") REFERENCES "app_user"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "shipment" ADD CONSTRAINT "FK_46396c211913676300911d2dfd9" FOREIGN KEY ("receipt_signature_id") REFERENCES "electronic_signature"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "container" ADD CONSTRAINT "FK_0f9a9502b6c51c50d28c6ab254a" FOREIGN KEY ("site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "container" ADD CONSTRAINT "FK_3e2a5ff01e191321609ee187483" FOREIGN KEY ("shipment_id") REFERENCES "shipment"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "container" ADD CONSTRAINT "FK_03444c0c0e3d845baaa3ee9f85a" FOREIGN KEY ("created_by") REFERENCES "app_user"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "aggregation" ADD CONSTRAINT "FK_5c6308e5a3b22129c1b6176da0e" FOREIGN KEY ("container_id") REFERENCES "container"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "aggregation" ADD CONSTRAINT "FK_7271bc5aa0b17eb423c749e664f" FOREIGN KEY ("vial_id") REFERENCES "vial"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "receipt_line" ADD CONSTRAINT "FK_c6a9b2528ef210cf5222c3f2a64" FOREIGN KEY ("shipment_id") REFERENCES "shipment"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "receipt_line" ADD CONSTRAINT "FK_35592953af13c2a99b5e4e1eef6" FOREIGN KEY ("vial_id") REFERENCES "vial"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "location" ADD CONSTRAINT "FK_3126f84fb97af9aaaf634257b0f" FOREIGN KEY ("site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "location" ADD CONSTRAINT "FK_92137b1457c0969fe2d20a9faff" FOREIGN KEY ("parent_id") REFERENCES "location"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "vial" ADD CONSTRAINT "FK_7f9e914d0c38150eef9b8fb99e6" FOREIGN KEY ("location_id") REFERENCES "location"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "vial" ADD CONSTRAINT "FK_bf5ab5a587a5b1c858ced04e442" FOREIGN KEY ("container_id") REFERENCES "container"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "custody_interval" ADD CONSTRAINT "FK_d76452ebe3db4ab37677d7dbb73" FOREIGN KEY ("vial_id") REFERENCES "vial"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "custody_interval" ADD CONSTRAINT "FK_fdc4869bd7f50900acea88a3bdd" FOREIGN KEY ("site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "custody_interval" ADD CONSTRAINT "FK_1e2967b94428dc2320f39486b90" FOREIGN KEY ("location_id") REFERENCES "location"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "custody_interval" ADD CONSTRAINT "FK_4f1e83a89ed3979e41d02e3ace3" FOREIGN KEY ("container_id") REFERENCES "container"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "patient" ADD CONSTRAINT "FK_a81e7d5977760a459c89c311299" FOREIGN KEY ("site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "dose" ADD CONSTRAINT "FK_68b8e7caee8621d92bcd932d65e" FOREIGN KEY ("vial_id") REFERENCES "vial"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "dose" ADD CONSTRAINT "FK_644f135a5efa728cfe636fa0f44" FOREIGN KEY ("patient_id") REFERENCES "patient"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "dose" ADD CONSTRAINT "FK_957f8627864873b98eeb618a518" FOREIGN KEY ("site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "dose" ADD CONSTRAINT "FK_e574a2e9ee761da06546b6e03ca" FOREIGN KEY ("recorded_by") REFERENCES "app_user"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "dose" ADD CONSTRAINT "FK_c743f32b9ba81503a7078c3c07b" FOREIGN KEY ("signature_id") REFERENCES "electronic_signature"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "dose_correction" ADD CONSTRAINT "FK_cc52f2bd2b45d641617747e844a" FOREIGN KEY ("dose_id") REFERENCES "dose"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "dose_correction" ADD CONSTRAINT "FK_ce0660d40c3b141b167cb2daaf9" FOREIGN KEY ("signature_id") REFERENCES "electronic_signature"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "excursion" ADD CONSTRAINT "FK_74b7e4a8afb882ed694940e7f0b" FOREIGN KEY ("location_id") REFERENCES "location"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "excursion" ADD CONSTRAINT "FK_d44ed1423bcf449ec5b2a4c6ba9" FOREIGN KEY ("container_id") REFERENCES "container"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "qa_task" ADD CONSTRAINT "FK_bef14e85aafcc90772644d8eaa9" FOREIGN KEY ("site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "qa_task" ADD CONSTRAINT "FK_931270c519b6bdfc7083967ed09" FOREIGN KEY ("shipment_id") REFERENCES "shipment"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "scan" ADD CONSTRAINT "FK_6c0a024e7bd84a2c69bd49ad3fd" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    // Vials commissioned before this migration: their first custody interval, at the commissioning site.
    await q.query(
      `INSERT INTO custody_interval (vial_id, site_id, from_at, step, opened_by)
       SELECT id, holder_site_id, commissioned_at, 'commission', NULL FROM vial`,
    );
    // EU GDP 5.5 / 21 CFR 11.10(e): custody, packing, receipt, scan and dose records are never deleted.
    for (const table of [
      'custody_interval',
      'aggregation',
      'receipt_line',
      'scan',
      'patient',
      'dose',
      'dose_correction',
      'shipment',
      'container',
      'location',
      'qa_task',
      'excursion',
    ]) {
      await q.query(
        `CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION lyotrace_refuse_change()`,
      );
      await q.query(
        `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION lyotrace_refuse_change()`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'scan',
      'qa_task',
      'excursion',
      'dose_correction',
      'dose',
      'patient',
      'custody_interval',
      'receipt_line',
      'aggregation',
    ]) {
      await q.query(`DROP TABLE IF EXISTS "${table}" CASCADE`);
    }
    for (const column of ['location_id', 'container_id', 'hold', 'hold_reason', 'exposure_out_of_range_s']) {
      await q.query(`ALTER TABLE "vial" DROP COLUMN IF EXISTS "${column}"`);
    }
    await q.query(`ALTER TABLE "vial" DROP CONSTRAINT IF EXISTS "CHK_vial_hold"`);
    await q.query(`ALTER TABLE "product" DROP COLUMN IF EXISTS "stability_budget_s"`);
    for (const table of ['container', 'shipment', 'location']) {
      await q.query(`DROP TABLE IF EXISTS "${table}" CASCADE`);
    }
  }
}
