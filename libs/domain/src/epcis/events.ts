import { ProblemCode } from '@lyotrace/contracts';
import { isCalendarDate } from '../calendar.js';
import { DomainError } from '../domain-error.js';
import { eventHashId } from './event-id.js';
import { LYOTRACE_NS } from './identifiers.js';
import { EVENT_TIME_ZONE_OFFSET } from './time-zone.js';
import {
  assertBizStep,
  assertDisposition,
  type BizStep,
  type BizTransactionType,
  type Disposition,
  type ErrorReason,
  type MeasurementType,
  type SensorAlertType,
  type SourceDestinationType,
} from './vocabulary.js';

/**
 * Builders for EPCIS 2.0 events (GS1 EPCIS 2.0, JSON/JSON-LD binding). Each returns a plain JSON object
 * that validates against the EPCIS 2.0 JSON schema; what the compiler cannot check (strings that came
 * from a database, list contents, times) is checked here, so an invalid event fails where it is built
 * rather than at a trading partner.
 */

export const EPCIS_CONTEXT_URL = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';
export const EPCIS_SCHEMA_VERSION = '2.0';
/** The extension prefix every document we write declares: `lyo:x` expands to `${LYOTRACE_NS}x`. */
export const LYO_PREFIX = 'lyo';
/** EPCIS has no patient: the dose → patient link is our extension, its value a patientUri(). */
export const LYO_PATIENT_REF = 'lyo:patientRef';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type LyoKey = `lyo:${string}`;
/** Extension members: namespaced under `lyo:`, so the EPCIS schema and JSON-LD both know them as ours. */
export type Extensions = Readonly<Record<LyoKey, JsonValue>>;

/** Instance/lot master data: the CBV 2.0 attributes by their `cbvmda:` names, plus ours. */
export interface Ilmd {
  'cbvmda:lotNumber'?: string;
  /** xsd:date, `YYYY-MM-DD`. */
  'cbvmda:itemExpirationDate'?: string;
  'cbvmda:bestBeforeDate'?: string;
  [key: `cbvmda:${string}` | LyoKey]: JsonValue | undefined;
}

export type Action = 'ADD' | 'OBSERVE' | 'DELETE';

export interface QuantityElement {
  epcClass: string;
  quantity?: number;
  /** UN/ECE Recommendation 20 code (`LTR`, `MLT`, `KGM`…); leave out for a count of instances. */
  uom?: string;
}
export interface SourceElement {
  type: SourceDestinationType;
  source: string;
}
export interface DestinationElement {
  type: SourceDestinationType;
  destination: string;
}
export interface BizTransaction {
  type?: BizTransactionType;
  bizTransaction: string;
}
export interface PersistentDisposition {
  set?: Disposition[];
  unset?: Disposition[];
}

interface SensorMetadataFields<T> {
  time?: T;
  startTime?: T;
  endTime?: T;
  deviceID?: string;
  deviceMetadata?: string;
  /** Where the raw readings are: an interval summary links to them instead of one event per reading. */
  rawData?: string;
  dataProcessingMethod?: string;
  bizRules?: string;
}
interface SensorReportFields<T> {
  type: MeasurementType;
  exception?: SensorAlertType;
  deviceID?: string;
  rawData?: string;
  time?: T;
  value?: number;
  minValue?: number;
  maxValue?: number;
  meanValue?: number;
  sDev?: number;
  percRank?: number;
  percValue?: number;
  /** `CEL` for Temperature. */
  uom?: string;
  stringValue?: string;
  booleanValue?: boolean;
  uriValue?: string;
}
export type SensorMetadata = SensorMetadataFields<string>;
export type SensorReport = SensorReportFields<string>;
export interface SensorElement {
  sensorMetadata?: SensorMetadata;
  sensorReport: SensorReport[];
}
export interface SensorElementInput {
  sensorMetadata?: SensorMetadataFields<Date>;
  sensorReport: readonly SensorReportFields<Date>[];
}

export interface ErrorDeclaration {
  declarationTime: string;
  reason?: ErrorReason;
  correctiveEventIDs?: string[];
  [key: LyoKey]: JsonValue | undefined;
}

