import { LotStatus, ProblemCode, VialHold, VialState } from '@lyotrace/contracts';
import { DomainError } from '../domain-error.js';
import { assertPatientRef, type DosableVial, DoseBlock, doseBlocks } from './dose-rules.js';
import { VialBlock } from './vial-gate.js';

const CLINIC = 'c1a1c000-0000-4000-8000-000000000001';
const OTHER = 'c1a1c000-0000-4000-8000-000000000002';

const vial = (o: Partial<DosableVial> = {}): DosableVial => ({
  lotStatus: LotStatus.Released,
  state: VialState.AtClinic,
  recalled: false,
  expiry: '2027-03-31',
  hold: null,
  exposureOutOfRangeS: 0,
  stabilityBudgetS: null,
  holderSiteId: CLINIC,
  timeZone: 'Europe/Rome',
  dosed: false,
  lotCode: 'LYO24A01',
  ...o,
});
const at = new Date('2027-01-10T09:30:00Z');

function refusal(run: () => unknown): DomainError {
  try {
    run();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a DomainError');
}

describe('doseBlocks', () => {
  it('lets a released vial received at this clinic be dosed', () => {
    expect(doseBlocks(vial(), CLINIC, at)).toEqual([]);
  });

  it.each([
    [{ lotStatus: LotStatus.PendingRelease }, [VialBlock.Unreleased]],
    [{ lotStatus: LotStatus.Rejected }, [VialBlock.Rejected]],
    [{ recalled: true }, [VialBlock.Recalled]],
    [{ hold: VialHold.Quarantine }, [VialBlock.Quarantined]],
    [{ hold: VialHold.UnderInvestigation }, [VialBlock.UnderInvestigation]],
    [{ exposureOutOfRangeS: 7201, stabilityBudgetS: 7200 }, [VialBlock.StabilityBudgetExceeded]],
    [{ expiry: '2027-01-09' }, [VialBlock.Expired]],
    [{ state: VialState.Destroyed }, [VialBlock.Destroyed]],
    [{ state: VialState.Dispensed, dosed: true }, [VialBlock.AlreadyDispensed, DoseBlock.AlreadyDosed]],
    [{ dosed: true }, [DoseBlock.AlreadyDosed]],
    [{ state: VialState.InStock }, [DoseBlock.NotReceived]],
    [{ state: VialState.InTransit, holderSiteId: OTHER }, [DoseBlock.NotAtThisClinic, DoseBlock.NotReceived]],
    [{ holderSiteId: OTHER }, [DoseBlock.NotAtThisClinic]],
  ])('refuses %j with %j', (o, expected) => {
    expect(doseBlocks(vial(o), CLINIC, at)).toEqual(expected);
  });

  it('judges expiry at the time of administration, at the end of the day in the clinic’s zone', () => {
    const v = vial({ expiry: '2027-01-10' });
    expect(doseBlocks(v, CLINIC, new Date('2027-01-10T22:59:59Z'))).toEqual([]);
    expect(doseBlocks(v, CLINIC, new Date('2027-01-10T23:00:00Z'))).toEqual([VialBlock.Expired]);
  });

  it('refuses a scanned label whose lot or expiry is not the vial on record', () => {
    expect(doseBlocks(vial(), CLINIC, at, { lot: 'LYO24A01', expiry: '2027-03-31' })).toEqual([]);
    expect(doseBlocks(vial(), CLINIC, at, { lot: 'LYO24A02' })).toEqual([DoseBlock.LabelMismatch]);
    expect(doseBlocks(vial(), CLINIC, at, { expiry: '2027-04-30' })).toEqual([DoseBlock.LabelMismatch]);
  });

  it('lists every reason at once', () => {
    expect(
      doseBlocks(
        vial({
          lotStatus: LotStatus.Rejected,
          recalled: true,
          state: VialState.InTransit,
          holderSiteId: OTHER,
        }),
        CLINIC,
        at,
      ),
    ).toEqual([VialBlock.Rejected, VialBlock.Recalled, DoseBlock.NotAtThisClinic, DoseBlock.NotReceived]);
  });
});

describe('assertPatientRef: pseudonyms only', () => {
  it.each(['P-7F3A', 'PAT_0042', 'k9x.22-b', 'ABC', 'a'.repeat(40), 'PAT-2024-001'])('accepts %s', (ref) => {
    expect(assertPatientRef(ref)).toBe(ref);
  });

  it.each([
    ['a name with a space', 'Mario Rossi'],
    ['too short', 'P1'],
    ['too long', 'a'.repeat(41)],
    ['a leading dash', '-P7F3A'],
    ['punctuation', "O'Brien"],
    ['an accented letter', 'Andrè'],
    ['empty', ''],
    ['an ISO birth date', 'P-1984-03-07'],
    ['a compact ISO date', 'ROSSI19840307'],
    ['a European date', 'MR.07.03.1984'],
    ['a short European date', 'PT-7-3-84'],
    ['a DDMMYYYY date', 'R07031984'],
  ])('refuses %s (%s), naming the field', (_case, ref) => {
    expect(refusal(() => assertPatientRef(ref))).toMatchObject({
      code: ProblemCode.PatientRefInvalid,
      extensions: { field: 'patientRef' },
    });
  });
});
