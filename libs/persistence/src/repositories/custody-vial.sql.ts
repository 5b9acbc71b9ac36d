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
