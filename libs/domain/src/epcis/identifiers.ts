import { ProblemCode } from '@lyotrace/contracts';
import { DomainError } from '../domain-error.js';
import { isInCharacterSet82 } from '../gs1/application-identifiers.js';
import { hasValidGs1CheckDigit } from '../gs1/check-digit.js';
import { GS1_RESOLVER } from '../gs1/digital-link.js';

/**
 * Identifiers as URIs for EPCIS 2.0 events.
 *
 * GS1 keys are written as GS1 Digital Link URIs on id.gs1.org, which EPCIS 2.0 accepts wherever an EPC is
 * expected. The EPC URN forms (`urn:epc:id:sgtin:…`) cannot be formed here: they split the GTIN at the GS1
 * company-prefix length, which a GTIN alone does not reveal.
 *
 * Everything GS1 has no key for (genealogy lots without a GTIN, sites, locations, loggers, parties,
 * patients) lives under the project's own namespace. These URIs are names, not web addresses: nothing is
 * promised to be served at them.
 */

/** The project's namespace: the `lyo:` prefix of every EPCIS document we write expands to it. */
export const LYOTRACE_NS = 'https://lyotrace.dev/epcis/';

const GS1_VARIABLE_MAX = 20;

/**
 * RFC 3986 §2.3: everything but the unreserved characters is percent-encoded, as the GS1 Digital Link
 * standard requires for AI values in the path. encodeURIComponent leaves `!'()*` alone; they are
 * sub-delimiters, so they are encoded too.
 */
function percentEncodeSegment(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function invalid(field: string, message: string): DomainError {
  return new DomainError(ProblemCode.ValidationFailed, message, { field });
}

/** GTIN-8/12/13/14 → the 14-digit form GS1 Digital Link uses as its canonical key. */
function gtin14(gtin: string): string {
  if (!/^(\d{8}|\d{12}|\d{13}|\d{14})$/.test(gtin)) {
    throw invalid('gtin', 'a GTIN has 8, 12, 13 or 14 digits');
  }
  if (!hasValidGs1CheckDigit(gtin)) throw invalid('gtin', `GTIN ${gtin} has a wrong check digit`);
  return gtin.padStart(14, '0');
}

function gs1Variable(field: string, value: string): string {
  if (value.length === 0 || value.length > GS1_VARIABLE_MAX || ![...value].every(isInCharacterSet82)) {
    throw invalid(field, `${field} must be 1 to ${GS1_VARIABLE_MAX} characters of GS1 character set 82`);
  }
  return percentEncodeSegment(value);
}

/** One serialized vial (SGTIN) as a GS1 Digital Link URI: `…/01/{gtin}/21/{serial}`. */
export function sgtinUri(gtin: string, serial: string): string {
  return `${GS1_RESOLVER}/01/${gtin14(gtin)}/21/${gs1Variable('serial', serial)}`;
}

/** A finished lot of a product (LGTIN, an EPC class for quantity lists): `…/01/{gtin}/10/{lot}`. */
export function lgtinUri(gtin: string, lot: string): string {
  return `${GS1_RESOLVER}/01/${gtin14(gtin)}/10/${gs1Variable('lot', lot)}`;
}

/** A shipper (SSCC, N18 with a mod-10 check digit): `…/00/{sscc}`. */
export function ssccUri(sscc: string): string {
  if (!/^\d{18}$/.test(sscc)) throw invalid('sscc', 'an SSCC has 18 digits');
  if (!hasValidGs1CheckDigit(sscc)) throw invalid('sscc', `SSCC ${sscc} has a wrong check digit`);
  return `${GS1_RESOLVER}/00/${sscc}`;
}

/** `https://lyotrace.dev/epcis/{kind}/{segment}/…`, every segment percent-encoded. */
export function lyotraceUri(kind: string, ...segments: string[]): string {
  if (!/^[a-z][a-z0-9-]*$/.test(kind)) throw invalid('kind', `"${kind}" is not a lower-case path word`);
  if (segments.length === 0 || segments.some((s) => s.length === 0)) {
    throw invalid(kind, `a ${kind} URI needs a non-empty identifier`);
  }
  return `${LYOTRACE_NS}${kind}/${segments.map(percentEncodeSegment).join('/')}`;
}

/** A genealogy lot with no GTIN: donor material, cell bank, expansion batch, harvest, pool, raw material. */
export const lotUri = (code: string): string => lyotraceUri('lot', code);
export const siteUri = (id: string): string => lyotraceUri('site', id);
export const locationUri = (id: string): string => lyotraceUri('location', id);
/** A data logger or probe, by its own serial number. */
export const deviceUri = (serial: string): string => lyotraceUri('device', serial);
/** A legal party (owning / possessing party in source and destination lists). */
export const partyUri = (id: string): string => lyotraceUri('party', id);
/** Patient references are pseudonyms scoped to the issuing clinic, so the clinic is part of the name. */
export const patientUri = (clinicSiteId: string, patientRef: string): string =>
  lyotraceUri('patient', clinicSiteId, patientRef);
