import { epcisSchemaErrors } from '../../../../test/support/epcis-validator.js';
import { doseAdministeredEvent, doseCorrectionEvents, type EpcisDose } from './dose-events.js';
import { epcisDocument, LYO_PATIENT_REF } from './events.js';

const dose = (o: Partial<EpcisDose> = {}): EpcisDose => ({
  id: '5b1e0c1e-0000-4000-8000-00000000d05e',
  version: 1,
  gtin: '09520012345674',
  serial: 'V0001',
  clinicSiteId: 'c1a1c000-0000-4000-8000-000000000001',
  timeZone: 'Europe/Rome',
  patientRef: 'P-7F3A',
  administeredAt: new Date('2027-07-09T10:20:00Z'),
  volumeMl: '2.500',
  route: 'intravenous',
  ...o,
});
const asDocument = (...events: Parameters<typeof epcisDocument>[0]) =>
  epcisDocument(events, new Date('2027-07-09T12:00:00Z'));

describe('doseAdministeredEvent', () => {
  const event = doseAdministeredEvent(dose());

  it('is an EPCIS 2.0 dispensing ObjectEvent that validates against the schema', () => {
    expect(epcisSchemaErrors(asDocument(event))).toEqual([]);
    expect(event).toMatchObject({
      type: 'ObjectEvent',
      action: 'OBSERVE',
      bizStep: 'dispensing',
      disposition: 'dispensed',
      epcList: ['https://id.gs1.org/01/09520012345674/21/V0001'],
      eventTimeZoneOffset: '+02:00',
      readPoint: { id: 'https://lyotrace.dev/epcis/site/c1a1c000-0000-4000-8000-000000000001' },
    });
  });

  it('links the dose to its pseudonymous patient with the lyo: extension, no person data', () => {
    expect(event[LYO_PATIENT_REF]).toBe(
      'https://lyotrace.dev/epcis/patient/c1a1c000-0000-4000-8000-000000000001/P-7F3A',
    );
    expect(event['lyo:doseRef']).toBe('urn:uuid:5b1e0c1e-0000-4000-8000-00000000d05e');
    expect(asDocument(event)['@context']).toContainEqual({ lyo: 'https://lyotrace.dev/epcis/' });
  });

  it('gives each version of a dose its own eventID, and the same data the same one', () => {
    expect(doseAdministeredEvent(dose()).eventID).toBe(event.eventID);
    expect(doseAdministeredEvent(dose({ version: 2 })).eventID).not.toBe(event.eventID);
  });
});

describe('doseCorrectionEvents', () => {
  const original = doseAdministeredEvent(dose());
  const { declaration, corrective } = doseCorrectionEvents(
    { ...original, recordTime: '2027-07-09T10:21:00.000Z' } as typeof original,
    dose({ version: 2, patientRef: 'P-7F3B', volumeMl: '2.000' }),
    {
      id: '0c0c0c0c-0000-4000-8000-000000000001',
      at: new Date('2027-07-09T11:00:00Z'),
      reason: 'wrong patient picked',
    },
  );

  it('declares the original in error, same eventID, pointing at the corrective event; both validate', () => {
    expect(epcisSchemaErrors(asDocument(declaration, corrective))).toEqual([]);
    expect(declaration.eventID).toBe(original.eventID);
    expect(declaration).not.toHaveProperty('recordTime');
    expect(declaration.errorDeclaration).toEqual({
      declarationTime: '2027-07-09T11:00:00.000Z',
      reason: 'incorrect_data',
      correctiveEventIDs: [corrective.eventID],
      'lyo:reasonText': 'wrong patient picked',
      'lyo:correctionRef': 'urn:uuid:0c0c0c0c-0000-4000-8000-000000000001',
    });
    expect(declaration[LYO_PATIENT_REF]).toMatch(/\/P-7F3A$/);
  });

  it('tells the dose as corrected in the corrective event', () => {
    expect(corrective).toMatchObject({
      bizStep: 'dispensing',
      'lyo:doseVersion': 2,
      'lyo:volumeMl': '2.000',
    });
    expect(corrective[LYO_PATIENT_REF]).toMatch(/\/P-7F3B$/);
    expect(corrective.eventID).not.toBe(original.eventID);
  });
});
