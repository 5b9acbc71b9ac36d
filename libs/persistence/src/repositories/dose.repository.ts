import type { DoseRoute } from '@lyotrace/contracts';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';

/** A dose with what a reader needs beside it: vial, lot, pseudonymous patient, clinic, recorder. */
export interface DoseRow {
  id: string;
  vial_id: string;
  gtin: string;
  serial: string;
  expiry: string;
  lot_id: string;
  lot_code: string;
  patient_id: string;
  patient_ref: string;
  site_id: string;
  site_code: string;
  /** The clinic's IANA zone (EPCIS offsets). */
  timezone: string;
  administered_at: Date;
  volume_ml: string;
  route: DoseRoute;
  recorded_by: string;
  recorder_name: string;
  recorded_at: Date;
  signature_id: string;
  version: number;
}

export interface DoseCorrectionRow {
  id: string;
  dose_id: string;
  old_values: Record<string, unknown>;
  new_values: Record<string, unknown>;
  reason: string;
  corrected_by: string;
  corrector_name: string;
  corrected_at: Date;
  signature_id: string;
}

export interface NewDose {
  id: string;
  vialId: string;
  patientId: string;
  siteId: string;
  administeredAt: Date;
  volumeMl: string;
  route: DoseRoute;
  recordedBy: string;
  recordedAt: Date;
  signatureId: string;
}

/** The columns of a dose that a correction may change. */
export interface DoseChange {
  patientId?: string;
  administeredAt?: Date;
  volumeMl?: string;
  route?: DoseRoute;
}

const DOSE_SELECT = `
  SELECT d.id, d.vial_id, v.gtin, v.serial, v.expiry, v.lot_id, l.code AS lot_code, d.patient_id,
         p.ref AS patient_ref, d.site_id, s.code AS site_code, s.timezone, d.administered_at, d.volume_ml,
         d.route, d.recorded_by, u.display_name AS recorder_name, d.recorded_at, d.signature_id, d.version
    FROM dose d
    JOIN vial v ON v.id = d.vial_id
    JOIN lot l ON l.id = v.lot_id
    JOIN patient p ON p.id = d.patient_id
    JOIN site s ON s.id = d.site_id
    JOIN app_user u ON u.id = d.recorded_by`;

/** The unique index that makes a vial dosed once, whatever the service missed (migration 1764036000000). */
const DOSE_VIAL_UNIQUE = 'UQ_68b8e7caee8621d92bcd932d65e';

