import { ProblemCode } from '@lyotrace/contracts';
import { DomainError } from './domain-error.js';
import { assertPasswordAcceptable, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password-policy.js';

const USERNAME = 'qa.jones';
const password = (length: number, char = 'k'): string => char.repeat(length);

function refusal(username: string, candidate: string): DomainError {
  try {
    assertPasswordAcceptable(username, candidate);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('password was accepted');
}

describe('password policy (21 CFR Part 11 §11.300)', () => {
  it('has a floor of 12 and a ceiling of 256 characters', () => {
    expect([PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH]).toEqual([12, 256]);
  });

  it('accepts a password of a good length that does not contain the username', () => {
    expect(() => assertPasswordAcceptable(USERNAME, 'correct horse battery staple')).not.toThrow();
  });

  it('accepts exactly the minimum and the maximum length', () => {
    expect(() => assertPasswordAcceptable(USERNAME, password(PASSWORD_MIN_LENGTH))).not.toThrow();
    expect(() => assertPasswordAcceptable(USERNAME, password(PASSWORD_MAX_LENGTH))).not.toThrow();
  });

  it.each([
    ['too short', PASSWORD_MIN_LENGTH - 1],
    ['too long', PASSWORD_MAX_LENGTH + 1],
    ['empty', 0],
  ])('refuses a %s password with PASSWORD_POLICY on field password', (_case, length) => {
    const error = refusal(USERNAME, password(length));

    expect(error.code).toBe(ProblemCode.PasswordPolicy);
    expect(error.message).toBe('password must be 12 to 256 characters long');
    expect(error.extensions).toEqual({ field: 'password' });
  });

  it.each([
    ['as is', 'qa.jones-winter-2024'],
    ['in other case', 'winter-QA.JONES-2024'],
  ])('refuses a password containing the username %s', (_case, candidate) => {
    const error = refusal(USERNAME, candidate);

    expect(error.code).toBe(ProblemCode.PasswordPolicy);
    expect(error.message).toBe('password must not contain the username');
    expect(error.extensions).toEqual({ field: 'password' });
  });

  it('counts each Unicode character once, so 6 emoji are too short (NIST SP 800-63B §5.1.1.2)', () => {
    // '🔒' is one character but two UTF-16 code units: 6 of them must not pass a 12-character floor.
    const error = refusal(USERNAME, password(6, '🔒'));

    expect(error.code).toBe(ProblemCode.PasswordPolicy);
    expect(error.extensions).toEqual({ field: 'password' });
  });
});
