import { ProblemCode } from '@lyotrace/contracts';

/**
 * A refusal by a business rule. Carries a stable code (mapped to HTTP and problem+json at the edge) and
 * optional extension members (e.g. `field`, `ai`) that tell the client exactly what to fix.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ProblemCode,
    message: string,
    readonly extensions: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string, extensions: Record<string, unknown> = {}): DomainError =>
  new DomainError(ProblemCode.NotFound, `${what} not found`, extensions);
