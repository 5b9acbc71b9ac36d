import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ProblemCode } from '@lyotrace/contracts';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { DomainError } from '../domain-error.js';
import {
  aggregationEvent,
  associationEvent,
  declareError,
  deviceUri,
  EPCIS_CONTEXT_URL,
  epcisDocument,
  type EpcisDocument,
  type EpcisEvent,
  epcisTimeZoneOffset,
  eventHashId,
  lgtinUri,
  locationUri,
  LYO_DISPOSITION,
  LYO_PATIENT_REF,
  lotUri,
  LYOTRACE_NS,
  objectEvent,
  type ObjectEventInput,
  partyUri,
  patientUri,
  sgtinUri,
  siteUri,
  ssccUri,
  transformationEvent,
} from './index.js';

// ——— EPCIS 2.0 JSON schema validator: test-only (file I/O and ajv stay out of the domain) ———

/** The copy vendored in the repository: tests read nothing outside it. */
const EPCIS_FIXTURES = resolve(import.meta.dirname, '../../../../test/fixtures/epcis-2.0');

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

/**
 * The schema is draft-07, which Ajv's default class speaks. `strict: false`: GS1's schema trips strict mode
 * (e.g. `required: ["transformationID"]` beside an anyOf that does not declare it) without being wrong.
 */
function loadEpcisValidator(): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true });
  // ajv-formats is CommonJS: under nodenext the default import is module.exports; .default is the plugin.
  ajvFormats.default(ajv);
  return ajv.compile(readJson(join(EPCIS_FIXTURES, 'EPCIS-JSON-Schema.json')) as object);
}

const validate = loadEpcisValidator();

/** `[]` when the document validates; otherwise the errors, so a failing test shows what and where. */
function schemaErrors(document: unknown): string[] {
  if (validate(document)) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
  );
}

// ——— factories ———

const ROME = 'Europe/Rome';
const GTIN = '09520012345674';
const LOT = 'LYO24A01';
const REJECTED_LOT = 'LYO24A02';
const EXPIRY = '2027-12-31';
const SHIPPER = ssccUri('095200123456789016');
const LOGGER = deviceUri('LOG-7731');
const PRODUCTION = siteUri('MI-PROD');
const WAREHOUSE = siteUri('MI-WH');
const CLINIC = siteUri('CL-ROMA-01');

/** An instant and the offset Rome had then (+01:00 in winter, +02:00 in summer). */
function at(iso: string): { eventTime: Date; eventTimeZoneOffset: string } {
  const eventTime = new Date(iso);
  return { eventTime, eventTimeZoneOffset: epcisTimeZoneOffset(eventTime, ROME) };
}

function vials(count: number, lot = LOT): string[] {
  const prefix = lot === LOT ? 'V' : 'W';
  return Array.from({ length: count }, (_, i) =>
    sgtinUri(GTIN, `${prefix}${String(i + 1).padStart(4, '0')}`),
  );
}

const lotMasterData = (lot: string) => ({ 'cbvmda:lotNumber': lot, 'cbvmda:itemExpirationDate': EXPIRY });

