import { LotStatus, ScanAction, ShipmentState, VialState } from '@lyotrace/contracts';
import { VialBlock, vialBlocks, type GatedVial } from './vial-gate.js';

/** Why a custody step does not apply to a vial where it is. Stable codes, beside the gate's `VialBlock`s. */
export enum CustodyRefusal {
  NotAtSite = 'VIAL_NOT_AT_SITE',
  InShipper = 'VIAL_IN_SHIPPER',
  NotInShipper = 'VIAL_NOT_IN_SHIPPER',
  NotInLocation = 'VIAL_NOT_IN_LOCATION',
  AlreadyThere = 'VIAL_ALREADY_THERE',
  AlreadyShipped = 'VIAL_ALREADY_SHIPPED',
  AlreadyReceived = 'VIAL_ALREADY_RECEIVED',
}

export type Refusal = VialBlock | CustodyRefusal;

export interface CustodyVial extends GatedVial {
  holderSiteId: string;
  locationId: string | null;
  containerId: string | null;
  /** The step that opened the vial's current custody interval. */
  openStep: string | null;
}

export interface CustodyStep {
  /** The site where the scan happens. */
  siteId: string;
  at: Date;
  /** IANA zone of that site: expiry is the end of the expiry day there. */
  timeZone: string;
  /** putaway / move: the target location. */
  locationId?: string;
  /** pack / unpack: the shipper. */
  containerId?: string;
}

export type WarehouseAction =
  | ScanAction.Receive
  | ScanAction.Putaway
  | ScanAction.Move
  | ScanAction.Pick
  | ScanAction.Pack
  | ScanAction.Unpack;

const GONE = new Set<VialState>([VialState.Dispensed, VialState.Destroyed]);
const SHIPPED = new Set<VialState>([VialState.InTransit, VialState.AtClinic]);

/**
 * Every reason `action` may not be applied to `vial` now; empty: go ahead.
 *
 * Storage steps (receive, put away, move) are allowed while a lot awaits release or a vial is held: a
 * quarantined product must still be stored under its conditions, segregated (EU GMP Ch. 5.61). A recalled or
 * rejected vial is not received into stock (issue: a recall blocks receipt into stock). Steps toward a
 * patient (pick, pack; dispatch and dose check again) pass the whole gate (ARCHITECTURE.md §1).
 */
export function custodyRefusals(action: WarehouseAction, vial: CustodyVial, step: CustodyStep): Refusal[] {
  const out: Refusal[] = [];
  const gate = vialBlocks(vial, { at: step.at, timeZone: step.timeZone });
  if (GONE.has(vial.state))
    return gate.filter((b) => b === VialBlock.AlreadyDispensed || b === VialBlock.Destroyed);
  const here = vial.holderSiteId === step.siteId && !SHIPPED.has(vial.state);
  switch (action) {
    case ScanAction.Receive:
      if (vial.lotStatus === LotStatus.Rejected) out.push(VialBlock.Rejected);
      if (vial.recalled) out.push(VialBlock.Recalled);
      if (SHIPPED.has(vial.state)) out.push(CustodyRefusal.AlreadyShipped);
      else if (vial.containerId) out.push(CustodyRefusal.InShipper);
      else if (vial.holderSiteId === step.siteId && vial.openStep !== 'commission') {
        out.push(CustodyRefusal.AlreadyReceived);
      }
      return out;
    case ScanAction.Putaway:
    case ScanAction.Move:
      if (!here) return [CustodyRefusal.NotAtSite];
      if (vial.containerId) out.push(CustodyRefusal.InShipper);
      if (action === ScanAction.Move && !vial.locationId) out.push(CustodyRefusal.NotInLocation);
      if (step.locationId && vial.locationId === step.locationId) out.push(CustodyRefusal.AlreadyThere);
      return out;
    case ScanAction.Pick:
    case ScanAction.Pack:
      if (SHIPPED.has(vial.state)) return [CustodyRefusal.AlreadyShipped, ...gate];
      if (vial.holderSiteId !== step.siteId) return [CustodyRefusal.NotAtSite];
      if (vial.containerId) {
        out.push(
          action === ScanAction.Pack && vial.containerId === step.containerId
            ? CustodyRefusal.AlreadyThere
            : CustodyRefusal.InShipper,
        );
      }
      return [...out, ...gate];
    case ScanAction.Unpack:
      if (!here) return [CustodyRefusal.NotAtSite];
      if (!vial.containerId || (step.containerId && vial.containerId !== step.containerId)) {
        out.push(CustodyRefusal.NotInShipper);
      }
      return out;
  }
}

/** A shipment as visibility sees it: who sends it, who receives it, how far it has got. */
export interface ShipmentParties {
  fromSiteId: string;
  toSiteId: string;
  state: ShipmentState;
}

/**
 * Whether a reader limited to the sites `scope` (readableSiteIds; null: every site) may see a shipment. The
 * sending site sees it throughout; the receiving clinic learns of it when it leaves, not while it is being
 * planned (ARCHITECTURE.md §1: clinic staff see shipments addressed to their clinic only). Anyone else: it does
 * not exist (404, never 403, which would confirm it).
 */
export function shipmentVisible(shipment: ShipmentParties, scope: readonly string[] | null): boolean {
  if (scope === null) return true;
  if (scope.includes(shipment.fromSiteId)) return true;
  return scope.includes(shipment.toSiteId) && shipment.state !== ShipmentState.Planned;
}

/**
 * Whether a reader may see a shipper (SSCC): its own site's always; another's when the reader may see the
 * shipment it travels on (`shipment`: null when it is on none).
 */
export function shipperVisible(
  shipper: { siteId: string },
  shipment: ShipmentParties | null,
  scope: readonly string[] | null,
): boolean {
  if (scope === null || scope.includes(shipper.siteId)) return true;
  return shipment !== null && shipmentVisible(shipment, scope);
}
