import type { MigrationInterface } from 'typeorm';
import { Platform1764014400000 } from './1764014400000-platform.js';
import { AuditLaneHeads1764021600000 } from './1764021600000-audit-lane-heads.js';
import { Genealogy1764025200000 } from './1764025200000-genealogy.js';
import { EpcisEvents1764028800000 } from './1764028800000-epcis-events.js';
import { Recalls1764032400000 } from './1764032400000-recalls.js';
import { Custody1764036000000 } from './1764036000000-custody.js';
import { Readings1764039600000 } from './1764039600000-readings.js';
import { EpcisErrorDeclarations1764041400000 } from './1764041400000-epcis-error-declarations.js';
import { TraceVialOrder1764046800000 } from './1764046800000-trace-vial-order.js';
import { LeanStepIndexes1764050400000 } from './1764050400000-lean-step-indexes.js';
import { TraceDoseCover1764052200000 } from './1764052200000-trace-dose-cover.js';
import { AuditLaneGuard1764054000000 } from './1764054000000-audit-lane-guard.js';

/** Every migration, in order. Listed explicitly (no globs): what runs is what is committed. */
export const MIGRATIONS: (new () => MigrationInterface)[] = [
  Platform1764014400000,
  AuditLaneHeads1764021600000,
  Genealogy1764025200000,
  EpcisEvents1764028800000,
  Recalls1764032400000,
  Custody1764036000000,
  Readings1764039600000,
  EpcisErrorDeclarations1764041400000,
  TraceVialOrder1764046800000,
  LeanStepIndexes1764050400000,
  TraceDoseCover1764052200000,
  AuditLaneGuard1764054000000,
];