/** What every event type shares, as it appears in the JSON. */
export interface EpcisEventBase {
  eventTime: string;
  eventTimeZoneOffset: string;
  eventID: string;
  errorDeclaration?: ErrorDeclaration;
  bizStep: BizStep;
  disposition?: Disposition;
  readPoint?: { id: string };
  bizLocation?: { id: string };
  bizTransactionList?: BizTransaction[];
  sourceList?: SourceElement[];
  destinationList?: DestinationElement[];
  sensorElementList?: SensorElement[];
  [key: LyoKey]: JsonValue | undefined;
}
export interface EpcisObjectEvent extends EpcisEventBase {
  type: 'ObjectEvent';
  action: Action;
  epcList?: string[];
  quantityList?: QuantityElement[];
  persistentDisposition?: PersistentDisposition;
  ilmd?: Ilmd;
}
export interface EpcisAggregationEvent extends EpcisEventBase {
  type: 'AggregationEvent';
  action: Action;
  parentID: string;
  childEPCs?: string[];
  childQuantityList?: QuantityElement[];
}
export interface EpcisTransformationEvent extends EpcisEventBase {
  type: 'TransformationEvent';
  transformationID?: string;
  inputEPCList?: string[];
  inputQuantityList?: QuantityElement[];
  outputEPCList?: string[];
  outputQuantityList?: QuantityElement[];
  persistentDisposition?: PersistentDisposition;
  ilmd?: Ilmd;
}
export interface EpcisAssociationEvent extends EpcisEventBase {
  type: 'AssociationEvent';
  action: Action;
  parentID: string;
  childEPCs?: string[];
  childQuantityList?: QuantityElement[];
}
export type EpcisEvent =
  EpcisObjectEvent | EpcisAggregationEvent | EpcisTransformationEvent | EpcisAssociationEvent;

export interface EpcisDocument {
  '@context': [typeof EPCIS_CONTEXT_URL, { [LYO_PREFIX]: typeof LYOTRACE_NS }];
  id?: string;
  type: 'EPCISDocument';
  schemaVersion: typeof EPCIS_SCHEMA_VERSION;
  creationDate: string;
  instanceIdentifier?: string;
  sender?: string;
  receiver?: string;
  epcisBody: { eventList: EpcisEvent[] };
}

/** Inputs shared by every builder. Times are instants; the offset is the one in force where it happened. */
export interface EventInput {
  eventTime: Date;
  /** `±hh:mm`: see epcisTimeZoneOffset(). */
  eventTimeZoneOffset: string;
  /** Left out: a content hash (eventHashId), so rebuilding the same event gives the same ID. */
  eventID?: string;
  bizStep: BizStep;
  disposition?: Disposition;
  readPoint?: string;
  bizLocation?: string;
  bizTransactionList?: readonly BizTransaction[];
  sourceList?: readonly SourceElement[];
  destinationList?: readonly DestinationElement[];
  sensorElementList?: readonly SensorElementInput[];
  extensions?: Extensions;
}
export interface ObjectEventInput extends EventInput {
  action: Action;
  epcList?: readonly string[];
  quantityList?: readonly QuantityElement[];
  persistentDisposition?: PersistentDisposition;
  /** Only with ADD: master data belongs to the event that brings the objects into being. */
  ilmd?: Ilmd;
}
export interface AggregationEventInput extends EventInput {
  action: Action;
  parentID: string;
  /** May be left out only for DELETE, which then empties the parent. */
  childEPCs?: readonly string[];
  childQuantityList?: readonly QuantityElement[];
}
export interface TransformationEventInput extends EventInput {
  transformationID?: string;
  inputEPCList?: readonly string[];
  inputQuantityList?: readonly QuantityElement[];
  outputEPCList?: readonly string[];
  outputQuantityList?: readonly QuantityElement[];
  persistentDisposition?: PersistentDisposition;
  ilmd?: Ilmd;
}
export interface AssociationEventInput extends EventInput {
  action: Action;
  parentID: string;
  childEPCs?: readonly string[];
  childQuantityList?: readonly QuantityElement[];
}
export interface ErrorDeclarationInput {
  declarationTime: Date;
  reason: ErrorReason;
  /** The events that replace the erroneous one, if any (none for `did_not_occur`). */
  correctiveEventIDs?: readonly string[];
  extensions?: Extensions;
}
export interface DocumentHeader {
  id?: string;
  instanceIdentifier?: string;
  sender?: string;
  receiver?: string;
}

