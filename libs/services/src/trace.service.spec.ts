import type { TraceVialRow, VialTuple } from '@lyotrace/persistence';
import { toTraceVial, vialLineFormat } from './trace.service.js';

const LOT_1 = '0b5f7c1e-59a4-4c59-8a57-4c1f6f3d2a01';
const LOT_2 = '0b5f7c1e-59a4-4c59-8a57-4c1f6f3d2a02';
const DEPOT = '5d0e4a57-3a63-4a7e-9f4f-6f1f1b9c0001';
const CLINIC = '5d0e4a57-3a63-4a7e-9f4f-6f1f1b9c0002';
const lotCodes = new Map([
  [LOT_1, 'LYO-0001'],
  [LOT_2, 'LYO-"quoted"\\é🙂\u0007'],
]);
const siteCodes = new Map([
  [DEPOT, 'DEPOT-1'],
  [CLINIC, 'CLINIC\nA'],
]);

/** A vial as the paged form reads it (a row), with its code joins done. */
function row(over: Partial<TraceVialRow>): TraceVialRow {
  const base: TraceVialRow = {
    id: 'a3e1c6f2-0d0b-4f5e-8a59-9b1d2c3e4f00',
    lot_id: LOT_1,
    lot_code: '',
    gtin: '09520017004201',
    serial: '7KQ2M9XW4T',
    expiry: '2028-06-30',
    state: 'in_stock',
    holder_site_id: DEPOT,
    holder_site_code: '',
    recall_id: null,
    hold: null,
    location_id: null,
    location_code: null,
    container_id: null,
    sscc: null,
    shipment_id: null,
    dose_id: null,
    administered_at: null,
    dose_site_id: null,
    dose_site_code: null,
    patient_ref: null,
  };
  const r = { ...base, ...over };
  return {
    ...r,
    lot_code: lotCodes.get(r.lot_id)!,
    holder_site_code: siteCodes.get(r.holder_site_id)!,
    dose_site_code: r.dose_site_id ? siteCodes.get(r.dose_site_id)! : null,
  };
}

/** The same vial as the stream reads it. */
const tuple = (r: TraceVialRow): VialTuple => [
  r.id,
  r.lot_id,
  r.gtin,
  r.serial,
  r.expiry,
  r.state,
  r.holder_site_id,
  r.recall_id ? 't' : 'f',
  r.hold,
  r.location_id,
  r.location_code,
  r.container_id,
  r.sscc,
  r.shipment_id,
  r.dose_id,
  r.administered_at,
  r.dose_site_id,
  r.patient_ref,
];

const ROWS: TraceVialRow[] = [
  row({}),
  row({ id: 'a3e1c6f2-0d0b-4f5e-8a59-9b1d2c3e4f01', serial: 'SER"IAL\\1' }),
  row({
    id: 'a3e1c6f2-0d0b-4f5e-8a59-9b1d2c3e4f02',
    lot_id: LOT_2,
    state: 'dispensed',
    holder_site_id: CLINIC,
    dose_id: 'c0ffee00-0000-4000-8000-000000000001',
    administered_at: new Date('2026-03-04T05:06:07.089Z'),
    dose_site_id: CLINIC,
    patient_ref: 'P-"7F3A"\t',
  }),
  row({
    id: 'a3e1c6f2-0d0b-4f5e-8a59-9b1d2c3e4f03',
    location_id: 'd1d1d1d1-0000-4000-8000-000000000001',
    location_code: 'FRIDGE\\2',
    hold: 'quarantine',
    recall_id: 'e2e2e2e2-0000-4000-8000-000000000001',
    state: 'in_stock',
  }),
  row({
    id: 'a3e1c6f2-0d0b-4f5e-8a59-9b1d2c3e4f04',
    lot_id: LOT_2,
    state: 'in_transit',
    gtin: '0952001700420"',
    expiry: '2029-01-31',
    container_id: 'f3f3f3f3-0000-4000-8000-000000000001',
    sscc: '395200170000000017',
    shipment_id: 'f4f4f4f4-0000-4000-8000-000000000001',
  }),
  row({ id: 'a3e1c6f2-0d0b-4f5e-8a59-9b1d2c3e4f05', lot_id: LOT_1 }),
];

describe('vialLineFormat (the NDJSON stream of a forward trace)', () => {
  it('writes each vial exactly as JSON.stringify writes the paged form of it, escapes included', () => {
    const expected = ROWS.map((r) => `${JSON.stringify({ type: 'vial', ...toTraceVial(r) })}\n`).join('');
    expect(vialLineFormat(lotCodes, siteCodes)(ROWS.map(tuple))).toBe(expected);
  });

  it('stays exact across batches, vial by vial, whatever repeats and whatever changes', () => {
    const format = vialLineFormat(lotCodes, siteCodes);
    for (const r of [...ROWS, ...ROWS.slice().reverse()]) {
      expect(format([tuple(r)])).toBe(`${JSON.stringify({ type: 'vial', ...toTraceVial(r) })}\n`);
    }
    expect(format([])).toBe('');
  });

  it('gives valid JSON lines', () => {
    const text = vialLineFormat(lotCodes, siteCodes)(ROWS.map(tuple));
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(ROWS.length);
    expect(lines.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(ROWS.map((r) => r.id));
  });

  it('refuses a vial whose lot or holder is not in the snapshot rather than writing a wrong line', () => {
    const format = vialLineFormat(lotCodes, siteCodes);
    const stray = { ...row({}), lot_id: 'ffffffff-0000-4000-8000-000000000000' };
    expect(() => format([tuple(stray)])).toThrow(/not in the trace's snapshot/);
    const elsewhere = { ...row({}), holder_site_id: 'ffffffff-0000-4000-8000-000000000001' };
    expect(() => vialLineFormat(lotCodes, siteCodes)([tuple(elsewhere)])).toThrow(
      /not in the trace's snapshot/,
    );
  });
});