function refusal(build: () => unknown): DomainError {
  try {
    build();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a DomainError');
}

/** Every builder in the use it is for: cell bank to patient, with a QA reject, a recall and a correction. */
function lifeOfALot(): Record<string, EpcisEvent> {
  const vialsOfLot = vials(6);
  const expansion = transformationEvent({
    ...at('2024-02-05T08:30:00Z'),
    bizStep: 'creating_class_instance',
    disposition: 'in_progress',
    inputQuantityList: [{ epcClass: lotUri('WCB-2024-003'), quantity: 2 }],
    outputQuantityList: [{ epcClass: lotUri('EXP-24-017'), quantity: 1 }],
    readPoint: locationUri('MI-PROD/CLEANROOM-B'),
    bizLocation: PRODUCTION,
    bizTransactionList: [{ type: 'prodorder', bizTransaction: `${LYOTRACE_NS}production-order/PO-24-0117` }],
  });
  const pooling = transformationEvent({
    ...at('2024-03-04T14:00:00Z'),
    bizStep: 'creating_class_instance',
    disposition: 'in_progress',
    inputQuantityList: [
      { epcClass: lotUri('HRV-24-017-1'), quantity: 1.8, uom: 'LTR' },
      { epcClass: lotUri('HRV-24-017-2'), quantity: 1.75, uom: 'LTR' },
    ],
    outputQuantityList: [{ epcClass: lotUri('POOL-24-009'), quantity: 3.55, uom: 'LTR' }],
    readPoint: locationUri('MI-PROD/CLEANROOM-B'),
    bizLocation: PRODUCTION,
  });
  const finishedLot = transformationEvent({
    ...at('2024-04-08T07:15:00Z'),
    bizStep: 'creating_class_instance',
    disposition: 'in_progress',
    inputQuantityList: [
      { epcClass: lotUri('POOL-24-009'), quantity: 3.2, uom: 'LTR' },
      { epcClass: lotUri('RM-TREHALOSE-2406'), quantity: 0.32, uom: 'KGM' },
    ],
    outputQuantityList: [{ epcClass: lgtinUri(GTIN, LOT), quantity: 500 }],
    persistentDisposition: { set: [LYO_DISPOSITION.quarantined] },
    ilmd: lotMasterData(LOT),
    readPoint: locationUri('MI-PROD/LYO-01'),
    bizLocation: PRODUCTION,
  });
  const commissioning = objectEvent({
    ...at('2024-04-10T09:00:00Z'),
    action: 'ADD',
    bizStep: 'commissioning',
    disposition: 'active',
    epcList: vialsOfLot,
    persistentDisposition: { set: [LYO_DISPOSITION.quarantined] },
    ilmd: lotMasterData(LOT),
    readPoint: locationUri('MI-PROD/LABELLER-1'),
    bizLocation: PRODUCTION,
  });
  const release = objectEvent({
    ...at('2024-04-22T16:45:00Z'),
    action: 'OBSERVE',
    bizStep: 'inspecting',
    disposition: 'conformant',
    quantityList: [{ epcClass: lgtinUri(GTIN, LOT) }],
    persistentDisposition: { set: [LYO_DISPOSITION.released], unset: [LYO_DISPOSITION.quarantined] },
    bizLocation: PRODUCTION,
    bizTransactionList: [{ type: 'testres', bizTransaction: `${LYOTRACE_NS}qc-report/QCR-24-0311` }],
    extensions: { 'lyo:signatureRef': `${LYOTRACE_NS}signature/5b1e0c1e` },
  });
  const qaReject = objectEvent({
    ...at('2024-04-23T10:00:00Z'),
    action: 'OBSERVE',
    bizStep: 'inspecting',
    disposition: 'non_conformant',
    quantityList: [{ epcClass: lgtinUri(GTIN, REJECTED_LOT) }],
    persistentDisposition: { set: [LYO_DISPOSITION.rejected], unset: [LYO_DISPOSITION.quarantined] },
    bizLocation: PRODUCTION,
  });
  const wrongStoring = objectEvent({
    ...at('2024-04-24T08:00:00Z'),
    action: 'OBSERVE',
    bizStep: 'storing',
    disposition: 'sellable_not_accessible',
    epcList: vialsOfLot,
    readPoint: locationUri('MI-WH/FRZ-01'),
    bizLocation: locationUri('MI-WH/FRZ-01'),
  });
  const storing = objectEvent({
    ...at('2024-04-24T08:00:00Z'),
    action: 'OBSERVE',
    bizStep: 'storing',
    disposition: 'sellable_not_accessible',
    epcList: vialsOfLot,
    readPoint: locationUri('MI-WH/FRZ-02'),
    bizLocation: locationUri('MI-WH/FRZ-02'),
  });
  const correction = declareError(wrongStoring, {
    declarationTime: new Date('2024-04-24T09:10:00Z'),
    reason: 'incorrect_data',
    correctiveEventIDs: [storing.eventID],
    extensions: { 'lyo:reasonText': 'scanned at FRZ-01, put away in FRZ-02' },
  });
  const packing = aggregationEvent({
    ...at('2024-05-06T07:30:00Z'),
    action: 'ADD',
    bizStep: 'packing',
    disposition: 'container_closed',
    parentID: SHIPPER,
    childEPCs: vialsOfLot,
    readPoint: locationUri('MI-WH/PACK-1'),
    bizLocation: WAREHOUSE,
  });
  const loggerToShipper = associationEvent({
    ...at('2024-05-06T07:35:00Z'),
    action: 'ADD',
    bizStep: 'assembling',
    parentID: SHIPPER,
    childEPCs: [LOGGER],
    readPoint: locationUri('MI-WH/PACK-1'),
    bizLocation: WAREHOUSE,
  });
  const route = {
    sourceList: [
      { type: 'owning_party', source: partyUri('lyotrace-srl') },
      { type: 'location', source: WAREHOUSE },
    ],
    destinationList: [
      { type: 'owning_party', destination: partyUri('ospedale-roma') },
      { type: 'location', destination: CLINIC },
    ],
    bizTransactionList: [{ type: 'desadv', bizTransaction: `${LYOTRACE_NS}shipment/SHP-24-0042` }],
  } satisfies Partial<ObjectEventInput>;
  const shipping = objectEvent({
    ...at('2024-05-06T08:00:00Z'),
    ...route,
    action: 'OBSERVE',
    bizStep: 'shipping',
    disposition: 'in_transit',
    epcList: [SHIPPER],
    readPoint: locationUri('MI-WH/DOCK-1'),
  });
  const receiving = objectEvent({
    ...at('2024-05-07T06:40:00Z'),
    ...route,
    action: 'OBSERVE',
    bizStep: 'receiving',
    disposition: 'in_progress',
    epcList: [SHIPPER],
    readPoint: locationUri('CL-ROMA-01/PHARMACY'),
    bizLocation: CLINIC,
  });
  const transitTemperature = objectEvent({
    ...at('2024-05-07T06:45:00Z'),
    action: 'OBSERVE',
    bizStep: 'sensor_reporting',
    epcList: [SHIPPER],
    readPoint: locationUri('CL-ROMA-01/PHARMACY'),
    sensorElementList: [
      {
        sensorMetadata: {
          startTime: new Date('2024-05-06T07:35:00Z'),
          endTime: new Date('2024-05-07T06:40:00Z'),
          deviceID: LOGGER,
          rawData: `${LYOTRACE_NS}logger-download/LOG-7731/2024-05-07T06:44:00Z`,
        },
        sensorReport: [
          { type: 'Temperature', minValue: -21.4, maxValue: -17.9, meanValue: -19.8, uom: 'CEL' },
          {
            type: 'Temperature',
            exception: 'ALARM_CONDITION',
            time: new Date('2024-05-06T13:05:00Z'),
            value: -17.9,
            uom: 'CEL',
          },
        ],
      },
    ],
  });
  const unpacking = aggregationEvent({
    ...at('2024-05-07T06:50:00Z'),
    action: 'DELETE',
    bizStep: 'unpacking',
    parentID: SHIPPER,
    childEPCs: vialsOfLot,
    readPoint: locationUri('CL-ROMA-01/PHARMACY'),
    bizLocation: CLINIC,
  });
  const loggerOff = associationEvent({
    ...at('2024-05-07T06:51:00Z'),
    action: 'DELETE',
    bizStep: 'disassembling',
    parentID: SHIPPER,
    childEPCs: [LOGGER],
    readPoint: locationUri('CL-ROMA-01/PHARMACY'),
  });
  const accepting = objectEvent({
    ...at('2024-05-07T07:00:00Z'),
    action: 'OBSERVE',
    bizStep: 'accepting',
    disposition: 'sellable_accessible',
    epcList: vialsOfLot,
    readPoint: locationUri('CL-ROMA-01/PHARMACY'),
    bizLocation: locationUri('CL-ROMA-01/FRIDGE-1'),
  });
  const dose = objectEvent({
    ...at('2024-05-09T10:20:00Z'),
    action: 'OBSERVE',
    bizStep: 'dispensing',
    disposition: 'dispensed',
    epcList: vials(1),
    readPoint: locationUri('CL-ROMA-01/WARD-3'),
    bizLocation: CLINIC,
    extensions: { [LYO_PATIENT_REF]: patientUri('CL-ROMA-01', 'P-7F3A'), 'lyo:route': 'intravenous' },
  });
  const recall = objectEvent({
    ...at('2024-11-12T15:00:00Z'),
    action: 'OBSERVE',
    bizStep: 'holding',
    disposition: 'recalled',
    quantityList: [{ epcClass: lgtinUri(GTIN, LOT) }],
    persistentDisposition: { set: ['recalled'] },
    bizLocation: PRODUCTION,
    extensions: { 'lyo:recallRef': `${LYOTRACE_NS}recall/RC-24-002` },
  });
  return {
    expansion,
    pooling,
    finishedLot,
    commissioning,
    release,
    qaReject,
    wrongStoring,
    storing,
    correction,
    packing,
    loggerToShipper,
    shipping,
    receiving,
    transitTemperature,
    unpacking,
    loggerOff,
    accepting,
    dose,
    recall,
  };
}

function lifeOfALotDocument(): EpcisDocument {
  return epcisDocument(Object.values(lifeOfALot()), new Date('2024-11-12T15:05:00Z'), {
    id: `${LYOTRACE_NS}document/2024-11-12-0001`,
  });
}

// ——— tests ———

describe('the vendored EPCIS 2.0 schema', () => {
  const examples = readdirSync(join(EPCIS_FIXTURES, 'examples')).filter((f) => f.endsWith('.jsonld'));

  it('has the official examples beside it', () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });

  it.each(examples)('accepts the official example %s', (file) => {
    expect(schemaErrors(readJson(join(EPCIS_FIXTURES, 'examples', file)))).toEqual([]);
  });
});

