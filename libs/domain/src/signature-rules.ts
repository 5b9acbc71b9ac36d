import { ProblemCode, SignatureMeaning } from '@lyotrace/contracts';
import { DomainError } from './domain-error.js';

export const SIGNATURE_REASON_MAX = 1000;

/**
 * 21 CFR Part 11 §11.50: a signed record shows the signer's printed name, the date and time, and the
 * meaning of the signature. §11.200(a)(1): a non-biometric signature uses two components (user id and
 * password); the id comes from the authenticated session, the password is re-entered for each signing.
 */
export function assertSignatureRequest(meaning: string, reason: string): asserts meaning is SignatureMeaning {
  if (!(Object.values(SignatureMeaning) as string[]).includes(meaning)) {
    throw new DomainError(
      ProblemCode.SignatureMeaningInvalid,
      `meaning must be one of ${Object.values(SignatureMeaning).join(', ')}`,
      {
        field: 'meaning',
      },
    );
  }
  const trimmed = reason.trim();
  if (trimmed.length === 0 || trimmed.length > SIGNATURE_REASON_MAX) {
    throw new DomainError(
      ProblemCode.SignatureReasonRequired,
      `a reason of 1 to ${SIGNATURE_REASON_MAX} characters is required`,
      {
        field: 'reason',
      },
    );
  }
}

/** The signature manifestation of §11.50(a): what a human reads next to the signed record. */
export function signatureManifest(printedName: string, signedAt: Date, meaning: SignatureMeaning): string {
  return `${printedName} — ${meaning} — ${signedAt.toISOString()}`;
}
