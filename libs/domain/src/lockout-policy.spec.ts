import {
  afterFailedAttempt,
  afterSuccessfulAttempt,
  isLocked,
  type LockoutPolicy,
  type LoginAttemptState,
} from './lockout-policy.js';

const policy = (): LockoutPolicy => ({ threshold: 3, lockMinutes: 15 });
const at = (iso: string): Date => new Date(`2024-05-06T${iso}Z`);
const state = (failedAttempts: number, lockedUntil: Date | null = null): LoginAttemptState => ({
  failedAttempts,
  lockedUntil,
});

describe('account lockout (21 CFR Part 11 §11.300(d))', () => {
  describe('afterFailedAttempt', () => {
    it('counts a failure below the threshold without locking', () => {
      expect(afterFailedAttempt(state(0), policy(), at('10:00:00'))).toEqual(state(1));
      expect(afterFailedAttempt(state(1), policy(), at('10:00:00'))).toEqual(state(2));
    });

    it('locks for lockMinutes from now when the threshold is reached', () => {
      const now = at('10:00:00');

      const next = afterFailedAttempt(state(2), policy(), now);

      expect(next).toEqual(state(3, at('10:15:00')));
      expect(isLocked(next, now)).toBe(true);
    });

    it('locks at a threshold of 1 on the first failure', () => {
      expect(afterFailedAttempt(state(0), { threshold: 1, lockMinutes: 5 }, at('10:00:00'))).toEqual(
        state(1, at('10:05:00')),
      );
    });

    it('starts a fresh count after a lock has run out (1, not threshold + 1)', () => {
      const expired = state(3, at('10:15:00'));

      expect(afterFailedAttempt(expired, policy(), at('10:20:00'))).toEqual(state(1));
    });

    it('treats a lock ending exactly now as run out', () => {
      expect(afterFailedAttempt(state(3, at('10:15:00')), policy(), at('10:15:00'))).toEqual(state(1));
    });

    it('renews the lock from now on a failure while still locked', () => {
      expect(afterFailedAttempt(state(3, at('10:15:00')), policy(), at('10:10:00'))).toEqual(
        state(4, at('10:25:00')),
      );
    });

    it('keeps a running lock when the count is below a (since raised) threshold', () => {
      const raised: LockoutPolicy = { threshold: 10, lockMinutes: 15 };

      expect(afterFailedAttempt(state(3, at('10:15:00')), raised, at('10:10:00'))).toEqual(
        state(4, at('10:15:00')),
      );
    });

    it('does not change the state it is given', () => {
      const before = state(2);

      afterFailedAttempt(before, policy(), at('10:00:00'));

      expect(before).toEqual(state(2));
    });
  });

  describe('isLocked', () => {
    it('is false without a lock', () => {
      expect(isLocked(state(2), at('10:00:00'))).toBe(false);
    });

    it('is true before lockedUntil', () => {
      expect(isLocked(state(3, at('10:15:00')), at('10:14:59'))).toBe(true);
    });

    it('is false once the lock has run out (at and after lockedUntil)', () => {
      expect(isLocked(state(3, at('10:15:00')), at('10:15:00'))).toBe(false);
      expect(isLocked(state(3, at('10:15:00')), at('10:15:01'))).toBe(false);
    });
  });

  describe('afterSuccessfulAttempt', () => {
    it('resets the count and clears any lock', () => {
      expect(afterSuccessfulAttempt()).toEqual({ failedAttempts: 0, lockedUntil: null });
    });
  });
});
