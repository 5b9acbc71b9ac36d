import { ProblemCode } from '@lyotrace/contracts';
import { DomainError } from './domain-error.js';

/**
 * 21 CFR Part 11 §11.300: identification codes and passwords must be controlled. A length floor and a
 * ban on the username itself are the rules we enforce; complexity rules are left out on purpose (NIST SP
 * 800-63B §5.1.1 advises against them).
 */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

export function assertPasswordAcceptable(username: string, password: string): void {
  // Length in Unicode code points, not UTF-16 units (NIST SP 800-63B §5.1.1.2: each character counts once).
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    throw new DomainError(
      ProblemCode.PasswordPolicy,
      `password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters long`,
      { field: 'password' },
    );
  }
  if (password.toLowerCase().includes(username.toLowerCase())) {
    throw new DomainError(ProblemCode.PasswordPolicy, 'password must not contain the username', {
      field: 'password',
    });
  }
}
