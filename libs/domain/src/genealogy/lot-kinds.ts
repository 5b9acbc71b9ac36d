import { LotKind } from '@lyotrace/contracts';

/**
 * What each kind of lot is made from. `requires`: at least one input must be of one of these kinds (the
 * biological lineage); `allows`: further inputs that may be consumed alongside (media, cryoprotectant,
 * cargo). Kinds with neither are roots: registered from outside (a donation, a supplier's lot).
 * This is data, checked by `assertTransformationKinds`, so a new product line adds rows, not code.
 */
export const LOT_KIND_INPUTS: Readonly<
  Record<LotKind, { requires: readonly LotKind[]; allows: readonly LotKind[] }>
> = {
  [LotKind.Donor]: { requires: [], allows: [] },
  [LotKind.RawMaterial]: { requires: [], allows: [] },
  [LotKind.DrugCargo]: { requires: [], allows: [] },
  [LotKind.MasterCellBank]: { requires: [LotKind.Donor], allows: [LotKind.RawMaterial] },
  [LotKind.WorkingCellBank]: { requires: [LotKind.MasterCellBank], allows: [LotKind.RawMaterial] },
  // A passage is an expansion of an expansion.
  [LotKind.ExpansionBatch]: {
    requires: [LotKind.WorkingCellBank, LotKind.ExpansionBatch],
    allows: [LotKind.RawMaterial],
  },
  [LotKind.Harvest]: { requires: [LotKind.ExpansionBatch], allows: [LotKind.RawMaterial] },
  // Pooling several harvests (ultrafiltration), possibly into an existing pool.
  [LotKind.SecretomeBulk]: { requires: [LotKind.Harvest], allows: [LotKind.RawMaterial] },
  // Formulation + lyophilization + fill.
  [LotKind.FinishedLot]: { requires: [LotKind.SecretomeBulk], allows: [LotKind.RawMaterial] },
  [LotKind.EvIsolate]: { requires: [LotKind.Harvest], allows: [LotKind.RawMaterial] },
  [LotKind.LoadedEvLot]: { requires: [LotKind.EvIsolate], allows: [LotKind.DrugCargo, LotKind.RawMaterial] },
};

export const isRootKind = (kind: LotKind): boolean => LOT_KIND_INPUTS[kind].requires.length === 0;

/** Kinds that are vialled, serialized and released by QA (EU GMP Annex 16: certification before supply). */
export const RELEASABLE_KINDS: readonly LotKind[] = [LotKind.FinishedLot, LotKind.LoadedEvLot];
export const isReleasableKind = (kind: LotKind): boolean => RELEASABLE_KINDS.includes(kind);
