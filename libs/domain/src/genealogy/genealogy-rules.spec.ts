import { LotKind, LotStatus } from '@lyotrace/contracts';
import { DomainError } from '../domain-error.js';
import { isReleasableKind, isRootKind, LOT_KIND_INPUTS } from './lot-kinds.js';
import { assertDisposable } from './release-rules.js';
import {
  assertLotEditable,
  assertNoCycle,
  assertTransformationKinds,
  consumeInputs,
  fromMicro,
  toMicro,
  type InputLotState,
} from './transformation-rules.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
  return undefined;
};

const lot = (overrides: Partial<InputLotState> = {}): InputLotState => ({
  id: 'L1',
  code: 'HRV-1',
  kind: LotKind.Harvest,
  status: LotStatus.Active,
  remaining: '5',
  unit: 'L',
  ...overrides,
});

describe('lot kinds (data, not code)', () => {
  it('has roots registered from outside and every other kind made from a required lineage', () => {
    expect([LotKind.Donor, LotKind.RawMaterial, LotKind.DrugCargo].every(isRootKind)).toBe(true);
    for (const kind of Object.values(LotKind).filter((k) => !isRootKind(k)))
      expect(LOT_KIND_INPUTS[kind].requires.length).toBeGreaterThan(0);
    expect(isReleasableKind(LotKind.FinishedLot)).toBe(true);
    expect(isReleasableKind(LotKind.SecretomeBulk)).toBe(false);
  });
});

describe('assertTransformationKinds', () => {
  it.each([
    [LotKind.MasterCellBank, [LotKind.Donor]],
    [LotKind.WorkingCellBank, [LotKind.MasterCellBank, LotKind.RawMaterial]],
    [LotKind.ExpansionBatch, [LotKind.ExpansionBatch, LotKind.RawMaterial]],
    [LotKind.SecretomeBulk, [LotKind.Harvest, LotKind.Harvest]],
    [LotKind.FinishedLot, [LotKind.SecretomeBulk, LotKind.RawMaterial]],
    [LotKind.LoadedEvLot, [LotKind.EvIsolate, LotKind.DrugCargo]],
  ])('lets a %s be made from %j', (out, inputs) => {
    expect(codeOf(() => assertTransformationKinds(out, inputs))).toBeUndefined();
  });

  it.each([
    [LotKind.Harvest, [LotKind.Donor], 'a kind that may not feed it'],
    [LotKind.FinishedLot, [LotKind.RawMaterial], 'materials without the required lineage'],
    [LotKind.FinishedLot, [], 'nothing at all'],
    [LotKind.Donor, [LotKind.RawMaterial], 'inputs for a root kind'],
  ])('refuses a %s from %j (%s)', (out, inputs) => {
    expect(codeOf(() => assertTransformationKinds(out, inputs))).toBe('GENEALOGY_KIND_NOT_ALLOWED');
  });
});

describe('consumeInputs (quantity conservation)', () => {
  it('returns what is left, exactly, in decimal', () => {
    const left = consumeInputs(new Map([['L1', lot({ remaining: '5' })]]), [
      { lotId: 'L1', quantity: '1.25', unit: 'L' },
    ]);
    expect(left.get('L1')).toBe('3.75');
  });

  it('allows consuming everything that is left, and not one millionth more', () => {
    const lots = new Map([['L1', lot({ remaining: '0.3' })]]);
    expect(consumeInputs(lots, [{ lotId: 'L1', quantity: '0.3', unit: 'L' }]).get('L1')).toBe('0');
    expect(codeOf(() => consumeInputs(lots, [{ lotId: 'L1', quantity: '0.300001', unit: 'L' }]))).toBe(
      'GENEALOGY_INSUFFICIENT_QUANTITY',
    );
  });

  it.each([
    [[{ lotId: 'nope', quantity: '1', unit: 'L' }], 'GENEALOGY_UNKNOWN_INPUT'],
    [[{ lotId: 'L1', quantity: '1', unit: 'mL' }], 'GENEALOGY_UNIT_MISMATCH'],
    [[{ lotId: 'L1', quantity: '0', unit: 'L' }], 'VALIDATION_FAILED'],
    [[{ lotId: 'L1', quantity: '1e3', unit: 'L' }], 'VALIDATION_FAILED'],
    [
      [
        { lotId: 'L1', quantity: '1', unit: 'L' },
        { lotId: 'L1', quantity: '1', unit: 'L' },
      ],
      'VALIDATION_FAILED',
    ],
  ])('refuses %j with %s', (requested, code) => {
    expect(codeOf(() => consumeInputs(new Map([['L1', lot()]]), requested))).toBe(code);
  });

  it('refuses a rejected input lot', () => {
    expect(
      codeOf(() =>
        consumeInputs(new Map([['L1', lot({ status: LotStatus.Rejected })]]), [
          { lotId: 'L1', quantity: '1', unit: 'L' },
        ]),
      ),
    ).toBe('GENEALOGY_INPUT_REJECTED');
  });

  it('keeps six decimal places through the scaled representation', () => {
    expect(fromMicro(toMicro('0.1') + toMicro('0.2'))).toBe('0.3');
    expect(fromMicro(toMicro('123456789012.123456'))).toBe('123456789012.123456');
  });
});

describe('assertNoCycle', () => {
  it('refuses a lot feeding itself or one of its ancestors', () => {
    expect(codeOf(() => assertNoCycle('A', ['A'], new Map()))).toBe('GENEALOGY_CYCLE');
    expect(codeOf(() => assertNoCycle('A', ['C'], new Map([['C', new Set(['B', 'A'])]])))).toBe(
      'GENEALOGY_CYCLE',
    );
    expect(codeOf(() => assertNoCycle('A', ['C'], new Map([['C', new Set(['B'])]])))).toBeUndefined();
  });
});

describe('closed lots and QA disposition (EU GMP Annex 16)', () => {
  it('closes released and rejected lots to change', () => {
    expect(codeOf(() => assertLotEditable({ code: 'L', status: LotStatus.Released }))).toBe('LOT_CLOSED');
    expect(codeOf(() => assertLotEditable({ code: 'L', status: LotStatus.Rejected }))).toBe('LOT_CLOSED');
    expect(codeOf(() => assertLotEditable({ code: 'L', status: LotStatus.PendingRelease }))).toBeUndefined();
  });

  const candidate = { code: 'LYO1', status: LotStatus.PendingRelease, recordedBy: 'u-prod', vialCount: 10 };
  it('lets someone other than the recorder release a pending lot with vials', () => {
    expect(codeOf(() => assertDisposable(candidate, 'u-qa', 'release'))).toBeUndefined();
  });
  it('refuses the recorder (four eyes), a lot not pending, and a release without vials', () => {
    expect(codeOf(() => assertDisposable(candidate, 'u-prod', 'release'))).toBe('RELEASE_BY_SAME_USER');
    expect(codeOf(() => assertDisposable(candidate, 'u-prod', 'reject'))).toBe('RELEASE_BY_SAME_USER');
    expect(
      codeOf(() => assertDisposable({ ...candidate, status: LotStatus.Released }, 'u-qa', 'release')),
    ).toBe('LOT_NOT_PENDING_RELEASE');
    expect(codeOf(() => assertDisposable({ ...candidate, vialCount: 0 }, 'u-qa', 'release'))).toBe(
      'LOT_HAS_NO_VIALS',
    );
    expect(codeOf(() => assertDisposable({ ...candidate, vialCount: 0 }, 'u-qa', 'reject'))).toBeUndefined();
  });
});