export function objectEvent(input: ObjectEventInput): EpcisObjectEvent {
  const epcList = epcs('epcList', input.epcList);
  const quantityList = quantities('quantityList', input.quantityList);
  if (!epcList?.length && !quantityList?.length && !(input.sensorElementList?.length && input.readPoint)) {
    throw invalid(
      'epcList',
      'an ObjectEvent needs an epcList, a quantityList, or sensor data at a readPoint',
    );
  }
  if (input.ilmd !== undefined && input.action !== 'ADD') {
    throw invalid('ilmd', 'ilmd is allowed only on an ObjectEvent with action ADD');
  }
  return finish<EpcisObjectEvent>(input, {
    type: 'ObjectEvent',
    action: input.action,
    epcList: epcList ?? (quantityList ? undefined : []),
    quantityList,
    persistentDisposition: persistentDisposition(input.persistentDisposition),
    ilmd: ilmd(input.ilmd),
  });
}

export function aggregationEvent(input: AggregationEventInput): EpcisAggregationEvent {
  const childEPCs = epcs('childEPCs', input.childEPCs);
  const childQuantityList = quantities('childQuantityList', input.childQuantityList);
  if (input.action !== 'DELETE' && !childEPCs?.length && !childQuantityList?.length) {
    throw invalid('childEPCs', `an AggregationEvent ${input.action} needs childEPCs or a childQuantityList`);
  }
  return finish<EpcisAggregationEvent>(input, {
    type: 'AggregationEvent',
    action: input.action,
    parentID: uri('parentID', input.parentID),
    childEPCs,
    childQuantityList,
  });
}

export function transformationEvent(input: TransformationEventInput): EpcisTransformationEvent {
  const inputEPCList = epcs('inputEPCList', input.inputEPCList);
  const inputQuantityList = quantities('inputQuantityList', input.inputQuantityList);
  const outputEPCList = epcs('outputEPCList', input.outputEPCList);
  const outputQuantityList = quantities('outputQuantityList', input.outputQuantityList);
  const hasInputs = Boolean(inputEPCList?.length || inputQuantityList?.length);
  const hasOutputs = Boolean(outputEPCList?.length || outputQuantityList?.length);
  // EPCIS 2.0: inputs and outputs, or one side only, which other events complete under one transformationID.
  if (!(hasInputs && hasOutputs) && !((hasInputs || hasOutputs) && input.transformationID)) {
    throw invalid(
      'outputEPCList',
      'a TransformationEvent needs inputs and outputs, or one of them and a transformationID',
    );
  }
  return finish<EpcisTransformationEvent>(input, {
    type: 'TransformationEvent',
    transformationID:
      input.transformationID === undefined ? undefined : uri('transformationID', input.transformationID),
    inputEPCList,
    inputQuantityList,
    outputEPCList,
    outputQuantityList,
    persistentDisposition: persistentDisposition(input.persistentDisposition),
    ilmd: ilmd(input.ilmd),
  });
}

export function associationEvent(input: AssociationEventInput): EpcisAssociationEvent {
  const childEPCs = epcs('childEPCs', input.childEPCs);
  const childQuantityList = quantities('childQuantityList', input.childQuantityList);
  if (input.action !== 'DELETE' && !childEPCs?.length && !childQuantityList?.length) {
    throw invalid('childEPCs', `an AssociationEvent ${input.action} needs childEPCs or a childQuantityList`);
  }
  return finish<EpcisAssociationEvent>(input, {
    type: 'AssociationEvent',
    action: input.action,
    parentID: uri('parentID', input.parentID),
    childEPCs,
    childQuantityList,
  });
}

/**
 * Corrections never delete (GMP; EPCIS 2.0 error declarations): the erroneous event is captured again,
 * unchanged and with its own eventID, carrying an errorDeclaration that points at the corrective events.
 */
export function declareError<E extends EpcisEvent>(event: E, declaration: ErrorDeclarationInput): E {
  if (event.errorDeclaration !== undefined) {
    throw invalid('errorDeclaration', `${event.eventID} already carries an error declaration`);
  }
  if (declaration.reason !== 'did_not_occur' && declaration.reason !== 'incorrect_data') {
    throw invalid('reason', 'the reason of an error declaration is did_not_occur or incorrect_data');
  }
  const correctiveEventIDs = declaration.correctiveEventIDs?.map((id) => uri('correctiveEventIDs', id));
  if (correctiveEventIDs?.includes(event.eventID)) {
    throw invalid('correctiveEventIDs', 'an event cannot be its own correction');
  }
  const errorDeclaration: ErrorDeclaration = compact({
    declarationTime: instant('declarationTime', declaration.declarationTime),
    reason: declaration.reason,
    correctiveEventIDs,
    ...extensions(declaration.extensions),
  });
  return { ...event, errorDeclaration };
}

