import { locationUri, sgtinUri, siteUri, ssccUri } from './identifiers.js';
import { epcisTimeZoneOffset } from './time-zone.js';
import { LYO_DISPOSITION } from './vocabulary.js';
import { aggregationEvent, objectEvent, type EpcisEvent } from './events.js';

/** One vial as EPCIS names it: its SGTIN. */
export interface EpcisVialRef {
  gtin: string;
  serial: string;
}

export interface CustodyWhere {
  time: Date;
  siteId: string;
  timeZone: string;
  /** The storage location inside the site, when the step puts the vial in one. */
  locationId?: string | null;
}

const base = (w: CustodyWhere) => ({
  eventTime: w.time,
  eventTimeZoneOffset: epcisTimeZoneOffset(w.time, w.timeZone),
  readPoint: w.locationId ? locationUri(w.locationId) : siteUri(w.siteId),
  bizLocation: w.locationId ? locationUri(w.locationId) : siteUri(w.siteId),
});
const epcs = (vials: readonly EpcisVialRef[]): string[] => vials.map((v) => sgtinUri(v.gtin, v.serial));

/** CBV 2.0 bizStep for each custody step that is an ObjectEvent of vials at one place. */
const STEP_BIZ = {
  receive: 'receiving',
  putaway: 'storing',
  move: 'storing',
  pick: 'picking',
} as const;

/** A vial received into a site, put away, moved between locations or picked (CBV 2.0 §7.1). */
export function vialCustodyEvent(
  step: keyof typeof STEP_BIZ,
  vials: readonly EpcisVialRef[],
  where: CustodyWhere,
  from?: { siteId: string } | null,
): EpcisEvent {
  return objectEvent({
    ...base(where),
    action: 'OBSERVE',
    bizStep: STEP_BIZ[step],
    disposition: 'in_progress',
    epcList: epcs(vials),
    ...(from && from.siteId !== where.siteId
      ? {
          sourceList: [{ type: 'location' as const, source: siteUri(from.siteId) }],
          destinationList: [{ type: 'location' as const, destination: siteUri(where.siteId) }],
        }
      : {}),
  });
}

/** Vials packed into (ADD) or taken out of (DELETE) a shipper: the aggregation history (CBV packing/unpacking). */
export function shipperAggregationEvent(
  action: 'ADD' | 'DELETE',
  sscc: string,
  vials: readonly EpcisVialRef[],
  where: CustodyWhere,
): EpcisEvent {
  return aggregationEvent({
    ...base(where),
    action,
    bizStep: action === 'ADD' ? 'packing' : 'unpacking',
    disposition: 'in_progress',
    parentID: ssccUri(sscc),
    childEPCs: epcs(vials),
  });
}

/**
 * Shippers leaving for a clinic (shipping, in transit) or arriving there (receiving, before the vials are
 * checked), with where from and where to and the shipment as the business transaction (CBV 2.0 §8.3).
 */
export function shipmentEvent(
  step: 'dispatched' | 'received',
  ssccs: readonly string[],
  shipmentId: string,
  route: { fromSiteId: string; toSiteId: string },
  where: CustodyWhere,
): EpcisEvent {
  const shipped = step === 'dispatched';
  return objectEvent({
    ...base(where),
    action: 'OBSERVE',
    bizStep: shipped ? 'shipping' : 'receiving',
    disposition: shipped ? 'in_transit' : 'in_progress',
    epcList: ssccs.map(ssccUri),
    bizTransactionList: [{ type: shipped ? 'desadv' : 'recadv', bizTransaction: `urn:uuid:${shipmentId}` }],
    sourceList: [{ type: 'location', source: siteUri(route.fromSiteId) }],
    destinationList: [{ type: 'location', destination: siteUri(route.toSiteId) }],
  });
}

/**
 * Vials taken into the clinic's stock at a confirmed receipt (accepting), or into quarantine when an
 * excursion is open on their shipper; vials missing at receipt go under investigation.
 */
export function vialsAcceptedEvent(
  vials: readonly EpcisVialRef[],
  shipmentId: string,
  outcome: 'stock' | 'quarantine' | 'missing',
  where: CustodyWhere,
): EpcisEvent {
  return objectEvent({
    ...base(where),
    action: 'OBSERVE',
    bizStep: outcome === 'missing' ? 'inspecting' : 'accepting',
    disposition:
      outcome === 'stock'
        ? 'in_progress'
        : outcome === 'quarantine'
          ? LYO_DISPOSITION.quarantined
          : LYO_DISPOSITION.under_investigation,
    epcList: epcs(vials),
    bizTransactionList: [{ type: 'recadv', bizTransaction: `urn:uuid:${shipmentId}` }],
    ...(outcome === 'stock'
      ? {}
      : {
          persistentDisposition: {
            set: [
              outcome === 'quarantine' ? LYO_DISPOSITION.quarantined : LYO_DISPOSITION.under_investigation,
            ],
          },
        }),
  });
}
