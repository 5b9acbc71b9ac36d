import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A function that fails the statement calling it with SQLSTATE LY001. The audit trail's one-round-trip append
 * (AuditLog, on a lane head this process remembers) calls it when its event was not written because the lane
 * moved on: a statement that carries its transaction's COMMIT must fail rather than let the COMMIT through
 * without the audit event (21 CFR 11.10(e)). Written by hand (PL/pgSQL).
 */
export class AuditLaneGuard1764054000000 implements MigrationInterface {
  name = 'AuditLaneGuard1764054000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION lyotrace_audit_lane_moved() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        RAISE EXCEPTION 'audit lane moved on: the event was not written' USING ERRCODE = 'LY001';
      END
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION lyotrace_audit_lane_moved()`);
  }
}