export function epcisDocument(
  events: readonly EpcisEvent[],
  creationDate: Date,
  header: DocumentHeader = {},
): EpcisDocument {
  return compact<EpcisDocument>({
    '@context': [EPCIS_CONTEXT_URL, { [LYO_PREFIX]: LYOTRACE_NS }],
    id: header.id === undefined ? undefined : uri('id', header.id),
    type: 'EPCISDocument',
    schemaVersion: EPCIS_SCHEMA_VERSION,
    creationDate: instant('creationDate', creationDate),
    instanceIdentifier: header.instanceIdentifier,
    sender: header.sender,
    receiver: header.receiver,
    epcisBody: { eventList: [...events] },
  });
}

// ——— shared assembly and checks ———

type Specific<E extends EpcisEvent> = Omit<E, keyof EpcisEventBase>;

/**
 * Checks what every event shares and assembles it in a readable order (type, time, ID, the type's own
 * members, the common ones, extensions). The eventID, unless given, is hashed from the finished content.
 */
function finish<E extends EpcisEvent>(input: EventInput, specific: Specific<E>): E {
  assertBizStep(input.bizStep);
  if (input.disposition !== undefined) assertDisposition(input.disposition);
  if (!EVENT_TIME_ZONE_OFFSET.test(input.eventTimeZoneOffset)) {
    throw invalid(
      'eventTimeZoneOffset',
      `"${input.eventTimeZoneOffset}" is not an offset of the form ±hh:mm`,
    );
  }
  const { type, ...rest } = specific as Specific<E> & { type: E['type'] };
  const event = compact({
    type,
    eventTime: instant('eventTime', input.eventTime),
    eventTimeZoneOffset: input.eventTimeZoneOffset,
    eventID: '',
    ...rest,
    bizStep: input.bizStep,
    disposition: input.disposition,
    readPoint: input.readPoint === undefined ? undefined : { id: uri('readPoint', input.readPoint) },
    bizLocation: input.bizLocation === undefined ? undefined : { id: uri('bizLocation', input.bizLocation) },
    bizTransactionList: input.bizTransactionList?.map((t) =>
      compact({ type: t.type, bizTransaction: uri('bizTransactionList', t.bizTransaction) }),
    ),
    sourceList: input.sourceList?.map((s) => ({ type: s.type, source: uri('sourceList', s.source) })),
    destinationList: input.destinationList?.map((d) => ({
      type: d.type,
      destination: uri('destinationList', d.destination),
    })),
    sensorElementList: input.sensorElementList?.map(sensorElement),
    ...extensions(input.extensions),
  }) as unknown as E;
  event.eventID = input.eventID === undefined ? eventHashId(event) : uri('eventID', input.eventID);
  return event;
}

function invalid(field: string, message: string): DomainError {
  return new DomainError(ProblemCode.ValidationFailed, message, { field });
}

/** Drops undefined members: the schema would test them as present. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Absolute URI, scheme first, nothing RFC 3986 forbids (spaces, quotes, angle brackets…). */
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s"<>\\^`{|}]+$/;

function uri(field: string, value: string): string {
  if (!URI.test(value)) throw invalid(field, `"${value}" is not an absolute URI`);
  return value;
}

function instant(field: string, value: Date): string {
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw invalid(field, `${field} is not a valid date`);
  return value.toISOString();
}

function epcs(field: string, list: readonly string[] | undefined): string[] | undefined {
  if (list === undefined) return undefined;
  const seen = new Set<string>();
  for (const epc of list) {
    uri(field, epc);
    // The schema requires unique items; a vial scanned twice is a caller's bug worth seeing.
    if (seen.has(epc)) throw invalid(field, `${epc} appears twice in ${field}`);
    seen.add(epc);
  }
  return [...list];
}

const UOM = /^[A-Z0-9]{2,3}$/;

function quantities(
  field: string,
  list: readonly QuantityElement[] | undefined,
): QuantityElement[] | undefined {
  return list?.map((q) => {
    if (q.quantity !== undefined && !(Number.isFinite(q.quantity) && q.quantity >= 0)) {
      throw invalid(field, `quantity of ${q.epcClass} must be a finite, non-negative number`);
    }
    if (q.uom !== undefined && !UOM.test(q.uom)) {
      throw invalid(field, `"${q.uom}" is not a UN/ECE Recommendation 20 unit code`);
    }
    return compact({ epcClass: uri(field, q.epcClass), quantity: q.quantity, uom: q.uom });
  });
}

