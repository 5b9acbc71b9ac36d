/**
 * Kinds of lot in the genealogy graph (ARCHITECTURE.md §3). Stored as text: never rename a value.
 */
export enum LotKind {
  Donor = 'donor',
  MasterCellBank = 'master_cell_bank',
  WorkingCellBank = 'working_cell_bank',
  ExpansionBatch = 'expansion_batch',
  Harvest = 'harvest',
  SecretomeBulk = 'secretome_bulk',
  FinishedLot = 'finished_lot',
  RawMaterial = 'raw_material',
  EvIsolate = 'ev_isolate',
  DrugCargo = 'drug_cargo',
  LoadedEvLot = 'loaded_ev_lot',
}

/**
 * Quality status of a lot. Only finished (vialled) lots go through release; intermediates are `active`.
 * Stored as text: never rename a value.
 */
export enum LotStatus {
  Active = 'active',
  PendingRelease = 'pending_release',
  Released = 'released',
  Rejected = 'rejected',
}

/** Where a vial is in its life. Stored as text: never rename a value. */
export enum VialState {
  InStock = 'in_stock',
  InTransit = 'in_transit',
  AtClinic = 'at_clinic',
  Dispensed = 'dispensed',
  Destroyed = 'destroyed',
  Sample = 'sample',
}

/** Units a transformation may move. Quantities of one lot are always in the lot's own unit. */
export enum QuantityUnit {
  Each = 'each',
  Millilitre = 'mL',
  Litre = 'L',
  Milligram = 'mg',
  Gram = 'g',
  Cells = 'cells',
  Vials = 'vials',
  Flasks = 'flasks',
}

export interface LotView {
  id: string;
  code: string;
  kind: LotKind;
  status: LotStatus;
  productId: string | null;
  gtin: string | null;
  siteId: string;
  quantity: string;
  remainingQuantity: string;
  unit: QuantityUnit;
  expiry: string | null;
  attributes: Record<string, unknown>;
  externalIds: Record<string, string>;
  recordedBy: string;
  recordedAt: string;
  version: number;
}
