import type { VialHolderView } from '@lyotrace/contracts';
import { type CustodyVial, type DosableVial, shipperVisible } from '@lyotrace/domain';
import type {
  ContainerEntity,
  CustodyIntervalRow,
  CustodyRepository,
  CustodyVialRow,
  LocationEntity,
  ShipmentEntity,
} from '@lyotrace/persistence';
import type { EntityManager } from 'typeorm';

export interface VialCustodyView {
  id: string;
  gtin: string;
  serial: string;
  lotId: string;
  lotCode: string;
  lotStatus: string;
  expiry: string;
  state: string;
  hold: string | null;
  recalled: boolean;
  holder: VialHolderView;
}

export const toVialCustodyView = (v: CustodyVialRow): VialCustodyView => ({
  id: v.id,
  gtin: v.gtin,
  serial: v.serial,
  lotId: v.lot_id,
  lotCode: v.lot_code,
  lotStatus: v.lot_status,
  expiry: v.expiry,
  state: v.state,
  hold: v.hold,
  recalled: v.recall_id !== null,
  holder: {
    siteId: v.holder_site_id,
    siteCode: v.holder_site_code,
    locationId: v.location_id,
    locationCode: v.location_code,
    containerId: v.container_id,
    sscc: v.sscc,
    shipmentId: v.shipment_id,
  },
});

/** The row as the pure custody rules see it. */
export const toCustodyVial = (v: CustodyVialRow): CustodyVial => ({
  lotStatus: v.lot_status,
  state: v.state,
  recalled: v.recall_id !== null,
  expiry: v.expiry,
  hold: v.hold,
  exposureOutOfRangeS: v.exposure_out_of_range_s,
  stabilityBudgetS: v.stability_budget_s,
  holderSiteId: v.holder_site_id,
  locationId: v.location_id,
  containerId: v.container_id,
  openStep: v.open_step,
});

/** A vial as the dose rules judge it (doseBlocks): its custody, its clinic's zone, whether it was dosed. */
export const toDosableVial = (v: CustodyVialRow, dosed: boolean): DosableVial => ({
  ...toCustodyVial(v),
  timeZone: v.timezone,
  dosed,
  lotCode: v.lot_code,
});

export interface CustodyIntervalView {
  from: string;
  to: string | null;
  step: string;
  siteId: string | null;
  siteCode: string | null;
  locationId: string | null;
  locationCode: string | null;
  containerId: string | null;
  sscc: string | null;
  openedBy: string | null;
}

export const toIntervalView = (i: CustodyIntervalRow): CustodyIntervalView => ({
  from: i.from_at.toISOString(),
  to: i.to_at?.toISOString() ?? null,
  step: i.step,
  siteId: i.site_id,
  siteCode: i.site_code,
  locationId: i.location_id,
  locationCode: i.location_code,
  containerId: i.container_id,
  sscc: i.sscc,
  openedBy: i.opened_by,
});

export interface LocationView {
  id: string;
  siteId: string;
  code: string;
  name: string;
  kind: string;
  parentId: string | null;
  storageProfile: {
    minTempC: number;
    maxTempC: number;
    alarmDelayS: number;
    hysteresisC: number;
    budgetS: number | null;
  };
  active: boolean;
  version: number;
}

export const toLocationView = (l: LocationEntity): LocationView => ({
  id: l.id,
  siteId: l.siteId,
  code: l.code,
  name: l.name,
  kind: l.kind,
  parentId: l.parentId,
  storageProfile: {
    minTempC: Number(l.minTempC),
    maxTempC: Number(l.maxTempC),
    alarmDelayS: l.alarmDelayS,
    hysteresisC: Number(l.hysteresisC),
    budgetS: l.budgetS,
  },
  active: l.active,
  version: l.version,
});

export interface ShipperView {
  id: string;
  sscc: string;
  siteId: string;
  state: string;
  shipmentId: string | null;
  createdAt: string;
  version: number;
}

export const toShipperView = (c: ContainerEntity): ShipperView => ({
  id: c.id,
  sscc: c.sscc,
  siteId: c.siteId,
  state: c.state,
  shipmentId: c.shipmentId,
  createdAt: c.createdAt.toISOString(),
  version: c.version,
});

export interface ShipmentView {
  id: string;
  fromSiteId: string;
  toSiteId: string;
  state: string;
  plannedArrivalAt: string;
  dispatchedAt: string | null;
  receiptStartedAt: string | null;
  receivedAt: string | null;
  receiptResult: string | null;
  receiptSignatureId: string | null;
  version: number;
}

export const toShipmentView = (s: ShipmentEntity): ShipmentView => ({
  id: s.id,
  fromSiteId: s.fromSiteId,
  toSiteId: s.toSiteId,
  state: s.state,
  plannedArrivalAt: s.plannedArrivalAt.toISOString(),
  dispatchedAt: s.dispatchedAt?.toISOString() ?? null,
  receiptStartedAt: s.receiptStartedAt?.toISOString() ?? null,
  receivedAt: s.receivedAt?.toISOString() ?? null,
  receiptResult: s.receiptResult,
  receiptSignatureId: s.receiptSignatureId,
  version: s.version,
});

/**
 * Whether a reader limited to `scope` (null: every site) may see `container` (shipperVisible), reading its
 * shipment only when the shipper's own site does not already settle it.
 */
export async function canSeeShipper(
  custody: CustodyRepository,
  container: ContainerEntity,
  scope: readonly string[] | null,
  manager?: EntityManager,
): Promise<boolean> {
  const shipment =
    container.shipmentId && scope && !scope.includes(container.siteId)
      ? await custody.findShipment(container.shipmentId, manager)
      : null;
  return shipperVisible(container, shipment, scope);
}
