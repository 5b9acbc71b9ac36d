import { LotStatus, VialHold, VialState } from '@lyotrace/contracts';
import { zoneOffsetMs } from '../time-zone.js';

/** Why a vial may not be picked, packed, dispatched, received into stock or dosed. Stable codes. */
export enum VialBlock {
  Unreleased = 'VIAL_UNRELEASED',
  Rejected = 'VIAL_REJECTED',
  Recalled = 'VIAL_RECALLED',
  Expired = 'VIAL_EXPIRED',
  ExpiresInTransit = 'VIAL_EXPIRES_IN_TRANSIT',
  AlreadyDispensed = 'VIAL_ALREADY_DISPENSED',
  Destroyed = 'VIAL_DESTROYED',
  Quarantined = 'VIAL_QUARANTINED',
  UnderInvestigation = 'VIAL_UNDER_INVESTIGATION',
  StabilityBudgetExceeded = 'VIAL_STABILITY_BUDGET_EXCEEDED',
}

export interface GatedVial {
  lotStatus: LotStatus;
  state: VialState;
  recalled: boolean;
  /** 'YYYY-MM-DD' (GS1 (17) with DD=00 already resolved to the month's last day). */
  expiry: string;
  hold: VialHold | null;
  /** Seconds out of its storage range over its life so far. */
  exposureOutOfRangeS: number;
  /** The product's stability budget in seconds; null: none beyond the alarm rules. */
  stabilityBudgetS: number | null;
}

/**
 * The instant a vial expires: the end of its expiry day in the zone of the site that holds it (we read
 * "use by" as usable through that whole local day). Computed with the zone's offset at that moment.
 */
export function expiryInstant(expiry: string, timeZone: string): Date {
  const [y, m, d] = expiry.split('-').map(Number) as [number, number, number];
  // Midnight at the start of the next local day, found by correcting a UTC guess with the zone's offset.
  const guess = Date.UTC(y, m - 1, d + 1, 0, 0, 0);
  const offsetAt = (t: number): number => zoneOffsetMs(new Date(t), timeZone);
  const first = guess - offsetAt(guess);
  return new Date(guess - offsetAt(first));
}

/**
 * Every reason a vial is blocked at `at` (and, when shipping, still at the planned arrival). ARCHITECTURE.md
 * §1: nothing quarantined, recalled, expired, rejected or unreleased may leave; EU GDP Ch. 9: a product must
 * not expire in transit. An empty list means the vial may proceed.
 */
export function vialBlocks(
  vial: GatedVial,
  when: { at: Date; timeZone: string; arrival?: { at: Date; timeZone: string } },
): VialBlock[] {
  const blocks: VialBlock[] = [];
  if (vial.lotStatus === LotStatus.Rejected) blocks.push(VialBlock.Rejected);
  else if (vial.lotStatus !== LotStatus.Released) blocks.push(VialBlock.Unreleased);
  if (vial.recalled) blocks.push(VialBlock.Recalled);
  if (vial.state === VialState.Dispensed) blocks.push(VialBlock.AlreadyDispensed);
  if (vial.state === VialState.Destroyed) blocks.push(VialBlock.Destroyed);
  // EU GMP Ch. 5.61 / EU GDP 5.5: quarantined goods are held apart until QA releases them.
  if (vial.hold === VialHold.Quarantine) blocks.push(VialBlock.Quarantined);
  if (vial.hold === VialHold.UnderInvestigation) blocks.push(VialBlock.UnderInvestigation);
  // COLD-CHAIN.md cumulative limit: the stability budget is never reset; once spent, the vial stops.
  if (vial.stabilityBudgetS !== null && vial.exposureOutOfRangeS > vial.stabilityBudgetS) {
    blocks.push(VialBlock.StabilityBudgetExceeded);
  }
  const end = expiryInstant(vial.expiry, when.timeZone).getTime();
  if (when.at.getTime() >= end) blocks.push(VialBlock.Expired);
  // At the planned arrival the vial is judged where it will then be: the end of its expiry day in that zone.
  else if (
    when.arrival &&
    when.arrival.at.getTime() >= expiryInstant(vial.expiry, when.arrival.timeZone).getTime()
  ) {
    blocks.push(VialBlock.ExpiresInTransit);
  }
  return blocks;
}