describe('an EPCIS document of a lot, from cell bank to patient', () => {
  const document = lifeOfALotDocument();
  const events = lifeOfALot();

  it('validates against the EPCIS 2.0 JSON schema', () => {
    expect(schemaErrors(document)).toEqual([]);
    expect(document.epcisBody.eventList).toHaveLength(19);
  });

  it('uses every event type', () => {
    const types = new Set(document.epcisBody.eventList.map((e) => e.type));
    expect([...types].sort()).toEqual([
      'AggregationEvent',
      'AssociationEvent',
      'ObjectEvent',
      'TransformationEvent',
    ]);
  });

  it('declares the EPCIS 2.0 context and our lyo prefix', () => {
    expect(document['@context']).toEqual([EPCIS_CONTEXT_URL, { lyo: 'https://lyotrace.dev/epcis/' }]);
    expect(document).toMatchObject({
      type: 'EPCISDocument',
      schemaVersion: '2.0',
      creationDate: '2024-11-12T15:05:00.000Z',
    });
  });

  it('takes the offset Rome had at each event', () => {
    expect(events.expansion?.eventTimeZoneOffset).toBe('+01:00');
    expect(events.packing?.eventTimeZoneOffset).toBe('+02:00');
    expect(events.packing?.eventTime).toBe('2024-05-06T07:30:00.000Z');
  });

  it('writes CBV words bare and our GMP states as URIs in our namespace', () => {
    expect(events.commissioning).toMatchObject({
      bizStep: 'commissioning',
      disposition: 'active',
      persistentDisposition: { set: ['https://lyotrace.dev/epcis/disposition/quarantined'] },
      ilmd: { 'cbvmda:lotNumber': LOT, 'cbvmda:itemExpirationDate': EXPIRY },
    });
    expect(events.release).toMatchObject({
      persistentDisposition: {
        set: ['https://lyotrace.dev/epcis/disposition/released'],
        unset: ['https://lyotrace.dev/epcis/disposition/quarantined'],
      },
    });
    expect(events.recall).toMatchObject({ persistentDisposition: { set: ['recalled'] } });
  });

  it('carries the dose → patient link as a lyo: member', () => {
    expect(events.dose?.[LYO_PATIENT_REF]).toBe('https://lyotrace.dev/epcis/patient/CL-ROMA-01/P-7F3A');
  });

  it('summarises a transit as one sensor report linked to the raw log', () => {
    expect(events.transitTemperature?.sensorElementList?.[0]).toEqual({
      sensorMetadata: {
        startTime: '2024-05-06T07:35:00.000Z',
        endTime: '2024-05-07T06:40:00.000Z',
        deviceID: 'https://lyotrace.dev/epcis/device/LOG-7731',
        rawData: 'https://lyotrace.dev/epcis/logger-download/LOG-7731/2024-05-07T06:44:00Z',
      },
      sensorReport: [
        { type: 'Temperature', minValue: -21.4, maxValue: -17.9, meanValue: -19.8, uom: 'CEL' },
        {
          type: 'Temperature',
          exception: 'ALARM_CONDITION',
          time: '2024-05-06T13:05:00.000Z',
          value: -17.9,
          uom: 'CEL',
        },
      ],
    });
  });

  it('corrects by an error declaration on the unchanged event, pointing at its replacement', () => {
    const { wrongStoring, correction, storing } = events;
    expect(correction?.eventID).toBe(wrongStoring?.eventID);
    expect(correction?.errorDeclaration).toEqual({
      declarationTime: '2024-04-24T09:10:00.000Z',
      reason: 'incorrect_data',
      correctiveEventIDs: [storing?.eventID],
      'lyo:reasonText': 'scanned at FRZ-01, put away in FRZ-02',
    });
    const { errorDeclaration: _declaration, ...original } = correction ?? {};
    expect(original).toEqual(wrongStoring);
  });

  it('declares an error once', () => {
    const declareAgain = () =>
      declareError(events.correction as EpcisEvent, {
        declarationTime: new Date('2024-04-25T09:00:00Z'),
        reason: 'did_not_occur',
      });
    expect(refusal(declareAgain)).toMatchObject({ extensions: { field: 'errorDeclaration' } });
  });

  it('also validates a did_not_occur declaration without corrective events', () => {
    const retracted = declareError(events.shipping as EpcisEvent, {
      declarationTime: new Date('2024-05-06T09:00:00Z'),
      reason: 'did_not_occur',
    });
    expect(schemaErrors(epcisDocument([retracted], new Date('2024-05-06T09:00:00Z')))).toEqual([]);
  });
});