function persistentDisposition(value: PersistentDisposition | undefined): PersistentDisposition | undefined {
  if (value === undefined) return undefined;
  const set = value.set ?? [];
  const unset = value.unset ?? [];
  if (set.length === 0 && unset.length === 0) {
    throw invalid('persistentDisposition', 'a persistentDisposition sets or unsets at least one disposition');
  }
  for (const d of [...set, ...unset]) assertDisposition(d, 'persistentDisposition');
  if (new Set(set).size !== set.length || new Set(unset).size !== unset.length) {
    throw invalid('persistentDisposition', 'a disposition is listed twice');
  }
  const both = set.find((d) => unset.includes(d));
  if (both !== undefined) throw invalid('persistentDisposition', `${both} is both set and unset`);
  return compact({ set: set.length ? [...set] : undefined, unset: unset.length ? [...unset] : undefined });
}

const ILMD_KEY = /^(cbvmda|lyo):[A-Za-z_][A-Za-z0-9_.-]*$/;
const XSD_DATE_KEYS = ['cbvmda:itemExpirationDate', 'cbvmda:bestBeforeDate', 'cbvmda:sellByDate'];

function ilmd(value: Ilmd | undefined): Ilmd | undefined {
  if (value === undefined) return undefined;
  const out = compact({ ...value });
  if (Object.keys(out).length === 0) throw invalid('ilmd', 'ilmd is empty');
  for (const [key, member] of Object.entries(out)) {
    if (!ILMD_KEY.test(key)) throw invalid('ilmd', `ilmd key "${key}" must be a cbvmda: or lyo: name`);
    if (XSD_DATE_KEYS.includes(key) && !isCalendarDate(member)) {
      throw invalid('ilmd', `${key} must be a date YYYY-MM-DD`);
    }
  }
  return out;
}

const LYO_KEY = /^lyo:[A-Za-z_][A-Za-z0-9_.-]*$/;

function extensions(value: Extensions | undefined): Record<LyoKey, JsonValue> {
  const out: Record<LyoKey, JsonValue> = {};
  for (const [key, member] of Object.entries(value ?? {})) {
    if (!LYO_KEY.test(key)) throw invalid('extensions', `extension "${key}" must be a lyo: name`);
    if (member === undefined) continue;
    out[key as LyoKey] = member;
  }
  return out;
}

function number(field: string, value: number | undefined): number | undefined {
  if (value !== undefined && !Number.isFinite(value))
    throw invalid(field, `${field} must be a finite number`);
  return value;
}

function sensorElement(element: SensorElementInput): SensorElement {
  if (element.sensorReport.length === 0)
    throw invalid('sensorReport', 'a sensor element needs at least one report');
  const m = element.sensorMetadata;
  if (m?.startTime && m.endTime && m.startTime.getTime() > m.endTime.getTime()) {
    throw invalid('sensorMetadata', 'startTime is after endTime');
  }
  const optionalInstant = (field: string, d: Date | undefined) =>
    d === undefined ? undefined : instant(field, d);
  const optionalUri = (field: string, u: string | undefined) => (u === undefined ? undefined : uri(field, u));
  const sensorMetadata =
    m === undefined
      ? undefined
      : compact<SensorMetadata>({
          time: optionalInstant('time', m.time),
          startTime: optionalInstant('startTime', m.startTime),
          endTime: optionalInstant('endTime', m.endTime),
          deviceID: optionalUri('deviceID', m.deviceID),
          deviceMetadata: optionalUri('deviceMetadata', m.deviceMetadata),
          rawData: optionalUri('rawData', m.rawData),
          dataProcessingMethod: optionalUri('dataProcessingMethod', m.dataProcessingMethod),
          bizRules: optionalUri('bizRules', m.bizRules),
        });
  return compact({
    sensorMetadata,
    sensorReport: element.sensorReport.map((r) =>
      compact<SensorReport>({
        type: r.type,
        exception: r.exception,
        deviceID: optionalUri('deviceID', r.deviceID),
        rawData: optionalUri('rawData', r.rawData),
        time: optionalInstant('time', r.time),
        value: number('value', r.value),
        minValue: number('minValue', r.minValue),
        maxValue: number('maxValue', r.maxValue),
        meanValue: number('meanValue', r.meanValue),
        sDev: number('sDev', r.sDev),
        percRank: number('percRank', r.percRank),
        percValue: number('percValue', r.percValue),
        uom: r.uom,
        stringValue: r.stringValue,
        booleanValue: r.booleanValue,
        uriValue: optionalUri('uriValue', r.uriValue),
      }),
    ),
  });
}
