import { LotStatus, VialHold, VialState } from '@lyotrace/contracts';
import { expiryInstant, VialBlock, vialBlocks, type GatedVial } from './vial-gate.js';

const vial = (o: Partial<GatedVial> = {}): GatedVial => ({
  lotStatus: LotStatus.Released,
  state: VialState.InStock,
  recalled: false,
  expiry: '2027-03-31',
  hold: null,
  exposureOutOfRangeS: 0,
  stabilityBudgetS: null,
  ...o,
});
const at = (iso: string) => ({ at: new Date(iso), timeZone: 'Europe/Rome' });

describe('expiryInstant: end of the expiry day in the holding site’s zone', () => {
  it('is local midnight after the expiry day, whatever the season', () => {
    expect(expiryInstant('2027-03-31', 'Europe/Rome').toISOString()).toBe('2027-03-31T22:00:00.000Z'); // CEST
    expect(expiryInstant('2027-01-31', 'Europe/Rome').toISOString()).toBe('2027-01-31T23:00:00.000Z'); // CET
    expect(expiryInstant('2027-01-31', 'UTC').toISOString()).toBe('2027-02-01T00:00:00.000Z');
    expect(expiryInstant('2027-01-31', 'America/New_York').toISOString()).toBe('2027-02-01T05:00:00.000Z');
  });
});

describe('vialBlocks', () => {
  it('lets a released, in-date vial through', () => {
    expect(vialBlocks(vial(), at('2027-03-31T21:59:59Z'))).toEqual([]);
  });
  it('blocks at the end of the expiry day in the site’s zone, not before', () => {
    expect(vialBlocks(vial(), at('2027-03-31T22:00:00Z'))).toEqual([VialBlock.Expired]);
  });
  it('blocks a vial that would expire in transit (EU GDP)', () => {
    expect(
      vialBlocks(vial(), {
        ...at('2027-03-30T08:00:00Z'),
        arrival: { at: new Date('2027-04-01T08:00:00Z'), timeZone: 'Europe/Rome' },
      }),
    ).toEqual([VialBlock.ExpiresInTransit]);
  });
  it('judges the arrival in the zone of the destination, not of the sender', () => {
    // Expiry 2027-03-31: ends 22:00Z in Rome, 04:00Z on April 1 in New York.
    const arrival = (timeZone: string) => ({
      ...at('2027-03-30T08:00:00Z'),
      arrival: { at: new Date('2027-03-31T23:00:00Z'), timeZone },
    });
    expect(vialBlocks(vial(), arrival('Europe/Rome'))).toEqual([VialBlock.ExpiresInTransit]);
    expect(vialBlocks(vial(), arrival('America/New_York'))).toEqual([]);
  });
  it.each([
    [{ lotStatus: LotStatus.PendingRelease }, [VialBlock.Unreleased]],
    [{ lotStatus: LotStatus.Rejected }, [VialBlock.Rejected]],
    [{ recalled: true }, [VialBlock.Recalled]],
    [{ state: VialState.Dispensed }, [VialBlock.AlreadyDispensed]],
    [{ state: VialState.Destroyed }, [VialBlock.Destroyed]],
    [{ lotStatus: LotStatus.Rejected, recalled: true }, [VialBlock.Rejected, VialBlock.Recalled]],
    [{ hold: VialHold.Quarantine }, [VialBlock.Quarantined]],
    [{ hold: VialHold.UnderInvestigation }, [VialBlock.UnderInvestigation]],
    [{ exposureOutOfRangeS: 3601, stabilityBudgetS: 3600 }, [VialBlock.StabilityBudgetExceeded]],
    [{ exposureOutOfRangeS: 3600, stabilityBudgetS: 3600 }, []],
    [{ exposureOutOfRangeS: 999_999, stabilityBudgetS: null }, []],
  ])('blocks %j with %j', (o, expected) => {
    expect(vialBlocks(vial(o), at('2027-01-01T00:00:00Z'))).toEqual(expected);
  });
});