/** Doses, their patients and corrections. Reads take the reader's sites (null: all) into the WHERE clause. */
export class DoseRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** True when the error is the database refusing a second dose of one vial. */
  static isSecondDose(error: unknown): boolean {
    const driver =
      error instanceof QueryFailedError
        ? (error.driverError as { code?: string; constraint?: string })
        : null;
    return driver?.code === '23505' && driver.constraint === DOSE_VIAL_UNIQUE;
  }

  async isDosed(manager: EntityManager, vialId: string): Promise<boolean> {
    const rows = await manager.query<unknown[]>(`SELECT 1 FROM dose WHERE vial_id = $1`, [vialId]);
    return rows.length > 0;
  }

  /** Since when the vial is in the custody it is in now (null: none open). */
  async openCustodySince(manager: EntityManager, vialId: string): Promise<Date | null> {
    const rows = await manager.query<{ from_at: Date }[]>(
      `SELECT from_at FROM custody_interval WHERE vial_id = $1 AND to_at IS NULL`,
      [vialId],
    );
    return rows[0]?.from_at ?? null;
  }

  /** The start of the custody interval a dose closed (it ended at the time of administration). */
  async custodyClosedAt(manager: EntityManager, vialId: string, endedAt: Date): Promise<Date | null> {
    const rows = await manager.query<{ from_at: Date }[]>(
      `SELECT from_at FROM custody_interval WHERE vial_id = $1 AND to_at = $2 ORDER BY from_at DESC LIMIT 1`,
      [vialId, endedAt],
    );
    return rows[0]?.from_at ?? null;
  }

  /** Moves the end of that interval to a corrected time of administration (checked by the caller). */
  async moveCustodyEnd(manager: EntityManager, vialId: string, from: Date, to: Date): Promise<void> {
    await manager.query(`UPDATE custody_interval SET to_at = $3 WHERE vial_id = $1 AND to_at = $2`, [
      vialId,
      from,
      to,
    ]);
  }

  /**
   * The patient of a clinic with this reference, created on first use. A concurrent creator waits on the
   * unique (site, ref) index; then this statement finds nothing to insert and the SELECT sees its row.
   */
  async upsertPatient(manager: EntityManager, siteId: string, ref: string, at: Date): Promise<string> {
    const inserted = await manager.query<{ id: string }[]>(
      `INSERT INTO patient (site_id, ref, created_at) VALUES ($1, $2, $3)
       ON CONFLICT ON CONSTRAINT "UQ_patient_site_ref" DO NOTHING RETURNING id`,
      [siteId, ref, at],
    );
    if (inserted[0]) return inserted[0].id;
    const found = await manager.query<{ id: string }[]>(
      `SELECT id FROM patient WHERE site_id = $1 AND ref = $2`,
      [siteId, ref],
    );
    return found[0]!.id;
  }

  async insert(manager: EntityManager, dose: NewDose): Promise<void> {
    await manager.query(
      `INSERT INTO dose (id, vial_id, patient_id, site_id, administered_at, volume_ml, route, recorded_by,
                         recorded_at, signature_id, version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1)`,
      [
        dose.id,
        dose.vialId,
        dose.patientId,
        dose.siteId,
        dose.administeredAt,
        dose.volumeMl,
        dose.route,
        dose.recordedBy,
        dose.recordedAt,
        dose.signatureId,
      ],
    );
  }

  /** One dose, if the reader may see it (a clinic: its own only; another clinic's id finds nothing). */
  async find(
    id: string,
    siteIds: readonly string[] | null,
    manager: EntityManager = this.dataSource.manager,
    lock = false,
  ): Promise<DoseRow | null> {
    const rows = await manager.query<DoseRow[]>(
      `${DOSE_SELECT} WHERE d.id = $1 AND ($2::uuid[] IS NULL OR d.site_id = ANY($2::uuid[]))
       ${lock ? 'FOR UPDATE OF d' : ''}`,
      [id, siteIds],
    );
    return rows[0] ?? null;
  }

  lock(manager: EntityManager, id: string, siteIds: readonly string[] | null): Promise<DoseRow | null> {
    return this.find(id, siteIds, manager, true);
  }

  /** The doses of patients with this reference at the reader's clinics (or at `siteId`), latest first. */
  listByPatientRef(patientRef: string, siteIds: readonly string[] | null, limit: number): Promise<DoseRow[]> {
    return this.dataSource.query<DoseRow[]>(
      `${DOSE_SELECT} WHERE p.ref = $1 AND ($2::uuid[] IS NULL OR d.site_id = ANY($2::uuid[]))
        ORDER BY d.administered_at DESC, d.id LIMIT $3`,
      [patientRef, siteIds, limit],
    );
  }

  /** Applies a correction's new values and bumps the version (the old values go to dose_correction). */
  async update(manager: EntityManager, id: string, change: DoseChange): Promise<void> {
    const sets = ['version = version + 1'];
    const params: unknown[] = [id];
    const set = (column: string, value: unknown): void => {
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    };
    if (change.patientId !== undefined) set('patient_id', change.patientId);
    if (change.administeredAt !== undefined) set('administered_at', change.administeredAt);
    if (change.volumeMl !== undefined) set('volume_ml', change.volumeMl);
    if (change.route !== undefined) set('route', change.route);
    await manager.query(`UPDATE dose SET ${sets.join(', ')} WHERE id = $1`, params);
  }

  async insertCorrection(
    manager: EntityManager,
    row: {
      doseId: string;
      oldValues: Record<string, unknown>;
      newValues: Record<string, unknown>;
      reason: string;
      correctedBy: string;
      correctedAt: Date;
      signatureId: string;
    },
  ): Promise<string> {
    const rows = await manager.query<{ id: string }[]>(
      `INSERT INTO dose_correction (dose_id, old_values, new_values, reason, corrected_by, corrected_at, signature_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [
        row.doseId,
        JSON.stringify(row.oldValues),
        JSON.stringify(row.newValues),
        row.reason,
        row.correctedBy,
        row.correctedAt,
        row.signatureId,
      ],
    );
    return rows[0]!.id;
  }

  corrections(doseIds: readonly string[]): Promise<DoseCorrectionRow[]> {
    return this.dataSource.query<DoseCorrectionRow[]>(
      `SELECT c.id, c.dose_id, c.old_values, c.new_values, c.reason, c.corrected_by,
              u.display_name AS corrector_name, c.corrected_at, c.signature_id
         FROM dose_correction c JOIN app_user u ON u.id = c.corrected_by
        WHERE c.dose_id = ANY($1::uuid[])
        ORDER BY c.corrected_at, c.id`,
      [doseIds],
    );
  }

  /** The dispensing event of the dose as it stands (the one a correction declares in error), if stored. */
  async currentDoseEvent(
    manager: EntityManager,
    sgtin: string,
    doseId: string,
    version: number,
  ): Promise<Record<string, unknown> | null> {
    const rows = await manager.query<{ event: Record<string, unknown> }[]>(
      `SELECT event FROM epcis_event
        WHERE epcs @> ARRAY[$1]::text[] AND biz_step = 'dispensing' AND NOT (event ? 'errorDeclaration')
          AND event->>'lyo:doseRef' = $2 AND (event->>'lyo:doseVersion')::int = $3
        ORDER BY id DESC LIMIT 1`,
      [sgtin, `urn:uuid:${doseId}`, version],
    );
    return rows[0]?.event ?? null;
  }
}