describe('the schema bites', () => {
  const validDocument = lifeOfALotDocument();

  /** A deep copy with one event changed behind the builders' back: what a careless producer would send. */
  function withFirstObjectEvent(change: (event: Record<string, unknown>) => void): unknown {
    const copy = structuredClone(validDocument) as unknown as {
      epcisBody: { eventList: Record<string, unknown>[] };
    };
    const event = copy.epcisBody.eventList.find((e) => e.type === 'ObjectEvent');
    if (!event) throw new Error('no ObjectEvent in the document');
    change(event);
    return copy;
  }

  it('refuses a bare "quarantined" disposition', () => {
    const errors = schemaErrors(
      withFirstObjectEvent((e) => {
        e.disposition = 'quarantined';
      }),
    );
    expect(errors).toEqual(
      expect.arrayContaining([expect.stringMatching(/^\/epcisBody\/eventList\/\d+\/disposition /)]),
    );
  });

  it('refuses a bare "quarantined" in persistentDisposition', () => {
    const errors = schemaErrors(
      withFirstObjectEvent((e) => {
        e.persistentDisposition = { set: ['quarantined'] };
      }),
    );
    expect(errors).toEqual(expect.arrayContaining([expect.stringMatching(/persistentDisposition\/set\/0 /)]));
  });

  it('refuses an event without eventTime', () => {
    const errors = schemaErrors(
      withFirstObjectEvent((e) => {
        delete e.eventTime;
      }),
    );
    expect(errors).toEqual(
      expect.arrayContaining([expect.stringContaining(`"missingProperty":"eventTime"`)]),
    );
  });

  it.each(['+1:00', '+01', '+0100', 'Z', '+14:30', '+01:00 ', 'Europe/Rome'])(
    'refuses the eventTimeZoneOffset %j',
    (offset) => {
      const errors = schemaErrors(
        withFirstObjectEvent((e) => {
          e.eventTimeZoneOffset = offset;
        }),
      );
      expect(errors).toEqual(
        expect.arrayContaining([expect.stringMatching(/\/eventTimeZoneOffset must match pattern/)]),
      );
    },
  );

  it('refuses ilmd on an OBSERVE and an unprefixed extension member', () => {
    expect(
      schemaErrors(
        withFirstObjectEvent((e) => {
          e.action = 'OBSERVE';
          e.ilmd = { 'cbvmda:lotNumber': LOT };
        }),
      ),
    ).not.toEqual([]);
    expect(
      schemaErrors(
        withFirstObjectEvent((e) => {
          e.patientRef = 'P-7F3A';
        }),
      ),
    ).not.toEqual([]);
  });

  it('refuses the EPCIS 1.x URN form of a CBV word but accepts its full ref.gs1.org URI', () => {
    const urn = withFirstObjectEvent((e) => {
      e.bizStep = 'urn:epcglobal:cbv:bizstep:commissioning';
    });
    const fullUri = withFirstObjectEvent((e) => {
      e.bizStep = 'https://ref.gs1.org/cbv/BizStep-commissioning';
      e.disposition = 'https://ref.gs1.org/cbv/Disp-active';
    });
    expect(schemaErrors(urn)).not.toEqual([]);
    expect(schemaErrors(fullUri)).toEqual([]);
  });

  it('cannot tell a made-up CBV term from a real one (why the builders check the lists)', () => {
    const madeUp = withFirstObjectEvent((e) => {
      e.disposition = 'https://ref.gs1.org/cbv/Disp-quarantined';
    });
    expect(schemaErrors(madeUp)).toEqual([]);
  });
});

