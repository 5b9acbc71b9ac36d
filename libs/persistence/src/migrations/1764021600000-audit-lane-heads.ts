import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each audit-chain verification records the lanes' heads, so the next one can tell that rows were cut
 * off the end of a lane (which leaves a shorter but internally valid chain). Generated from the entity.
 */
export class AuditLaneHeads1764021600000 implements MigrationInterface {
  name = 'AuditLaneHeads1764021600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "audit_verification" ADD "lane_heads" jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "audit_verification" DROP COLUMN "lane_heads"`);
  }
}
