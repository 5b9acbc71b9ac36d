import { LotStatus, VialHold, VialState } from '@lyotrace/contracts';

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

// Building an Intl.DateTimeFormat costs far more than using one (it loads the zone's ICU data): one per zone,
// kept, since every gate check (each scan) asks. Zones are a short list (the sites'); the cap is a safeguard.
const wallClocks = new Map<string, Intl.DateTimeFormat>();
function wallClock(timeZone: string): Intl.DateTimeFormat {
  let format = wallClocks.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    if (wallClocks.size >= 1_000) wallClocks.clear();
    wallClocks.set(timeZone, format);
  }
  return format;
}

/**
 * The instant a vial expires: the end of its expiry day in the zone of the site that holds it (we read
 * "use by" as usable through that whole local day). Computed with the zone's offset at that moment.
 */
export function expiryInstant(expiry: string, timeZone: string): Date {
  const [y, m, d] = expiry.split('-').map(Number) as [number, number, number];
  // Midnight at the start of the next local day, found by correcting a UTC guess with the zone's offset.
  const guess = Date.UTC(y, m - 1, d + 1, 0, 0, 0);
  const format = wallClock(timeZone);
  const offsetAt = (t: number): number => {
    const parts: Record<string, number> = {};
    for (const p of format.formatToParts(new Date(t)))
      if (p.type !== 'literal') parts[p.type] = Number(p.value);
    return Date.UTC(parts.year!, parts.month! - 1, parts.day, parts.hour, parts.minute, parts.second) - t;
  };
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
  when: { at: Date; timeZone: string; arrivalAt?: Date },
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
  else if (when.arrivalAt && when.arrivalAt.getTime() >= end) blocks.push(VialBlock.ExpiresInTransit);
  return blocks;
}
