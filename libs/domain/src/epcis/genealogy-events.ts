import { QuantityUnit } from '@lyotrace/contracts';
import { lgtinUri, lotUri, sgtinUri, siteUri } from './identifiers.js';
import { epcisTimeZoneOffset } from './time-zone.js';
import { LYO_DISPOSITION } from './vocabulary.js';
import { objectEvent, transformationEvent, type EpcisEvent, type QuantityElement } from './events.js';

/** UN/ECE Recommendation 20 codes for our units; counts of things carry no unit (EPCIS 2.0 §7.3.3.3). */
const UOM: Readonly<Record<QuantityUnit, string | undefined>> = {
  [QuantityUnit.Each]: undefined,
  [QuantityUnit.Vials]: undefined,
  [QuantityUnit.Flasks]: undefined,
  [QuantityUnit.Cells]: undefined,
  [QuantityUnit.Millilitre]: 'MLT',
  [QuantityUnit.Litre]: 'LTR',
  [QuantityUnit.Milligram]: 'MGM',
  [QuantityUnit.Gram]: 'GRM',
};

export interface EpcisLotRef {
  code: string;
  /** Set for vialled lots: their class is then the GS1 LGTIN, else a lot URI in our namespace. */
  gtin: string | null;
  quantity: string;
  unit: QuantityUnit;
  expiry?: string | null;
}

export interface EpcisWhere {
  time: Date;
  siteId: string;
  timeZone: string;
}

const lotClass = (l: EpcisLotRef): string => (l.gtin ? lgtinUri(l.gtin, l.code) : lotUri(l.code));
const quantityOf = (l: EpcisLotRef): QuantityElement => {
  const uom = UOM[l.unit];
  return uom
    ? { epcClass: lotClass(l), quantity: Number(l.quantity), uom }
    : { epcClass: lotClass(l), quantity: Number(l.quantity) };
};
const base = (w: EpcisWhere) => ({
  eventTime: w.time,
  eventTimeZoneOffset: epcisTimeZoneOffset(w.time, w.timeZone),
  readPoint: siteUri(w.siteId),
  bizLocation: siteUri(w.siteId),
});

/** A root lot entering the genealogy (a donation, a supplier's lot): ObjectEvent ADD of its class. */
export function lotRegisteredEvent(lot: EpcisLotRef, where: EpcisWhere): EpcisEvent {
  return objectEvent({
    ...base(where),
    action: 'ADD',
    bizStep: 'receiving',
    disposition: 'active',
    quantityList: [quantityOf(lot)],
  });
}

/** A production step: inputs consumed → outputs created, with lot and expiry master data for vialled lots. */
export function transformationRecordedEvent(
  t: { id: string; inputs: EpcisLotRef[]; outputs: EpcisLotRef[] },
  where: EpcisWhere,
): EpcisEvent {
  const vialled = t.outputs.find((o) => o.gtin && o.expiry);
  return transformationEvent({
    ...base(where),
    transformationID: `urn:uuid:${t.id}`,
    bizStep: 'creating_class_instance',
    disposition: 'in_progress',
    ...(t.inputs.length > 0 ? { inputQuantityList: t.inputs.map(quantityOf) } : {}),
    outputQuantityList: t.outputs.map(quantityOf),
    ...(vialled
      ? { ilmd: { 'cbvmda:lotNumber': vialled.code, 'cbvmda:itemExpirationDate': vialled.expiry! } }
      : {}),
  });
}

/** Serialized vials brought into being: commissioning ADD with their lot and expiry; quarantined until QA release. */
export function vialsCommissionedEvent(
  lot: { code: string; gtin: string; expiry: string },
  serials: readonly string[],
  where: EpcisWhere,
): EpcisEvent {
  return objectEvent({
    ...base(where),
    action: 'ADD',
    bizStep: 'commissioning',
    disposition: 'active',
    epcList: serials.map((s) => sgtinUri(lot.gtin, s)),
    persistentDisposition: { set: [LYO_DISPOSITION.quarantined] },
    ilmd: { 'cbvmda:lotNumber': lot.code, 'cbvmda:itemExpirationDate': lot.expiry },
  });
}

/** QA disposition of a finished lot: released (quarantine lifted) or rejected, for the whole lot class. */
export function lotDispositionEvent(
  lot: { code: string; gtin: string },
  decision: 'release' | 'reject',
  where: EpcisWhere,
): EpcisEvent {
  return objectEvent({
    ...base(where),
    action: 'OBSERVE',
    bizStep: 'inspecting',
    disposition: decision === 'release' ? 'conformant' : 'non_conformant',
    quantityList: [{ epcClass: lgtinUri(lot.gtin, lot.code) }],
    persistentDisposition:
      decision === 'release'
        ? { set: [LYO_DISPOSITION.released], unset: [LYO_DISPOSITION.quarantined] }
        : { set: [LYO_DISPOSITION.rejected], unset: [LYO_DISPOSITION.quarantined] },
  });
}

/** Vials recalled: persistent disposition `recalled` until each is accounted for (one event per chunk of vials). */
export function vialsRecalledEvent(
  vials: readonly { gtin: string; serial: string }[],
  where: EpcisWhere,
  recallId: string,
): EpcisEvent {
  return objectEvent({
    ...base(where),
    action: 'OBSERVE',
    bizStep: 'holding',
    disposition: 'recalled',
    epcList: vials.map((v) => sgtinUri(v.gtin, v.serial)),
    persistentDisposition: { set: ['recalled'] },
    bizTransactionList: [{ bizTransaction: `urn:uuid:${recallId}` }],
  });
}
