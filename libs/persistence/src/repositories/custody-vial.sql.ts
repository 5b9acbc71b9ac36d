import type { StatementParams } from '../prepared-statement.js';
import type { CustodyHolder, VialChange } from './custody.repository.js';

/**
 * The read of a vial as CustodyVialRow (custody.repository.ts): its columns and joins, for the statements that
 * read one vial and those that read a set. Kept in its own module so that both repositories build on one text.
 */
export const CUSTODY_VIAL_COLUMNS = `
  SELECT v.id, v.lot_id, l.code AS lot_code, l.status AS lot_status, v.gtin, v.serial, v.expiry, v.state,
         v.holder_site_id, s.code AS holder_site_code, s.kind AS holder_site_kind, s.timezone,
         v.location_id, loc.code AS location_code, v.container_id, c.sscc, c.shipment_id,
         v.hold, v.recall_id, v.exposure_out_of_range_s, p.stability_budget_s, p.single_use,
         (SELECT ci.step FROM custody_interval ci WHERE ci.vial_id = v.id AND ci.to_at IS NULL) AS open_step`;
export const CUSTODY_VIAL_FROM = `
    FROM vial v
    JOIN lot l ON l.id = v.lot_id
    JOIN product p ON p.id = l.product_id
    JOIN site s ON s.id = v.holder_site_id
    LEFT JOIN location loc ON loc.id = v.location_id
    LEFT JOIN container c ON c.id = v.container_id`;

/**
 * The statement that moves vials (custody.repository moveVial, one; custody-batch moveVials, a set): each open
 * custody interval closed at `at`, the next one opened at `to` (none when the vial leaves custody), the holder and
 * `change` mirrored on the vial row (EU GDP 5.5: one place at any time, the history complete). As CTEs plus the
 * UPDATE of the vials, so that other writes can join the same statement.
 */
export function moveVialsSql(
  p: StatementParams,
  vialIds: readonly string[],
  to: CustodyHolder | null,
  at: Date,
  step: string,
  openedBy: string | null,
  change: VialChange,
): { ctes: string[]; update: string } {
  const ids = p.add([...new Set(vialIds)], 'uuid[]');
  const when = p.add(at, 'timestamptz');
  const locationId = p.add(to?.locationId ?? null, 'uuid');
  const containerId = p.add(to?.containerId ?? null, 'uuid');
  // The closes run before the opens (one open interval per vial is a unique index): the INSERT reads the
  // UPDATE's result, which makes PostgreSQL finish the UPDATE first.
  const ctes = [
    `closed AS (UPDATE custody_interval SET to_at = ${when} WHERE vial_id = ANY(${ids}) AND to_at IS NULL RETURNING 1)`,
  ];
  if (to) {
    ctes.push(
      `opened AS (INSERT INTO custody_interval (vial_id, site_id, location_id, container_id, from_at, step, opened_by)
         SELECT moving.id, ${p.add(to.siteId, 'uuid')}, ${locationId}, ${containerId}, ${when},
                ${p.add(step, 'text')}, ${p.add(openedBy, 'uuid')}
           FROM unnest(${ids}) AS moving(id), (SELECT count(*) FROM closed) AS after_close)`,
    );
  }
  const sets = [`location_id = ${locationId}`, `container_id = ${containerId}`, 'version = version + 1'];
  if (change.state !== undefined) sets.push(`state = ${p.add(change.state, 'text')}`);
  if (change.holderSiteId !== undefined) sets.push(`holder_site_id = ${p.add(change.holderSiteId, 'uuid')}`);
  if (change.hold !== undefined) sets.push(`hold = ${p.add(change.hold, 'text')}`);
  if (change.holdReason !== undefined) sets.push(`hold_reason = ${p.add(change.holdReason, 'text')}`);
  return { ctes, update: `UPDATE vial SET ${sets.join(', ')} WHERE id = ANY(${ids})` };
}
