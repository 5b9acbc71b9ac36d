import { ProblemCode } from '@lyotrace/contracts';
import { DomainError } from '../domain-error.js';

/**
 * GS1 General Specifications §7.9.1, mod-10 check digit: from the rightmost data digit leftwards, weights
 * 3, 1, 3, 1…; check = (10 − sum mod 10) mod 10. Anchoring the weights on the right is what makes the same
 * rule serve GTIN-8/12/13/14, SSCC-18 and GLN, and what lets a GTIN be zero-padded to 14 digits unchanged.
 *
 * @param data the digits without the check digit (at least one)
 */
export function gs1CheckDigit(data: string): number {
  if (!/^\d+$/.test(data))
    throw new RangeError(`a GS1 check digit is computed over digits only, got "${data}"`);
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    sum += Number(data[data.length - 1 - i]) * (i % 2 === 0 ? 3 : 1);
  }
  return (10 - (sum % 10)) % 10;
}

/** Whether a whole GS1 key (data digits + check digit, e.g. a GTIN-14 or an SSCC-18) has a valid check digit. */
export function hasValidGs1CheckDigit(key: string): boolean {
  if (!/^\d{2,}$/.test(key)) return false;
  return gs1CheckDigit(key.slice(0, -1)) === Number(key.slice(-1));
}

/** GS1 General Specifications §1.4.4: a GS1 Company Prefix has 4 to 12 digits. */
const COMPANY_PREFIX = /^\d{4,12}$/;
/** Extension digit + company prefix + serial reference fill the 17 data digits of an SSCC. */
const SSCC_DATA_DIGITS = 17;

function ssccRefusal(code: ProblemCode, field: string, message: string): DomainError {
  return new DomainError(code, message, { ai: '00', field });
}

/**
 * A Serial Shipping Container Code (AI 00, GS1 General Specifications §2.2.1): extension digit (0–9, chosen
 * by the company), GS1 Company Prefix, serial reference left-padded with zeros to fill 17 digits, check digit.
 *
 * @param extensionDigit 0–9
 * @param companyPrefix the company's GS1 Company Prefix, 4–12 digits
 * @param serialReference a non-negative integer or a digit string; it may not need more digits than the prefix
 *   leaves (16 − prefix length)
 * @throws DomainError GS1_CHARSET or GS1_LENGTH with `{ ai: '00', field }`
 */
export function generateSscc(
  extensionDigit: number,
  companyPrefix: string,
  serialReference: number | string,
): string {
  if (!Number.isInteger(extensionDigit) || extensionDigit < 0 || extensionDigit > 9) {
    throw ssccRefusal(
      ProblemCode.Gs1Charset,
      'extensionDigit',
      'the SSCC extension digit must be one digit 0–9',
    );
  }
  if (!COMPANY_PREFIX.test(companyPrefix)) {
    throw ssccRefusal(ProblemCode.Gs1Length, 'companyPrefix', 'a GS1 Company Prefix must be 4 to 12 digits');
  }
  const serial = typeof serialReference === 'number' ? serialNumber(serialReference) : serialReference;
  if (!/^\d+$/.test(serial)) {
    throw ssccRefusal(
      ProblemCode.Gs1Charset,
      'serialReference',
      'the SSCC serial reference must be digits only',
    );
  }
  const room = SSCC_DATA_DIGITS - 1 - companyPrefix.length;
  if (serial.length > room) {
    throw ssccRefusal(
      ProblemCode.Gs1Length,
      'serialReference',
      `with a ${companyPrefix.length}-digit company prefix the SSCC serial reference has at most ${room} digits`,
    );
  }
  const data = `${extensionDigit}${companyPrefix}${serial.padStart(room, '0')}`;
  return `${data}${gs1CheckDigit(data)}`;
}

function serialNumber(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw ssccRefusal(
      ProblemCode.Gs1Charset,
      'serialReference',
      'the SSCC serial reference must be a non-negative integer',
    );
  }
  return String(value);
}
