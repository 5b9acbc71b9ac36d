/** Chain of custody: locations, shippers, shipments, scans, receipts and doses. Stored values: never rename. */

export enum LocationKind {
  Freezer = 'freezer',
  Fridge = 'fridge',
  Room = 'room',
  Shelf = 'shelf',
}

/**
 * A hold keeps a vial where it is until QA decides: `quarantine` (e.g. received while an excursion was open on
 * its shipper), `under_investigation` (expected at receipt but missing). A held vial passes no gate.
 */
export enum VialHold {
  Quarantine = 'quarantine',
  UnderInvestigation = 'under_investigation',
}

/** A shipper (logistic unit with an SSCC) from creation to receipt. */
export enum ContainerState {
  Open = 'open',
  Dispatched = 'dispatched',
  Received = 'received',
}

export enum ShipmentState {
  Planned = 'planned',
  Dispatched = 'dispatched',
  Receiving = 'receiving',
  Received = 'received',
}

/** The outcome of a clinic receipt (confirmed with an e-signature). */
export enum ReceiptResult {
  Complete = 'complete',
  WithDiscrepancy = 'with_discrepancy',
}

/** What one vial scan at receipt found. */
export enum ReceiptLineOutcome {
  /** Expected and scanned. */
  Received = 'received',
  /** Expected, not scanned at confirmation: custody "under investigation", QA task raised. */
  Missing = 'missing',
  /** Scanned, not on the packing list: recorded, not taken into stock. */
  Unexpected = 'unexpected',
}

export enum ScanAction {
  Receive = 'receive',
  Putaway = 'putaway',
  Move = 'move',
  Pick = 'pick',
  Pack = 'pack',
  Unpack = 'unpack',
  Receipt = 'receipt',
  Dose = 'dose',
  Lookup = 'lookup',
}

/** What the scan turned out to be. */
export enum ScanOutcome {
  /** The action was carried out. */
  Done = 'done',
  /** The scan resolved, but a rule refused the action; nothing changed (the refusal is audited). */
  Refused = 'refused',
  /** Nothing changed because nothing needed to (lookup; a dose pre-check). */
  Looked = 'looked',
}

export enum DoseRoute {
  Intravenous = 'intravenous',
  Intramuscular = 'intramuscular',
  Subcutaneous = 'subcutaneous',
  Intradermal = 'intradermal',
  Intraarticular = 'intraarticular',
  Topical = 'topical',
  Inhalation = 'inhalation',
  Intrathecal = 'intrathecal',
  Other = 'other',
}

export enum QaTaskKind {
  MissingAtReceipt = 'missing_at_receipt',
}

/** Where a vial is: the site, and within it a location or a shipper; or a shipment on the road. */
export interface VialHolderView {
  siteId: string | null;
  siteCode: string | null;
  locationId: string | null;
  locationCode: string | null;
  containerId: string | null;
  sscc: string | null;
  shipmentId: string | null;
}