describe('builders refuse what the schema or GMP would', () => {
  const common = { ...at('2024-04-24T08:00:00Z'), bizStep: 'storing' as const, epcList: vials(2) };

  it.each([
    [
      'a bare quarantined disposition',
      () => objectEvent({ ...common, action: 'OBSERVE', disposition: 'quarantined' as never }),
      'disposition',
    ],
    [
      'a bizStep outside CBV',
      () => objectEvent({ ...common, action: 'OBSERVE', bizStep: 'releasing' as never }),
      'bizStep',
    ],
    [
      'an offset that is not ±hh:mm',
      () => objectEvent({ ...common, action: 'OBSERVE', eventTimeZoneOffset: '+2:00' }),
      'eventTimeZoneOffset',
    ],
    [
      'an invalid eventTime',
      () => objectEvent({ ...common, action: 'OBSERVE', eventTime: new Date('nope') }),
      'eventTime',
    ],
    [
      'ilmd on an OBSERVE',
      () => objectEvent({ ...common, action: 'OBSERVE', ilmd: lotMasterData(LOT) }),
      'ilmd',
    ],
    [
      'an ilmd key without a prefix',
      () => objectEvent({ ...common, action: 'ADD', ilmd: { lotNumber: LOT } as never }),
      'ilmd',
    ],
    [
      'an expiry that is not a date',
      () =>
        objectEvent({
          ...common,
          action: 'ADD',
          ilmd: { ...lotMasterData(LOT), 'cbvmda:itemExpirationDate': '2027-02-30' },
        }),
      'ilmd',
    ],
    [
      'a vial listed twice',
      () => objectEvent({ ...common, action: 'OBSERVE', epcList: [...vials(1), ...vials(1)] }),
      'epcList',
    ],
    [
      'an EPC that is not a URI',
      () => objectEvent({ ...common, action: 'OBSERVE', epcList: ['V0001'] }),
      'epcList',
    ],
    ['an event about nothing', () => objectEvent({ ...common, action: 'OBSERVE', epcList: [] }), 'epcList'],
    [
      'an extension outside lyo:',
      () => objectEvent({ ...common, action: 'OBSERVE', extensions: { patientRef: 'x' } as never }),
      'extensions',
    ],
    [
      'an empty persistentDisposition',
      () => objectEvent({ ...common, action: 'OBSERVE', persistentDisposition: {} }),
      'persistentDisposition',
    ],
    [
      'a disposition both set and unset',
      () =>
        objectEvent({
          ...common,
          action: 'OBSERVE',
          persistentDisposition: { set: ['recalled'], unset: ['recalled'] },
        }),
      'persistentDisposition',
    ],
    [
      'a unit code that is not UN/ECE rec. 20',
      () =>
        objectEvent({
          ...common,
          epcList: undefined,
          action: 'OBSERVE',
          quantityList: [{ epcClass: lotUri('POOL-1'), quantity: 1, uom: 'litre' }],
        }),
      'quantityList',
    ],
    [
      'a packing without children',
      () => aggregationEvent({ ...common, action: 'ADD', bizStep: 'packing', parentID: SHIPPER }),
      'childEPCs',
    ],
    [
      'a transformation with outputs only and no transformationID',
      () => transformationEvent({ ...common, outputEPCList: vials(1) }),
      'outputEPCList',
    ],
    [
      'sensor data that ends before it starts',
      () =>
        objectEvent({
          ...common,
          action: 'OBSERVE',
          sensorElementList: [
            {
              sensorMetadata: {
                startTime: new Date('2024-05-07T00:00:00Z'),
                endTime: new Date('2024-05-06T00:00:00Z'),
              },
              sensorReport: [{ type: 'Temperature', value: 4, uom: 'CEL' }],
            },
          ],
        }),
      'sensorMetadata',
    ],
  ])('refuses %s', (_case, build, field) => {
    expect(refusal(build)).toMatchObject({ code: ProblemCode.ValidationFailed, extensions: { field } });
  });

  it('accepts one side of a transformation under a transformationID', () => {
    const event = transformationEvent({
      ...at('2024-04-08T07:15:00Z'),
      bizStep: 'creating_class_instance',
      transformationID: `${LYOTRACE_NS}transformation/LYO24A01-fill`,
      outputQuantityList: [{ epcClass: lgtinUri(GTIN, LOT), quantity: 500 }],
    });
    expect(schemaErrors(epcisDocument([event], new Date('2024-04-08T08:00:00Z')))).toEqual([]);
  });

  it('lets an unpacking DELETE leave out the children (empties the shipper)', () => {
    const event = aggregationEvent({
      ...at('2024-05-07T06:50:00Z'),
      action: 'DELETE',
      bizStep: 'unpacking',
      parentID: SHIPPER,
    });
    expect(event).not.toHaveProperty('childEPCs');
    expect(schemaErrors(epcisDocument([event], new Date('2024-05-07T07:00:00Z')))).toEqual([]);
  });

  it('reports sensor data at a location without objects', () => {
    const event = objectEvent({
      ...at('2024-05-07T00:00:00Z'),
      action: 'OBSERVE',
      bizStep: 'sensor_reporting',
      readPoint: locationUri('MI-WH/FRZ-02'),
      sensorElementList: [
        {
          sensorMetadata: {
            deviceID: deviceUri('PROBE-12'),
            startTime: new Date('2024-05-06T00:00:00Z'),
            endTime: new Date('2024-05-07T00:00:00Z'),
          },
          sensorReport: [
            {
              type: 'Temperature',
              exception: 'ERROR_CONDITION',
              uriValue: `${LYOTRACE_NS}device-fault/SENSOR_OPEN`,
            },
          ],
        },
      ],
    });
    expect(event.epcList).toEqual([]);
    expect(schemaErrors(epcisDocument([event], new Date('2024-05-07T00:05:00Z')))).toEqual([]);
  });
});

