import { LotKind, LotStatus, ProblemCode } from '@lyotrace/contracts';
import { DomainError } from '../domain-error.js';
import { isRootKind, LOT_KIND_INPUTS } from './lot-kinds.js';

export interface InputLotState {
  id: string;
  code: string;
  kind: LotKind;
  status: LotStatus;
  /** Decimal string, as stored: quantities are never floats. */
  remaining: string;
  unit: string;
}

export interface RequestedInput {
  lotId: string;
  quantity: string;
  unit: string;
}

/** Quantities as exact decimals: six places, held as scaled bigint (never floating point). */
const SCALE = 6;
export function toMicro(decimal: string, field = 'quantity'): bigint {
  const m = /^(\d{1,12})(?:\.(\d{1,6}))?$/.exec(decimal.trim());
  if (!m) {
    throw new DomainError(
      ProblemCode.ValidationFailed,
      `${decimal} is not a quantity (up to 12 digits and 6 decimals)`,
      { field },
    );
  }
  return BigInt(m[1]!) * 10n ** BigInt(SCALE) + BigInt((m[2] ?? '').padEnd(SCALE, '0'));
}
export function fromMicro(micro: bigint): string {
  const whole = micro / 10n ** BigInt(SCALE);
  const frac = (micro % 10n ** BigInt(SCALE)).toString().padStart(SCALE, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : whole.toString();
}

/**
 * Checks that the output kind may be made from these inputs: the lineage input it requires is there and
 * nothing else is but what it allows. Raw-material-only or empty inputs are accepted for root kinds only.
 */
export function assertTransformationKinds(outputKind: LotKind, inputKinds: readonly LotKind[]): void {
  const rule = LOT_KIND_INPUTS[outputKind];
  if (isRootKind(outputKind)) {
    if (inputKinds.length > 0) {
      throw new DomainError(
        ProblemCode.GenealogyKindNotAllowed,
        `a ${outputKind} is registered from outside: it has no input lots`,
        {
          field: 'inputs',
        },
      );
    }
    return;
  }
  for (const kind of inputKinds) {
    if (!rule.requires.includes(kind) && !rule.allows.includes(kind)) {
      throw new DomainError(ProblemCode.GenealogyKindNotAllowed, `a ${kind} may not feed a ${outputKind}`, {
        field: 'inputs',
        inputKind: kind,
        outputKind,
      });
    }
  }
  if (!inputKinds.some((k) => rule.requires.includes(k))) {
    throw new DomainError(
      ProblemCode.GenealogyKindNotAllowed,
      `a ${outputKind} needs at least one input of kind ${rule.requires.join(' or ')}`,
      {
        field: 'inputs',
        outputKind,
      },
    );
  }
}

/**
 * Quantity conservation: every input consumes a positive amount, in the lot's own unit, no more than is
 * left. Returns the remaining quantity of each input after consumption.
 */
export function consumeInputs(
  lots: ReadonlyMap<string, InputLotState>,
  requested: readonly RequestedInput[],
): Map<string, string> {
  const after = new Map<string, string>();
  const seen = new Set<string>();
  requested.forEach((input, index) => {
    const field = `inputs.${index}`;
    if (seen.has(input.lotId))
      throw new DomainError(ProblemCode.ValidationFailed, 'an input lot is listed twice', {
        field: `${field}.lotId`,
      });
    seen.add(input.lotId);
    const lot = lots.get(input.lotId);
    if (!lot)
      throw new DomainError(ProblemCode.GenealogyUnknownInput, `input lot ${input.lotId} does not exist`, {
        field: `${field}.lotId`,
      });
    if (lot.status === LotStatus.Rejected) {
      throw new DomainError(
        ProblemCode.GenealogyInputRejected,
        `lot ${lot.code} was rejected and cannot be used`,
        { field: `${field}.lotId` },
      );
    }
    if (input.unit !== lot.unit) {
      throw new DomainError(
        ProblemCode.GenealogyUnitMismatch,
        `lot ${lot.code} is counted in ${lot.unit}, not ${input.unit}`,
        { field: `${field}.unit` },
      );
    }
    const want = toMicro(input.quantity, `${field}.quantity`);
    if (want <= 0n)
      throw new DomainError(ProblemCode.ValidationFailed, 'a consumed quantity must be positive', {
        field: `${field}.quantity`,
      });
    const left = toMicro(lot.remaining);
    if (want > left) {
      throw new DomainError(
        ProblemCode.GenealogyInsufficientQuantity,
        `lot ${lot.code} has ${lot.remaining} ${lot.unit} left; ${input.quantity} requested`,
        { field: `${field}.quantity`, remaining: lot.remaining },
      );
    }
    after.set(input.lotId, fromMicro(left - want));
  });
  return after;
}

/**
 * Would linking these parents to this child make a lot its own ancestor? `ancestorsOf(parent)` must return
 * every ancestor of a parent (the database answers it with a recursive query). Pure given that function.
 */
export function assertNoCycle(
  childId: string,
  parentIds: readonly string[],
  ancestorsOf: ReadonlyMap<string, ReadonlySet<string>>,
): void {
  for (const parent of parentIds) {
    if (parent === childId || ancestorsOf.get(parent)?.has(childId)) {
      throw new DomainError(ProblemCode.GenealogyCycle, 'this would make a lot its own ancestor', {
        field: 'inputs',
        lotId: parent,
      });
    }
  }
}

/** A released or rejected lot is a closed record: its data cannot change any more (EU GMP Ch. 4, Annex 16). */
export function assertLotEditable(lot: { code: string; status: LotStatus }): void {
  if (lot.status === LotStatus.Released || lot.status === LotStatus.Rejected) {
    throw new DomainError(
      ProblemCode.LotClosed,
      `lot ${lot.code} is ${lot.status}: it can no longer be changed`,
      { lotStatus: lot.status },
    );
  }
}
