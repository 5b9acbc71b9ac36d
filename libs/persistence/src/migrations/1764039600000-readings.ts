import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Loggers, their assignments to places over time, readings (deduplicated on the device's record identity),
 * sequence gaps, the ingest provenance log and the evaluation outbox. Generated from the entities; the
 * extension, the statement-level reading check and the append-only / no-delete triggers by hand.
 */
export class Readings1764039600000 implements MigrationInterface {
  name = 'Readings1764039600000';

  async up(q: QueryRunner): Promise<void> {
    // uuid equality inside a GiST exclusion constraint (a logger is in one place at a time).
    await q.query(`CREATE EXTENSION IF NOT EXISTS btree_gist`);
    await q.query(
      `CREATE TABLE "logger" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "protocol" text NOT NULL, "serial" text NOT NULL, "model" text NOT NULL, "firmware" text, "calibration_due" date, "site_id" uuid NOT NULL, "registration" text NOT NULL, "approved_at" TIMESTAMP WITH TIME ZONE, "approved_by" uuid, "version" integer NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_logger_protocol_serial" UNIQUE ("protocol", "serial"), CONSTRAINT "CHK_logger_approval" CHECK ((approved_at IS NULL) = (approved_by IS NULL)), CONSTRAINT "CHK_logger_registration" CHECK (registration IN ('admin','auto')), CONSTRAINT "CHK_logger_protocol" CHECK (protocol IN ('lyotrace-native','elitech-rc','modbus-rtu')), CONSTRAINT "PK_46cad7e44f77ea2fa7da01e7828" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE TABLE "logger_assignment" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "logger_id" uuid NOT NULL, "location_id" uuid, "container_id" uuid, "valid_from" TIMESTAMP WITH TIME ZONE NOT NULL, "valid_to" TIMESTAMP WITH TIME ZONE, "assigned_by" uuid, "assigned_at" TIMESTAMP WITH TIME ZONE NOT NULL, "ended_by" uuid, "ended_at" TIMESTAMP WITH TIME ZONE, "version" integer NOT NULL, CONSTRAINT "CHK_logger_assignment_period" CHECK (valid_to IS NULL OR valid_to > valid_from), CONSTRAINT "CHK_logger_assignment_place" CHECK ((location_id IS NULL) <> (container_id IS NULL)), CONSTRAINT "XCL_logger_assignment_overlap" EXCLUDE USING gist ("logger_id" WITH =, tstzrange("valid_from", "valid_to", '[)') WITH &&), CONSTRAINT "PK_c313aee6df21043e50800628b60" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE INDEX "IDX_logger_assignment_container" ON "logger_assignment"  ("container_id", "valid_from") `,
    );
    await q.query(
      `CREATE INDEX "IDX_logger_assignment_location" ON "logger_assignment"  ("location_id", "valid_from") `,
    );
    await q.query(
      `CREATE TABLE "reading_stream" ("id" BIGSERIAL NOT NULL, "logger_id" uuid NOT NULL, "mission" text NOT NULL, "min_seq" bigint, "max_seq" bigint, "highest_contiguous_seq" bigint, "last_received_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "UQ_reading_stream_id_logger" UNIQUE ("id", "logger_id"), CONSTRAINT "UQ_reading_stream_logger_mission" UNIQUE ("logger_id", "mission"), CONSTRAINT "PK_6e7500211c036aebf6b0d5dc359" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE TABLE "reading" ("stream_id" bigint NOT NULL, "seq" bigint NOT NULL, "logger_id" uuid NOT NULL, "time" TIMESTAMP WITH TIME ZONE NOT NULL, "device_time" TIMESTAMP WITH TIME ZONE NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "skew_ms" bigint NOT NULL, "temperature_c" double precision, "humidity_pct" double precision, "flags" text array NOT NULL DEFAULT '{}', CONSTRAINT "CHK_reading_humidity" CHECK (humidity_pct IS NULL OR humidity_pct BETWEEN 0 AND 100), CONSTRAINT "CHK_reading_flags" CHECK (flags <@ ARRAY['sensor_fault','clock_skew','clock_corrected','uncalibrated']::text[]), CONSTRAINT "PK_caf3cf9ce890ad3cd95aac534c5" PRIMARY KEY ("stream_id", "seq"))`,
    );
    await q.query(`CREATE INDEX "IDX_reading_logger_time" ON "reading"  ("logger_id", "time") `);
    await q.query(
      `CREATE TABLE "reading_gap" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "stream_id" bigint NOT NULL, "logger_id" uuid NOT NULL, "from_seq" bigint NOT NULL, "to_seq" bigint NOT NULL, "after_time" TIMESTAMP WITH TIME ZONE, "before_time" TIMESTAMP WITH TIME ZONE, "detected_at" TIMESTAMP WITH TIME ZONE NOT NULL, "parent_id" uuid, "closed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "CHK_reading_gap_range" CHECK (from_seq <= to_seq), CONSTRAINT "PK_bdaff28587974325beb5f233e47" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "IDX_reading_gap_logger" ON "reading_gap"  ("logger_id", "detected_at") `);
    await q.query(
      `CREATE INDEX "IDX_reading_gap_open" ON "reading_gap"  ("stream_id", "from_seq") WHERE closed_at IS NULL`,
    );
    await q.query(
      `CREATE TABLE "ingest_batch" ("id" BIGSERIAL NOT NULL, "batch_id" uuid NOT NULL, "bridge_credential_id" uuid NOT NULL, "bridge_site_id" uuid NOT NULL, "logger_id" uuid NOT NULL, "stream_id" bigint NOT NULL, "live" boolean NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "record_count" integer NOT NULL, "accepted" integer NOT NULL, "duplicates" integer NOT NULL, CONSTRAINT "PK_947b9fcde724ad157308381289c" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "IDX_ingest_batch_batch_id" ON "ingest_batch"  ("batch_id") `);
    await q.query(`CREATE INDEX "IDX_ingest_batch_logger" ON "ingest_batch"  ("logger_id", "received_at") `);
    await q.query(
      `CREATE TABLE "ingest_outbox" ("id" BIGSERIAL NOT NULL, "ingest_batch_id" bigint NOT NULL, "logger_id" uuid NOT NULL, "from_time" TIMESTAMP WITH TIME ZONE NOT NULL, "to_time" TIMESTAMP WITH TIME ZONE NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "evaluated_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "CHK_ingest_outbox_window" CHECK (from_time <= to_time), CONSTRAINT "PK_922a6347d6e13abe4e7c1886d94" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE INDEX "IDX_ingest_outbox_pending" ON "ingest_outbox"  ("created_at") WHERE evaluated_at IS NULL`,
    );
    await q.query(
      `ALTER TABLE "logger" ADD CONSTRAINT "FK_74c2ca7ddc746f3fa2f31a3f3fc" FOREIGN KEY ("site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "logger" ADD CONSTRAINT "FK_adb9df811545ff5f6e35946abf9" FOREIGN KEY ("approved_by") REFERENCES "app_user"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "logger_assignment" ADD CONSTRAINT "FK_9a36b50a9fdeee9b0d6eb616b13" FOREIGN KEY ("logger_id") REFERENCES "logger"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "logger_assignment" ADD CONSTRAINT "FK_7d9887330b5a6614d0a4823eebb" FOREIGN KEY ("assigned_by") REFERENCES "app_user"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "logger_assignment" ADD CONSTRAINT "FK_dba0518c9bd78e0d85fd5d53de1" FOREIGN KEY ("ended_by") REFERENCES "app_user"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "logger_assignment" ADD CONSTRAINT "FK_a68cce5a57c6bfc81d65712f8ba" FOREIGN KEY ("location_id") REFERENCES "location"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "logger_assignment" ADD CONSTRAINT "FK_2d7ff633caef83e5a6915565574" FOREIGN KEY ("container_id") REFERENCES "container"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "reading_stream" ADD CONSTRAINT "FK_1b47cc66e98cef9d64a034680f0" FOREIGN KEY ("logger_id") REFERENCES "logger"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "reading_gap" ADD CONSTRAINT "FK_d89c76150d6535c3fa8722849d2" FOREIGN KEY ("stream_id") REFERENCES "reading_stream"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "reading_gap" ADD CONSTRAINT "FK_880cee8da3179ebc1dd21465822" FOREIGN KEY ("logger_id") REFERENCES "logger"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "reading_gap" ADD CONSTRAINT "FK_aa4e234083d9b9e124f75096f79" FOREIGN KEY ("parent_id") REFERENCES "reading_gap"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "ingest_batch" ADD CONSTRAINT "FK_b966a222bd0eacbef244a5b9439" FOREIGN KEY ("bridge_credential_id") REFERENCES "bridge_credential"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "ingest_batch" ADD CONSTRAINT "FK_aa0a637f8c755d1144b80ead4e8" FOREIGN KEY ("bridge_site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "ingest_batch" ADD CONSTRAINT "FK_642bc6e46a6dd060f24a9067646" FOREIGN KEY ("logger_id") REFERENCES "logger"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "ingest_batch" ADD CONSTRAINT "FK_401ed9b52cf8152d227a0ccf782" FOREIGN KEY ("stream_id") REFERENCES "reading_stream"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "ingest_outbox" ADD CONSTRAINT "FK_b60c434d4bcd8a32d72921edef5" FOREIGN KEY ("ingest_batch_id") REFERENCES "ingest_batch"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "ingest_outbox" ADD CONSTRAINT "FK_111e34e0f2e0feed03aac7cfb95" FOREIGN KEY ("logger_id") REFERENCES "logger"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );

    // The foreign keys of reading, checked once per INSERT statement over all its rows (one join) instead of
    // once per row: each inserted (stream_id, logger_id) must be a stream of that logger.
    await q.query(`CREATE FUNCTION lyotrace_reading_check_stream() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM inserted i WHERE NOT EXISTS (
             SELECT 1 FROM reading_stream s WHERE s.id = i.stream_id AND s.logger_id = i.logger_id)) THEN
          RAISE EXCEPTION 'reading refers to no reading_stream of its logger' USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(
      `CREATE TRIGGER reading_check_stream AFTER INSERT ON reading REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION lyotrace_reading_check_stream()`,
    );

    // EU GMP Annex 11 §9 / ALCOA+: raw readings and the record of who uploaded them are never changed or
    // removed; the other tables may be updated (approval, end of an assignment, closing a gap) but lose no row.
    for (const table of ['reading', 'ingest_batch']) {
      await q.query(
        `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION lyotrace_refuse_change()`,
      );
    }
    for (const table of ['logger', 'logger_assignment', 'reading_stream', 'reading_gap', 'ingest_outbox']) {
      await q.query(
        `CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION lyotrace_refuse_change()`,
      );
    }
    for (const table of [
      'reading',
      'ingest_batch',
      'logger',
      'logger_assignment',
      'reading_stream',
      'reading_gap',
      'ingest_outbox',
    ]) {
      await q.query(
        `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION lyotrace_refuse_change()`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'ingest_outbox',
      'ingest_batch',
      'reading_gap',
      'reading',
      'reading_stream',
      'logger_assignment',
      'logger',
    ]) {
      await q.query(`DROP TABLE IF EXISTS "${table}" CASCADE`);
    }
    await q.query(`DROP FUNCTION IF EXISTS lyotrace_reading_check_stream()`);
  }
}
