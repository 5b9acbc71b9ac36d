import { ProblemCode, VialState } from '@lyotrace/contracts';
import { DomainError } from '../domain-error.js';
import { type GatedVial, type VialBlock, vialBlocks } from './vial-gate.js';

/** Why a vial may not be given to a patient here, beyond the vial gate. Stable codes. */
export enum DoseBlock {
  NotAtThisClinic = 'VIAL_NOT_AT_THIS_CLINIC',
  NotReceived = 'VIAL_NOT_RECEIVED',
  AlreadyDosed = 'VIAL_ALREADY_DOSED',
  LabelMismatch = 'VIAL_LABEL_MISMATCH',
}

export type DoseRefusalReason = VialBlock | DoseBlock;

export interface DosableVial extends GatedVial {
  holderSiteId: string;
  /** The holder site's IANA zone: expiry is judged at the end of the day there. */
  timeZone: string;
  /** A dose is already recorded against this vial. */
  dosed: boolean;
  lotCode: string;
}

/** What the label said, when the scan carried more than GTIN + serial. */
export interface ScannedLabel {
  lot?: string;
  expiry?: string;
}

/**
 * Every reason this vial may not be dosed at `clinicSiteId` at `at` (the time of administration). Empty: it
 * may. ARCHITECTURE.md §1: a clinic never doses a blocked vial, so every vial gate applies again at the bedside;
 * then the vial must be at this clinic and received into its custody (EU GDP 5.5: only goods taken into
 * stock are supplied), and a vial is dosed once (single-use presentation; one dose record per vial).
 */
export function doseBlocks(
  vial: DosableVial,
  clinicSiteId: string,
  at: Date,
  scanned: ScannedLabel = {},
): DoseRefusalReason[] {
  const reasons: DoseRefusalReason[] = vialBlocks(vial, { at, timeZone: vial.timeZone });
  if (vial.holderSiteId !== clinicSiteId) reasons.push(DoseBlock.NotAtThisClinic);
  const gone = vial.state === VialState.Dispensed || vial.state === VialState.Destroyed;
  if (!gone && vial.state !== VialState.AtClinic) reasons.push(DoseBlock.NotReceived);
  if (vial.dosed) reasons.push(DoseBlock.AlreadyDosed);
  // EU GMP Annex 11 §5 (built-in checks on data entry): the label scanned must be the vial on record.
  if (
    (scanned.lot !== undefined && scanned.lot !== vial.lotCode) ||
    (scanned.expiry !== undefined && scanned.expiry !== vial.expiry)
  ) {
    reasons.push(DoseBlock.LabelMismatch);
  }
  return reasons;
}

/** A pseudonym: 3–40 letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
const PSEUDONYM = /^[A-Za-z0-9][A-Za-z0-9._-]{2,39}$/;
/** Anything that reads as a calendar date: 1984-03-07, 07.03.1984, 19840307, 07-03-84… */
const DATE_LIKE = [
  /(^|[^0-9])(19|20)\d{2}[-._]?(0[1-9]|1[0-2])[-._]?(0[1-9]|[12]\d|3[01])([^0-9]|$)/,
  /(^|[^0-9])(0?[1-9]|[12]\d|3[01])[-._](0?[1-9]|1[0-2])[-._](\d{2}|\d{4})([^0-9]|$)/,
  /(^|[^0-9])(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])(19|20)\d{2}([^0-9]|$)/,
];

/**
 * Patient references are pseudonyms chosen by the clinic (GDPR Art. 4(5), Art. 5(1)(c) data minimisation):
 * the key to the person stays at the clinic. The shape keeps out full names (no spaces) and free text; a birth
 * date is the identifier most often slipped into a reference, so anything that reads as a date is refused.
 */
export function assertPatientRef(ref: string, field = 'patientRef'): string {
  if (!PSEUDONYM.test(ref)) {
    throw new DomainError(
      ProblemCode.PatientRefInvalid,
      `${field} must be a pseudonym of 3 to 40 letters, digits, ".", "_" or "-" (no spaces, no names)`,
      { field },
    );
  }
  if (DATE_LIKE.some((pattern) => pattern.test(ref))) {
    throw new DomainError(
      ProblemCode.PatientRefInvalid,
      `${field} looks like it holds a date: a patient reference must not carry a birth date`,
      { field },
    );
  }
  return ref;
}