describe('deterministic eventIDs', () => {
  const input: ObjectEventInput = {
    ...at('2024-04-24T08:00:00Z'),
    action: 'OBSERVE',
    bizStep: 'storing',
    disposition: 'sellable_not_accessible',
    epcList: vials(3),
    readPoint: locationUri('MI-WH/FRZ-02'),
  };

  it('is an ni: SHA-256 URI computed from the content', () => {
    const event = objectEvent(input);
    expect(event.eventID).toMatch(/^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=lyotrace-1$/);
    expect(event.eventID).toBe(eventHashId(event));
  });

  it('is the same for the same event, whatever the order of its lists', () => {
    expect(objectEvent(input).eventID).toBe(
      objectEvent({ ...input, epcList: [...vials(3)].reverse() }).eventID,
    );
  });

  it('changes with anything that happened', () => {
    const id = objectEvent(input).eventID;
    expect(objectEvent({ ...input, epcList: vials(2) }).eventID).not.toBe(id);
    expect(objectEvent({ ...input, eventTime: new Date('2024-04-24T08:00:00.001Z') }).eventID).not.toBe(id);
    expect(objectEvent({ ...input, extensions: { 'lyo:note': 'x' } }).eventID).not.toBe(id);
  });

  it('keeps a given eventID', () => {
    const given = 'urn:uuid:4a1c9f3e-0b7d-4c1e-9a55-0c2b9f0e7d11';
    expect(objectEvent({ ...input, eventID: given }).eventID).toBe(given);
  });
});
