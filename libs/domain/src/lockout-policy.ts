/**
 * 21 CFR Part 11 §11.300(d): detect and act on attempts at unauthorised use. After `threshold` failed
 * password entries in a row (login or signature), the account is locked for `lockMinutes`.
 */
export interface LockoutPolicy {
  threshold: number;
  lockMinutes: number;
}

export interface LoginAttemptState {
  failedAttempts: number;
  lockedUntil: Date | null;
}

export function isLocked(state: LoginAttemptState, now: Date): boolean {
  return state.lockedUntil !== null && state.lockedUntil.getTime() > now.getTime();
}

/** The state after one more wrong password. */
export function afterFailedAttempt(
  state: LoginAttemptState,
  policy: LockoutPolicy,
  now: Date,
): LoginAttemptState {
  // A lock that has run out starts a fresh count.
  const base = state.lockedUntil !== null && !isLocked(state, now) ? 0 : state.failedAttempts;
  const failedAttempts = base + 1;
  if (failedAttempts >= policy.threshold) {
    return { failedAttempts, lockedUntil: new Date(now.getTime() + policy.lockMinutes * 60_000) };
  }
  return {
    failedAttempts,
    lockedUntil: state.lockedUntil && isLocked(state, now) ? state.lockedUntil : null,
  };
}

export const afterSuccessfulAttempt = (): LoginAttemptState => ({ failedAttempts: 0, lockedUntil: null });
