import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Genealogy: products, lots, transformations (inputs → outputs), the lot_edge adjacency the traces walk,
 * and serialized vials. DDL generated from the entities and read; the no-delete triggers added by hand.
 */
export class Genealogy1764025200000 implements MigrationInterface {
  name = 'Genealogy1764025200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "product" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "gtin" text NOT NULL, "name" text NOT NULL, "shelf_life_days" integer NOT NULL, "single_use" boolean NOT NULL DEFAULT true, "version" integer NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_85bd0246bfcc1b71cfff40f29b0" UNIQUE ("gtin"), CONSTRAINT "CHK_product_shelf_life" CHECK (shelf_life_days > 0), CONSTRAINT "CHK_product_gtin" CHECK (gtin ~ '^[0-9]{14}$'), CONSTRAINT "PK_bebc9158e480b949565b4dc7a82" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE TABLE "lot" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "code" text NOT NULL, "kind" text NOT NULL, "status" text NOT NULL, "product_id" uuid, "site_id" uuid NOT NULL, "quantity" numeric(18,6) NOT NULL, "remaining_quantity" numeric(18,6) NOT NULL, "unit" text NOT NULL, "expiry" date, "attributes" jsonb NOT NULL, "external_ids" jsonb NOT NULL, "recorded_by" uuid NOT NULL, "recorded_at" TIMESTAMP WITH TIME ZONE NOT NULL, "disposition_signature_id" uuid, "disposed_at" TIMESTAMP WITH TIME ZONE, "version" integer NOT NULL, CONSTRAINT "UQ_faa4ae0540ad6b7e3221877b446" UNIQUE ("code"), CONSTRAINT "CHK_lot_finished" CHECK (kind NOT IN ('finished_lot','loaded_ev_lot') OR (product_id IS NOT NULL AND expiry IS NOT NULL)), CONSTRAINT "CHK_lot_status" CHECK (status IN ('active','pending_release','released','rejected')), CONSTRAINT "CHK_lot_quantities" CHECK (quantity >= 0 AND remaining_quantity >= 0 AND remaining_quantity <= quantity), CONSTRAINT "PK_2ba293e2165c7b93cd766c8ac9b" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "IDX_lot_kind" ON "lot"  ("kind") `);
    await q.query(
      `CREATE TABLE "transformation" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "site_id" uuid NOT NULL, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL, "operator_id" uuid NOT NULL, "recorded_at" TIMESTAMP WITH TIME ZONE NOT NULL, "note" text, "declared_in_error_at" TIMESTAMP WITH TIME ZONE, "error_reason" text, CONSTRAINT "PK_316e45255f41ca2f050a14ac900" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE TABLE "transformation_input" ("transformation_id" uuid NOT NULL, "lot_id" uuid NOT NULL, "quantity" numeric(18,6) NOT NULL, "unit" text NOT NULL, CONSTRAINT "PK_cdae6ee2c33684e24177d58c80c" PRIMARY KEY ("transformation_id", "lot_id"))`,
    );
    await q.query(`CREATE INDEX "IDX_transformation_input_lot" ON "transformation_input"  ("lot_id") `);
    await q.query(
      `CREATE TABLE "transformation_output" ("transformation_id" uuid NOT NULL, "lot_id" uuid NOT NULL, "quantity" numeric(18,6) NOT NULL, "unit" text NOT NULL, CONSTRAINT "PK_b181cef959edfc0239b72abff7a" PRIMARY KEY ("transformation_id", "lot_id"))`,
    );
    await q.query(`CREATE INDEX "IDX_transformation_output_lot" ON "transformation_output"  ("lot_id") `);
    await q.query(
      `CREATE TABLE "lot_edge" ("parent_lot_id" uuid NOT NULL, "child_lot_id" uuid NOT NULL, "transformation_id" uuid NOT NULL, "valid" boolean NOT NULL DEFAULT true, CONSTRAINT "PK_1e2deae40da3a5a180815a23721" PRIMARY KEY ("parent_lot_id", "child_lot_id", "transformation_id"))`,
    );
    await q.query(`CREATE INDEX "IDX_lot_edge_child" ON "lot_edge"  ("child_lot_id", "parent_lot_id") `);
    await q.query(
      `CREATE TABLE "vial" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "lot_id" uuid NOT NULL, "gtin" text NOT NULL, "serial" text NOT NULL, "expiry" date NOT NULL, "state" text NOT NULL, "holder_site_id" uuid NOT NULL, "commissioned_at" TIMESTAMP WITH TIME ZONE NOT NULL, "recall_id" uuid, "version" integer NOT NULL, CONSTRAINT "UQ_vial_gtin_serial" UNIQUE ("gtin", "serial"), CONSTRAINT "CHK_vial_state" CHECK (state IN ('in_stock','in_transit','at_clinic','dispensed','destroyed','sample')), CONSTRAINT "PK_0f2261997711188b56316a8d1e4" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "IDX_vial_holder" ON "vial"  ("holder_site_id") `);
    await q.query(`CREATE INDEX "IDX_vial_lot" ON "vial"  ("lot_id") `);
    await q.query(
      `ALTER TABLE "lot" ADD CONSTRAINT "FK_e79764f0f61ae488d54f3170923" FOREIGN KEY ("product_id") REFERENCES "product"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "lot" ADD CONSTRAINT "FK_5e571d1e7b8f06376024b56c38b" FOREIGN KEY ("site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "lot" ADD CONSTRAINT "FK_affdcfe8bb8ef53a7b010f7c3b1" FOREIGN KEY ("recorded_by") REFERENCES "app_user"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "transformation" ADD CONSTRAINT "FK_70bd16b0b8483401af68a23d6c0" FOREIGN KEY ("site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "transformation" ADD CONSTRAINT "FK_c190335524d8b04d0f0ffd9d075" FOREIGN KEY ("operator_id") REFERENCES "app_user"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "transformation_input" ADD CONSTRAINT "FK_bcd86907534dea34e02ea587f14" FOREIGN KEY ("transformation_id") REFERENCES "transformation"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "transformation_input" ADD CONSTRAINT "FK_b43a22c35727f0b005891a44811" FOREIGN KEY ("lot_id") REFERENCES "lot"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "transformation_output" ADD CONSTRAINT "FK_2ac95435baed8457a86c17ef2aa" FOREIGN KEY ("transformation_id") REFERENCES "transformation"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "transformation_output" ADD CONSTRAINT "FK_11cea4a49cf11f8aab129dd8422" FOREIGN KEY ("lot_id") REFERENCES "lot"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "lot_edge" ADD CONSTRAINT "FK_e4a2b6ea3560d1b8534c2a3df21" FOREIGN KEY ("parent_lot_id") REFERENCES "lot"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "lot_edge" ADD CONSTRAINT "FK_6e06cac1fd9c2afff35bfede7c7" FOREIGN KEY ("child_lot_id") REFERENCES "lot"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "lot_edge" ADD CONSTRAINT "FK_f8c03c5489b0365425f55c535b3" FOREIGN KEY ("transformation_id") REFERENCES "transformation"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "vial" ADD CONSTRAINT "FK_96bed42b30876f098980ec8cc3a" FOREIGN KEY ("lot_id") REFERENCES "lot"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "vial" ADD CONSTRAINT "FK_645d6700d36ccbe0ad35eb9c2c1" FOREIGN KEY ("holder_site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );

    // Production records are corrected, never deleted (EU GMP Ch. 4 §4.9; EPCIS errorDeclaration).
    for (const table of [
      'product',
      'lot',
      'transformation',
      'transformation_input',
      'transformation_output',
      'lot_edge',
      'vial',
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
      'vial',
      'lot_edge',
      'transformation_output',
      'transformation_input',
      'transformation',
      'lot',
      'product',
    ]) {
      await q.query(`DROP TABLE IF EXISTS "${table}" CASCADE`);
    }
  }
}
