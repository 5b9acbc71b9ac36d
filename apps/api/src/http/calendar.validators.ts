import { instantMillis, isCalendarDate } from '@lyotrace/domain';
import type { TransformFnParams } from 'class-transformer';
import { buildMessage, ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * Request fields that are dates or instants, read by the domain's one calendar (libs/domain/src/calendar.ts):
 * what the API takes, ingest and PostgreSQL take too. A regex alone let `2026-02-31` through, and `new Date`
 * rolls it over to 3 March (EU GMP Annex 11 §5: built-in checks for the correct entry of data).
 */

/** `YYYY-MM-DD` naming a day that exists; the message names the field. */
export function IsCalendarDate(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isCalendarDate',
      validator: {
        validate: (value: unknown): boolean => isCalendarDate(value),
        defaultMessage: buildMessage(
          (each) => `${each}$property must be a calendar date YYYY-MM-DD that exists, e.g. 2027-02-28`,
          options,
        ),
      },
    },
    options,
  );
}

/**
 * For `@Transform`: an RFC 3339 instant with its zone becomes a Date; anything else is left as it came, for
 * `@IsDate` to refuse by the field's name.
 */
export function toInstant({ value }: TransformFnParams): unknown {
  if (typeof value !== 'string') return value;
  const ms = instantMillis(value);
  return Number.isNaN(ms) ? value : new Date(ms);
}
