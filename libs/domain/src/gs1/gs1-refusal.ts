import { type ProblemCode } from '@lyotrace/contracts';
import { DomainError } from '../domain-error.js';

/**
 * Every GS1 refusal names the AI at fault (`ai`, when there is one) and, for element strings, the 0-based
 * offset in the raw scan (`position`), so a scanning screen can point at the offending characters.
 */
export function gs1Refusal(
  code: ProblemCode,
  message: string,
  where: { ai?: string; position?: number; field?: string } = {},
): DomainError {
  const extensions: Record<string, unknown> = {};
  if (where.ai !== undefined) extensions.ai = where.ai;
  if (where.position !== undefined) extensions.position = where.position;
  if (where.field !== undefined) extensions.field = where.field;
  return new DomainError(code, message, extensions);
}
