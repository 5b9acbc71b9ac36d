import { ProblemCode } from '@lyotrace/contracts';
import { DomainError } from '../domain-error.js';
import { LYOTRACE_NS } from './identifiers.js';

/**
 * CBV 2.0 standard vocabulary, written as the bare words EPCIS 2.0 JSON uses: the EPCIS context maps
 * `commissioning` to https://ref.gs1.org/cbv/BizStep-commissioning, so the bare word is the compact,
 * canonical form. The lists are the enums of the EPCIS 2.0 JSON schema.
 */
export const CBV_BIZ_STEPS = [
  'accepting',
  'arriving',
  'assembling',
  'collecting',
  'commissioning',
  'consigning',
  'creating_class_instance',
  'cycle_counting',
  'decommissioning',
  'departing',
  'destroying',
  'disassembling',
  'dispensing',
  'encoding',
  'entering_exiting',
  'holding',
  'inspecting',
  'installing',
  'killing',
  'loading',
  'other',
  'packing',
  'picking',
  'receiving',
  'removing',
  'repackaging',
  'repairing',
  'replacing',
  'reserving',
  'retail_selling',
  'sampling',
  'sensor_reporting',
  'shipping',
  'staging_outbound',
  'stock_taking',
  'stocking',
  'storing',
  'transporting',
  'unloading',
  'unpacking',
  'void_shipping',
] as const;
export type CbvBizStep = (typeof CBV_BIZ_STEPS)[number];

export const CBV_DISPOSITIONS = [
  'active',
  'available',
  'completeness_inferred',
  'completeness_verified',
  'conformant',
  'container_closed',
  'container_open',
  'damaged',
  'destroyed',
  'dispensed',
  'disposed',
  'encoded',
  'expired',
  'in_progress',
  'in_transit',
  'inactive',
  'mismatch_class',
  'mismatch_instance',
  'mismatch_quantity',
  'needs_replacement',
  'no_pedigree_match',
  'non_conformant',
  'non_sellable_other',
  'partially_dispensed',
  'recalled',
  'reserved',
  'retail_sold',
  'returned',
  'sellable_accessible',
  'sellable_not_accessible',
  'stolen',
  'unavailable',
  'unknown',
] as const;
export type CbvDisposition = (typeof CBV_DISPOSITIONS)[number];

/**
 * GMP states CBV has no word for. A bare `quarantined` fails the EPCIS schema (and would mean nothing to a
 * trading partner), so they are URIs in our namespace (ARCHITECTURE.md §5).
 */
export const LYO_DISPOSITION = {
  quarantined: `${LYOTRACE_NS}disposition/quarantined`,
  released: `${LYOTRACE_NS}disposition/released`,
  rejected: `${LYOTRACE_NS}disposition/rejected`,
  under_investigation: `${LYOTRACE_NS}disposition/under_investigation`,
} as const;
export type LyotraceDisposition = (typeof LYO_DISPOSITION)[keyof typeof LYO_DISPOSITION];

export type BizStep = CbvBizStep;
export type Disposition = CbvDisposition | LyotraceDisposition;

export type SourceDestinationType = 'owning_party' | 'possessing_party' | 'location';

/** CBV 2.0 business transaction types. */
export type BizTransactionType =
  | 'bol'
  | 'cert'
  | 'desadv'
  | 'inv'
  | 'pedigree'
  | 'po'
  | 'poc'
  | 'prodorder'
  | 'recadv'
  | 'rma'
  | 'testprd'
  | 'testres'
  | 'upevt';

export type ErrorReason = 'did_not_occur' | 'incorrect_data';

/** The GS1 Web Vocabulary measurement types a cold chain reports. */
export type MeasurementType = 'Temperature' | 'RelativeHumidity' | 'AbsoluteHumidity';
export type SensorAlertType = 'ALARM_CONDITION' | 'ERROR_CONDITION';

const BIZ_STEPS: ReadonlySet<string> = new Set(CBV_BIZ_STEPS);
const DISPOSITIONS: ReadonlySet<string> = new Set([...CBV_DISPOSITIONS, ...Object.values(LYO_DISPOSITION)]);

/**
 * Values often arrive as plain strings from a database column; the compiler cannot vouch for them. A typo
 * would still pass the EPCIS schema if it happened to look like a URI, so check against the lists.
 */
export function assertBizStep(value: string): asserts value is BizStep {
  if (!BIZ_STEPS.has(value)) {
    throw new DomainError(ProblemCode.ValidationFailed, `"${value}" is not a CBV 2.0 business step`, {
      field: 'bizStep',
    });
  }
}

export function assertDisposition(value: string, field = 'disposition'): asserts value is Disposition {
  if (!DISPOSITIONS.has(value)) {
    throw new DomainError(
      ProblemCode.ValidationFailed,
      `"${value}" is neither a CBV 2.0 disposition nor one of ${Object.values(LYO_DISPOSITION).join(', ')}`,
      { field },
    );
  }
}
