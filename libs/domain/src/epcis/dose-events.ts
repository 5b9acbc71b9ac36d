import { patientUri, sgtinUri, siteUri } from './identifiers.js';
import { epcisTimeZoneOffset } from './time-zone.js';
import {
  declareError,
  LYO_PATIENT_REF,
  objectEvent,
  type EpcisEvent,
  type EpcisObjectEvent,
} from './events.js';

/** A dose as EPCIS tells it: which vial, to which pseudonymous patient of which clinic, when, how. */
export interface EpcisDose {
  id: string;
  /** The dose record's version: each corrected version is an event of its own, with its own eventID. */
  version: number;
  gtin: string;
  serial: string;
  clinicSiteId: string;
  /** The clinic's IANA zone: EPCIS records the offset in force there at the time of administration. */
  timeZone: string;
  patientRef: string;
  administeredAt: Date;
  volumeMl: string;
  route: string;
}

/**
 * A vial given to a patient: ObjectEvent OBSERVE, CBV bizStep `dispensing`, disposition `dispensed` (CBV 2.0
 * §7.2), at the clinic. EPCIS has no patient, so the dose → patient link is our `lyo:patientRef` extension, a
 * URI naming the pseudonym inside its clinic (never a name: GDPR Art. 4(5)).
 */
export function doseAdministeredEvent(dose: EpcisDose): EpcisObjectEvent {
  return objectEvent({
    eventTime: dose.administeredAt,
    eventTimeZoneOffset: epcisTimeZoneOffset(dose.administeredAt, dose.timeZone),
    action: 'OBSERVE',
    bizStep: 'dispensing',
    disposition: 'dispensed',
    epcList: [sgtinUri(dose.gtin, dose.serial)],
    readPoint: siteUri(dose.clinicSiteId),
    bizLocation: siteUri(dose.clinicSiteId),
    extensions: {
      [LYO_PATIENT_REF]: patientUri(dose.clinicSiteId, dose.patientRef),
      'lyo:doseRef': `urn:uuid:${dose.id}`,
      'lyo:doseVersion': dose.version,
      'lyo:route': dose.route,
      'lyo:volumeMl': dose.volumeMl,
    },
  });
}

/**
 * A dose corrected (EPCIS 2.0 §7.4.1.2): the event of the version in error is captured again with an
 * errorDeclaration (reason `incorrect_data`) naming the corrective event, which tells the dose as it now
 * stands. Nothing is deleted (21 CFR 11.10(e); EU GMP Ch. 4 §4.9: the original stays legible), and the
 * correction's reason travels with the declaration.
 */
export function doseCorrectionEvents(
  inError: EpcisObjectEvent,
  corrected: EpcisDose,
  correction: { id: string; at: Date; reason: string },
): { declaration: EpcisEvent; corrective: EpcisObjectEvent } {
  const corrective = doseAdministeredEvent(corrected);
  const { recordTime: _recordTime, ...original } = inError as EpcisObjectEvent & { recordTime?: string };
  const declaration = declareError(original, {
    declarationTime: correction.at,
    reason: 'incorrect_data',
    correctiveEventIDs: [corrective.eventID],
    extensions: {
      'lyo:reasonText': correction.reason,
      'lyo:correctionRef': `urn:uuid:${correction.id}`,
    },
  });
  return { declaration, corrective };
}
