import { ProblemCode, SignatureMeaning } from '@lyotrace/contracts';
import { DomainError } from './domain-error.js';
import { assertSignatureRequest, SIGNATURE_REASON_MAX, signatureManifest } from './signature-rules.js';

const REASON = 'batch record reviewed, deviations closed';

function refusal(meaning: string, reason: string): DomainError {
  try {
    assertSignatureRequest(meaning, reason);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('signature request was accepted');
}

describe('electronic signature rules (21 CFR Part 11 §11.50, §11.200)', () => {
  describe('assertSignatureRequest: meaning (§11.50(a)(3))', () => {
    it.each(Object.values(SignatureMeaning))('accepts the meaning %s', (meaning) => {
      expect(() => assertSignatureRequest(meaning, REASON)).not.toThrow();
    });

    it.each(['', 'approve', 'Approval', 'APPROVAL', ' approval'])(
      'refuses %j with SIGNATURE_MEANING_INVALID on field meaning',
      (meaning) => {
        const error = refusal(meaning, REASON);

        expect(error.code).toBe(ProblemCode.SignatureMeaningInvalid);
        expect(error.message).toBe('meaning must be one of approval, review, responsibility, authorship');
        expect(error.extensions).toEqual({ field: 'meaning' });
      },
    );

    it('checks the meaning before the reason', () => {
      expect(refusal('nonsense', '').code).toBe(ProblemCode.SignatureMeaningInvalid);
    });
  });

  describe('assertSignatureRequest: reason', () => {
    it.each([
      ['empty', ''],
      ['white space only', ' \t\n '],
      ['longer than the maximum', 'r'.repeat(SIGNATURE_REASON_MAX + 1)],
    ])('refuses a reason that is %s with SIGNATURE_REASON_REQUIRED on field reason', (_case, reason) => {
      const error = refusal(SignatureMeaning.Approval, reason);

      expect(error.code).toBe(ProblemCode.SignatureReasonRequired);
      expect(error.message).toBe('a reason of 1 to 1000 characters is required');
      expect(error.extensions).toEqual({ field: 'reason' });
    });

    it('accepts a one-character reason and one of exactly the maximum length', () => {
      expect(SIGNATURE_REASON_MAX).toBe(1000);
      expect(() => assertSignatureRequest(SignatureMeaning.Review, 'x')).not.toThrow();
      expect(() =>
        assertSignatureRequest(SignatureMeaning.Review, 'r'.repeat(SIGNATURE_REASON_MAX)),
      ).not.toThrow();
    });

    it('measures the reason after trimming surrounding white space', () => {
      const padded = `  ${'r'.repeat(SIGNATURE_REASON_MAX)}  `;

      expect(() => assertSignatureRequest(SignatureMeaning.Review, padded)).not.toThrow();
    });
  });

  describe('signatureManifest (§11.50(a))', () => {
    it('shows the printed name, the meaning and the ISO date and time of signing', () => {
      const signedAt = new Date('2024-05-06T07:08:09.010Z');

      expect(signatureManifest('Dr. Ana Jones', signedAt, SignatureMeaning.Approval)).toBe(
        'Dr. Ana Jones — approval — 2024-05-06T07:08:09.010Z',
      );
    });
  });
});
