import { ProblemCode } from '@lyotrace/contracts';
import { DomainError, instantMillis } from '@lyotrace/domain';

/**
 * A keyset paging position, opaque to the client: the sort key of the last row of a page — a time, then the
 * numeric ids that break ties in the order the query sorts by. One format for every paged read (EPCIS events,
 * logger readings), so that what a page hands out is exactly what the next request is checked against.
 */
export interface KeysetPosition {
  time: Date;
  keys: string[];
}

const KEY = /^\d{1,19}$/;
/** A tie-breaker is a bigint id: a number PostgreSQL's int8 cannot hold is refused here, not by the query. */
const isKey = (key: string): boolean => KEY.test(key) && BigInt(key) <= 9_223_372_036_854_775_807n;
const isTexts = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((part) => typeof part === 'string');

export function encodeKeysetPosition(time: Date, ...keys: string[]): string {
  return Buffer.from(JSON.stringify([time.toISOString(), ...keys]), 'utf8').toString('base64url');
}

/**
 * Reads a position handed out by encodeKeysetPosition with `keys` tie-breakers; anything else is refused by the
 * name of the request field that carried it (a forged or truncated position must not read from elsewhere).
 */
export function decodeKeysetPosition(token: string, keys: number, field: string): KeysetPosition {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (
    !isTexts(value) ||
    value.length !== keys + 1 ||
    Number.isNaN(instantMillis(value[0]!)) ||
    !value.slice(1).every(isKey)
  ) {
    throw new DomainError(
      ProblemCode.ValidationFailed,
      `${field} is not a paging position this server issued`,
      {
        field,
      },
    );
  }
  const [time, ...rest] = value;
  return { time: new Date(instantMillis(time!)), keys: rest };
}
