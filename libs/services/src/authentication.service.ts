import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { Actor, ProblemCode, Role } from '@lyotrace/contracts';
import {
  afterFailedAttempt,
  afterSuccessfulAttempt,
  type Clock,
  DomainError,
  isLocked,
  type LockoutPolicy,
} from '@lyotrace/domain';
import { CLOCK, TransactionRunner, UserRepository, UserWithSecret } from '@lyotrace/persistence';
import { PasswordHasher } from './password-hasher.js';

export const LOCKOUT_POLICY = Symbol('LockoutPolicy');

/** Claims of our access token. Short-lived: a disabled user loses access within one TTL. */
export interface AccessTokenClaims {
  sub: string;
  usr: string;
  name: string;
  role: Role;
  site: string | null;
  org: string | null;
  /** Set by JwtService.sign from the configured lifetime. */
  exp?: number;
}

/** Verified access tokens remembered (the oldest forgotten first): bounds memory, whatever the traffic. */
const VERIFIED_TOKENS_KEPT = 10_000;

type UserActor = Extract<Actor, { kind: 'user' }>;

export const userActor = (u: UserWithSecret): UserActor => ({
  kind: 'user',
  userId: u.id,
  username: u.username,
  displayName: u.displayName,
  role: u.role,
  siteId: u.siteId,
  organisationId: u.site?.organisationId ?? null,
});

@Injectable()
export class AuthenticationService {
  /** Access tokens verified lately (oldest first), with their expiry in seconds since the epoch. */
  private readonly verified = new Map<string, { actor: UserActor; exp: number }>();

  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly tx: TransactionRunner,
    private readonly jwt: JwtService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOCKOUT_POLICY) private readonly lockout: LockoutPolicy,
  ) {}

  /**
   * Password login. Every attempt, good or bad, is audited (Part 11 §11.300(d)); after the policy's number
   * of consecutive failures the account locks. Unknown users and wrong passwords answer alike.
   */
  async login(
    username: string,
    password: string,
    meta: { requestId?: string; ip?: string },
  ): Promise<{ accessToken: string; expiresIn: number }> {
    const user = await this.checkPassword(username, password, { ...meta, purpose: 'login' });
    const claims: AccessTokenClaims = {
      sub: user.id,
      usr: user.username,
      name: user.displayName,
      role: user.role,
      site: user.siteId,
      org: user.site?.organisationId ?? null,
    };
    const accessToken = await this.jwt.signAsync(claims);
    const decoded = this.jwt.decode<{ exp: number; iat: number }>(accessToken);
    return { accessToken, expiresIn: decoded.exp - decoded.iat };
  }

  /**
   * Verifies a user's password for a login or an e-signature (Part 11 §11.200(a)). On failure the attempt
   * counter and the audit event are committed in their own transaction before the refusal is thrown, so a
   * caller's rollback cannot erase the evidence of a failed attempt.
   */
  async checkPassword(
    username: string,
    password: string,
    meta: { requestId?: string; ip?: string; purpose: 'login' | 'signature' },
  ): Promise<UserWithSecret> {
    const now = this.clock.now();
    const user = await this.users.findForAuthentication(username);
    const system: Actor = { kind: 'system', name: 'auth' };
    const failAction = meta.purpose === 'login' ? 'auth.login_failed' : 'signature.password_failed';
    if (!user) {
      await this.hasher.burn(password);
      await this.tx.run({ actor: system, requestId: meta.requestId ?? null }, (uow) =>
        uow.audit({
          action: failAction,
          entityType: 'user',
          entityId: username.toLowerCase(),
          newValues: { ip: meta.ip ?? null, reason: 'unknown user' },
        }),
      );
      throw new DomainError(ProblemCode.InvalidCredentials, 'username or password is wrong');
    }
    const actorCtx = { actor: userActor(user), requestId: meta.requestId ?? null };
    if (!user.active) {
      await this.tx.run(actorCtx, (uow) =>
        uow.audit({
          action: failAction,
          entityType: 'user',
          entityId: user.id,
          newValues: { ip: meta.ip ?? null, reason: 'account disabled' },
        }),
      );
      throw new DomainError(ProblemCode.AccountDisabled, 'this account is disabled');
    }
    if (isLocked(user, now)) {
      await this.tx.run(actorCtx, (uow) =>
        uow.audit({
          action: failAction,
          entityType: 'user',
          entityId: user.id,
          newValues: { ip: meta.ip ?? null, reason: 'account locked' },
        }),
      );
      throw new DomainError(
        ProblemCode.AccountLocked,
        'this account is locked after repeated failed attempts',
        {
          lockedUntil: user.lockedUntil?.toISOString(),
        },
      );
    }
    const ok = await this.hasher.verify(user.passwordHash, password);
    if (!ok) {
      const state = await this.tx.run(actorCtx, async (uow) => {
        const fresh = await this.users.lockForUpdate(uow.manager, user.id);
        const next = afterFailedAttempt(fresh ?? user, this.lockout, now);
        await this.users.saveAttemptState(uow.manager, user.id, next);
        await uow.audit({
          action: failAction,
          entityType: 'user',
          entityId: user.id,
          newValues: { ip: meta.ip ?? null, reason: 'wrong password', failedAttempts: next.failedAttempts },
        });
        if (next.lockedUntil && !isLocked(fresh ?? user, now)) {
          await uow.audit({
            action: 'user.locked',
            entityType: 'user',
            entityId: user.id,
            newValues: { lockedUntil: next.lockedUntil },
          });
        }
        return next;
      });
      if (isLocked(state, now)) {
        throw new DomainError(
          ProblemCode.AccountLocked,
          'this account is locked after repeated failed attempts',
          {
            lockedUntil: state.lockedUntil?.toISOString(),
          },
        );
      }
      throw new DomainError(ProblemCode.InvalidCredentials, 'username or password is wrong');
    }
    await this.tx.run(actorCtx, async (uow) => {
      if (user.failedAttempts !== 0 || user.lockedUntil !== null) {
        await this.users.saveAttemptState(uow.manager, user.id, afterSuccessfulAttempt());
      }
      if (meta.purpose === 'login') {
        await uow.audit({
          action: 'auth.login',
          entityType: 'user',
          entityId: user.id,
          newValues: { ip: meta.ip ?? null },
        });
      }
    });
    return user;
  }

  /** Verifies an access token and turns it into the actor of the request. */
  async verifyAccessToken(token: string): Promise<UserActor> {
    // A token already verified stands until its `exp`, as jsonwebtoken judges it (whole seconds of wall time):
    // the signature of the same text cannot change, so the HMAC is computed once per token, not per request.
    const known = this.verified.get(token);
    if (known && Math.floor(Date.now() / 1000) < known.exp) return known.actor;
    try {
      const claims = await this.jwt.verifyAsync<AccessTokenClaims>(token);
      const actor: UserActor = {
        kind: 'user',
        userId: claims.sub,
        username: claims.usr,
        displayName: claims.name,
        role: claims.role,
        siteId: claims.site,
        organisationId: claims.org,
      };
      if (typeof claims.exp === 'number') {
        if (this.verified.size >= VERIFIED_TOKENS_KEPT)
          this.verified.delete(this.verified.keys().next().value!);
        this.verified.set(token, { actor, exp: claims.exp });
      }
      return actor;
    } catch {
      throw new DomainError(ProblemCode.TokenInvalid, 'the access token is invalid or has expired');
    }
  }
}
