import { LotStatus, ScanAction, ShipmentState, VialHold, VialState } from '@lyotrace/contracts';
import {
  CustodyRefusal,
  custodyRefusals,
  type CustodyVial,
  shipmentVisible,
  shipperVisible,
  type WarehouseAction,
} from './custody-rules.js';
import { VialBlock } from './vial-gate.js';

const DEPOT = 'depot';
const vial = (o: Partial<CustodyVial> = {}): CustodyVial => ({
  lotStatus: LotStatus.Released,
  state: VialState.InStock,
  recalled: false,
  expiry: '2030-12-31',
  hold: null,
  exposureOutOfRangeS: 0,
  stabilityBudgetS: null,
  holderSiteId: DEPOT,
  locationId: null,
  containerId: null,
  openStep: 'receive',
  ...o,
});
const step = (o: Partial<{ locationId: string; containerId: string; siteId: string }> = {}) => ({
  siteId: DEPOT,
  at: new Date('2027-01-10T10:00:00Z'),
  timeZone: 'Europe/Rome',
  ...o,
});
const refusals = (action: WarehouseAction, v: Partial<CustodyVial>, s = step()) =>
  custodyRefusals(action, vial(v), s);

describe('custodyRefusals', () => {
  describe('receive', () => {
    it('takes a vial from the production site, released or not (quarantine storage, EU GMP 5.61)', () => {
      expect(refusals(ScanAction.Receive, { holderSiteId: 'prod', openStep: 'commission' })).toEqual([]);
      expect(
        refusals(ScanAction.Receive, { holderSiteId: 'prod', lotStatus: LotStatus.PendingRelease }),
      ).toEqual([]);
    });
    it('receives a vial commissioned at this very site once', () => {
      expect(refusals(ScanAction.Receive, { openStep: 'commission' })).toEqual([]);
      expect(refusals(ScanAction.Receive, { openStep: 'putaway' })).toEqual([CustodyRefusal.AlreadyReceived]);
    });
    it('refuses recalled and rejected vials, and vials on the road or packed', () => {
      expect(refusals(ScanAction.Receive, { holderSiteId: 'prod', recalled: true })).toEqual([
        VialBlock.Recalled,
      ]);
      expect(refusals(ScanAction.Receive, { holderSiteId: 'prod', lotStatus: LotStatus.Rejected })).toEqual([
        VialBlock.Rejected,
      ]);
      expect(refusals(ScanAction.Receive, { state: VialState.InTransit })).toEqual([
        CustodyRefusal.AlreadyShipped,
      ]);
      expect(refusals(ScanAction.Receive, { holderSiteId: 'prod', containerId: 'c' })).toEqual([
        CustodyRefusal.InShipper,
      ]);
    });
  });

  describe('putaway and move', () => {
    it('stores held and unreleased vials too: they must be kept cold, segregated', () => {
      expect(refusals(ScanAction.Putaway, { hold: VialHold.Quarantine }, step({ locationId: 'L1' }))).toEqual(
        [],
      );
      expect(
        refusals(ScanAction.Putaway, { lotStatus: LotStatus.PendingRelease }, step({ locationId: 'L1' })),
      ).toEqual([]);
    });
    it('moves only what is in a location, to another one, at this site', () => {
      expect(refusals(ScanAction.Move, {}, step({ locationId: 'L2' }))).toEqual([
        CustodyRefusal.NotInLocation,
      ]);
      expect(refusals(ScanAction.Move, { locationId: 'L1' }, step({ locationId: 'L1' }))).toEqual([
        CustodyRefusal.AlreadyThere,
      ]);
      expect(refusals(ScanAction.Move, { locationId: 'L1' }, step({ locationId: 'L2' }))).toEqual([]);
      expect(
        refusals(
          ScanAction.Move,
          { holderSiteId: 'elsewhere', locationId: 'L1' },
          step({ locationId: 'L2' }),
        ),
      ).toEqual([CustodyRefusal.NotAtSite]);
      expect(refusals(ScanAction.Putaway, { containerId: 'c' }, step({ locationId: 'L1' }))).toEqual([
        CustodyRefusal.InShipper,
      ]);
    });
  });

  describe('pick and pack pass the whole gate', () => {
    it.each([
      [{ lotStatus: LotStatus.PendingRelease }, VialBlock.Unreleased],
      [{ lotStatus: LotStatus.Rejected }, VialBlock.Rejected],
      [{ recalled: true }, VialBlock.Recalled],
      [{ hold: VialHold.Quarantine }, VialBlock.Quarantined],
      [{ hold: VialHold.UnderInvestigation }, VialBlock.UnderInvestigation],
      [{ expiry: '2027-01-09' }, VialBlock.Expired],
      [{ exposureOutOfRangeS: 10, stabilityBudgetS: 5 }, VialBlock.StabilityBudgetExceeded],
    ] as [Partial<CustodyVial>, VialBlock][])('%o → %s', (o, reason) => {
      expect(refusals(ScanAction.Pick, o)).toEqual([reason]);
      expect(refusals(ScanAction.Pack, o, step({ containerId: 'c' }))).toEqual([reason]);
    });
    it('refuses a vial already shipped or given, and one at another site', () => {
      expect(refusals(ScanAction.Pick, { state: VialState.InTransit })).toEqual([
        CustodyRefusal.AlreadyShipped,
      ]);
      expect(refusals(ScanAction.Pack, { state: VialState.AtClinic }, step({ containerId: 'c' }))).toEqual([
        CustodyRefusal.AlreadyShipped,
      ]);
      expect(refusals(ScanAction.Pick, { state: VialState.Dispensed })).toEqual([VialBlock.AlreadyDispensed]);
      expect(refusals(ScanAction.Pick, { state: VialState.Destroyed })).toEqual([VialBlock.Destroyed]);
      expect(refusals(ScanAction.Pick, { holderSiteId: 'elsewhere' })).toEqual([CustodyRefusal.NotAtSite]);
    });
    it('packs a vial into one shipper only', () => {
      expect(refusals(ScanAction.Pack, { containerId: 'c' }, step({ containerId: 'c' }))).toEqual([
        CustodyRefusal.AlreadyThere,
      ]);
      expect(refusals(ScanAction.Pack, { containerId: 'other' }, step({ containerId: 'c' }))).toEqual([
        CustodyRefusal.InShipper,
      ]);
    });
  });

  it('unpacks only what is in the shipper named (no gate: taking a blocked vial out is always allowed)', () => {
    expect(
      refusals(ScanAction.Unpack, { containerId: 'c', recalled: true }, step({ containerId: 'c' })),
    ).toEqual([]);
    expect(refusals(ScanAction.Unpack, {}, step({ containerId: 'c' }))).toEqual([
      CustodyRefusal.NotInShipper,
    ]);
    expect(refusals(ScanAction.Unpack, { containerId: 'other' }, step({ containerId: 'c' }))).toEqual([
      CustodyRefusal.NotInShipper,
    ]);
  });
});

