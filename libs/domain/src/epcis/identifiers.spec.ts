import { ProblemCode } from '@lyotrace/contracts';
import { DomainError } from '../domain-error.js';
import {
  deviceUri,
  lgtinUri,
  locationUri,
  lotUri,
  LYOTRACE_NS,
  lyotraceUri,
  partyUri,
  patientUri,
  sgtinUri,
  siteUri,
  ssccUri,
} from './identifiers.js';

const GTIN = '09520012345674';
const SSCC = '095200123456789016';

function refusal(build: () => unknown): DomainError {
  try {
    build();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a DomainError');
}

describe('GS1 keys as Digital Link URIs', () => {
  it('names a vial by GTIN and serial, a lot class by GTIN and lot, a shipper by SSCC', () => {
    expect(sgtinUri(GTIN, 'V0001')).toBe('https://id.gs1.org/01/09520012345674/21/V0001');
    expect(lgtinUri(GTIN, 'LYO24A01')).toBe('https://id.gs1.org/01/09520012345674/10/LYO24A01');
    expect(ssccUri(SSCC)).toBe('https://id.gs1.org/00/095200123456789016');
  });

  it('writes a GTIN-13 as the 14-digit key', () => {
    expect(sgtinUri('9520012345674', 'V1')).toBe('https://id.gs1.org/01/09520012345674/21/V1');
  });

  it('percent-encodes every character of set 82 that is not RFC 3986 unreserved', () => {
    expect(sgtinUri(GTIN, 'A/B!(1)*')).toBe('https://id.gs1.org/01/09520012345674/21/A%2FB%21%281%29%2A');
    expect(lgtinUri(GTIN, "L%1&2'")).toBe('https://id.gs1.org/01/09520012345674/10/L%251%262%27');
    expect(sgtinUri(GTIN, 'a-b_c.d')).toBe('https://id.gs1.org/01/09520012345674/21/a-b_c.d');
  });

  it.each([
    ['a wrong check digit', () => sgtinUri('09520012345675', 'V1'), 'gtin'],
    ['a GTIN of 11 digits', () => sgtinUri('95200123456', 'V1'), 'gtin'],
    ['a space in a serial', () => sgtinUri(GTIN, 'V 1'), 'serial'],
    ['a # in a lot', () => lgtinUri(GTIN, 'L#1'), 'lot'],
    ['a serial of 21 characters', () => sgtinUri(GTIN, 'V'.repeat(21)), 'serial'],
    ['an empty lot', () => lgtinUri(GTIN, ''), 'lot'],
    ['an SSCC with a wrong check digit', () => ssccUri('095200123456789017'), 'sscc'],
    ['an SSCC of 17 digits', () => ssccUri('09520012345678901'), 'sscc'],
  ])('refuses %s', (_case, build, field) => {
    expect(refusal(build)).toMatchObject({ code: ProblemCode.ValidationFailed, extensions: { field } });
  });
});

describe('URIs in the lyotrace namespace', () => {
  it('names what GS1 has no key for', () => {
    expect(LYOTRACE_NS).toBe('https://lyotrace.dev/epcis/');
    expect(lotUri('WCB-2024-003')).toBe('https://lyotrace.dev/epcis/lot/WCB-2024-003');
    expect(siteUri('MI-WH')).toBe('https://lyotrace.dev/epcis/site/MI-WH');
    expect(locationUri('MI-WH/FRZ-02')).toBe('https://lyotrace.dev/epcis/location/MI-WH%2FFRZ-02');
    expect(deviceUri('LOG 7731')).toBe('https://lyotrace.dev/epcis/device/LOG%207731');
    expect(partyUri('lyotrace-srl')).toBe('https://lyotrace.dev/epcis/party/lyotrace-srl');
    expect(patientUri('CL-ROMA-01', 'P-7F3A')).toBe('https://lyotrace.dev/epcis/patient/CL-ROMA-01/P-7F3A');
  });

  it('refuses an empty identifier or a kind that is not a path word', () => {
    expect(refusal(() => lotUri(''))).toMatchObject({ extensions: { field: 'lot' } });
    expect(refusal(() => lyotraceUri('Bad Kind', 'x'))).toMatchObject({ extensions: { field: 'kind' } });
    expect(refusal(() => lyotraceUri('lot'))).toMatchObject({ extensions: { field: 'lot' } });
  });
});
