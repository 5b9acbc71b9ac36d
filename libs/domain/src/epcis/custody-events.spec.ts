import { epcisSchemaErrors } from '../../../../test/support/epcis-validator.js';
import {
  shipmentEvent,
  shipperAggregationEvent,
  vialCustodyEvent,
  vialsAcceptedEvent,
} from './custody-events.js';
import { generateSscc } from '../gs1/index.js';
import { epcisDocument } from './events.js';
import { locationUri, sgtinUri, siteUri, ssccUri } from './identifiers.js';
import { LYO_DISPOSITION } from './vocabulary.js';

const SITE = '0d3b5b0a-0000-4000-8000-00000000de90';
const CLINIC = 'c1a1c000-0000-4000-8000-000000000001';
const LOCATION = '10ca7100-0000-4000-8000-000000000001';
const SHIPMENT = '5b1e0c1e-0000-4000-8000-0000000005b1';
const SSCC = generateSscc(0, '0614141', 1);
const vials = [
  { gtin: '09520012345674', serial: 'V0001' },
  { gtin: '09520012345674', serial: 'V0002' },
];
const where = { time: new Date('2027-01-10T09:00:00Z'), siteId: SITE, timeZone: 'Europe/Rome' };
const valid = (...events: Parameters<typeof epcisDocument>[0]) =>
  expect(epcisSchemaErrors(epcisDocument(events, new Date('2027-01-10T12:00:00Z')))).toEqual([]);

describe('custody EPCIS events (CBV 2.0), each valid against the EPCIS 2.0 JSON schema', () => {
  it('receives, stores, moves and picks vials as ObjectEvents with the CBV business step', () => {
    const received = vialCustodyEvent('receive', vials, where, { siteId: 'prod-site' });
    const stored = vialCustodyEvent('putaway', vials, { ...where, locationId: LOCATION });
    const picked = vialCustodyEvent('pick', vials, where);
    valid(received, stored, picked);
    expect(received).toMatchObject({
      type: 'ObjectEvent',
      action: 'OBSERVE',
      bizStep: 'receiving',
      epcList: vials.map((v) => sgtinUri(v.gtin, v.serial)),
      sourceList: [{ type: 'location', source: siteUri('prod-site') }],
      destinationList: [{ type: 'location', destination: siteUri(SITE) }],
      eventTimeZoneOffset: '+01:00',
    });
    expect(stored).toMatchObject({ bizStep: 'storing', bizLocation: { id: locationUri(LOCATION) } });
    expect(picked).toMatchObject({ bizStep: 'picking' });
    expect(picked).not.toHaveProperty('sourceList');
  });

  it('packs and unpacks as AggregationEvents ADD / DELETE under the SSCC', () => {
    const packed = shipperAggregationEvent('ADD', SSCC, vials, where);
    const unpacked = shipperAggregationEvent('DELETE', SSCC, vials.slice(1), where);
    valid(packed, unpacked);
    expect(packed).toMatchObject({
      type: 'AggregationEvent',
      action: 'ADD',
      bizStep: 'packing',
      parentID: ssccUri(SSCC),
    });
    expect(unpacked).toMatchObject({
      action: 'DELETE',
      bizStep: 'unpacking',
      childEPCs: [sgtinUri(vials[1]!.gtin, 'V0002')],
    });
  });

  it('ships and receives shippers with source and destination lists', () => {
    const route = { fromSiteId: SITE, toSiteId: CLINIC };
    const shipped = shipmentEvent('dispatched', [SSCC], SHIPMENT, route, where);
    const received = shipmentEvent('received', [SSCC], SHIPMENT, route, { ...where, siteId: CLINIC });
    valid(shipped, received);
    expect(shipped).toMatchObject({
      bizStep: 'shipping',
      disposition: 'in_transit',
      epcList: [ssccUri(SSCC)],
      sourceList: [{ type: 'location', source: siteUri(SITE) }],
      destinationList: [{ type: 'location', destination: siteUri(CLINIC) }],
    });
    expect(received).toMatchObject({ bizStep: 'receiving', disposition: 'in_progress' });
  });

  it('accepts vials into stock, into quarantine, or marks them missing, with persistent dispositions', () => {
    const at = { ...where, siteId: CLINIC };
    const stock = vialsAcceptedEvent(vials, SHIPMENT, 'stock', at);
    const quarantine = vialsAcceptedEvent(vials, SHIPMENT, 'quarantine', at);
    const missing = vialsAcceptedEvent(vials, SHIPMENT, 'missing', at);
    valid(stock, quarantine, missing);
    expect(stock).toMatchObject({ bizStep: 'accepting', disposition: 'in_progress' });
    expect(stock).not.toHaveProperty('persistentDisposition');
    expect(quarantine).toMatchObject({ persistentDisposition: { set: [LYO_DISPOSITION.quarantined] } });
    expect(missing).toMatchObject({
      bizStep: 'inspecting',
      persistentDisposition: { set: [LYO_DISPOSITION.under_investigation] },
    });
  });
});