describe('who may see a shipment and its shippers', () => {
  const shipment = (state: ShipmentState) => ({ fromSiteId: DEPOT, toSiteId: 'clinic-a', state });
  const all = Object.values(ShipmentState);

  it('shows every shipment to a reader not limited to sites, and every state to the sender', () => {
    for (const state of all) {
      expect(shipmentVisible(shipment(state), null)).toBe(true);
      expect(shipmentVisible(shipment(state), [DEPOT])).toBe(true);
    }
  });

  it('shows a shipment to the receiving clinic once it has left, never while it is planned', () => {
    expect(all.filter((state) => shipmentVisible(shipment(state), ['clinic-a']))).toEqual([
      ShipmentState.Dispatched,
      ShipmentState.Receiving,
      ShipmentState.Received,
    ]);
  });

  it('never shows a shipment to another clinic, nor to a clinic user with no site', () => {
    for (const state of all) {
      expect(shipmentVisible(shipment(state), ['clinic-b'])).toBe(false);
      expect(shipmentVisible(shipment(state), [])).toBe(false);
    }
  });

  it('shows a shipper to its own site, and to whoever may see the shipment it travels on', () => {
    const shipper = { siteId: DEPOT };
    expect(shipperVisible(shipper, null, [DEPOT])).toBe(true);
    expect(shipperVisible(shipper, null, null)).toBe(true);
    expect(shipperVisible(shipper, null, ['clinic-a'])).toBe(false);
    expect(shipperVisible(shipper, shipment(ShipmentState.Planned), ['clinic-a'])).toBe(false);
    expect(shipperVisible(shipper, shipment(ShipmentState.Dispatched), ['clinic-a'])).toBe(true);
    expect(shipperVisible(shipper, shipment(ShipmentState.Received), ['clinic-b'])).toBe(false);
  });
});
