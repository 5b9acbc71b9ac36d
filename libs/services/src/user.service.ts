import { Injectable } from '@nestjs/common';
import { ProblemCode, Role } from '@lyotrace/contracts';
import { assertPasswordAcceptable, assertUserSite, DomainError, notFound } from '@lyotrace/domain';
import {
  ActorContext,
  SiteRepository,
  TransactionRunner,
  UserEntity,
  UserRepository,
} from '@lyotrace/persistence';
import { PasswordHasher } from './password-hasher.js';

export interface CreateUserInput {
  username: string;
  displayName: string;
  password: string;
  role: Role;
  siteId?: string | null;
}

export interface UserView {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  siteId: string | null;
  active: boolean;
  lockedUntil: string | null;
  version: number;
}

export const toUserView = (u: UserEntity): UserView => ({
  id: u.id,
  username: u.username,
  displayName: u.displayName,
  role: u.role,
  siteId: u.siteId,
  active: u.active,
  lockedUntil: u.lockedUntil?.toISOString() ?? null,
  version: u.version,
});

@Injectable()
export class UserService {
  constructor(
    private readonly users: UserRepository,
    private readonly sites: SiteRepository,
    private readonly hasher: PasswordHasher,
    private readonly tx: TransactionRunner,
  ) {}

  async create(ctx: ActorContext, input: CreateUserInput): Promise<UserView> {
    assertPasswordAcceptable(input.username, input.password);
    const passwordHash = await this.hasher.hash(input.password);
    return this.tx.run(ctx, async (uow) => {
      const site = input.siteId ? await this.sites.findById(input.siteId, uow.manager) : null;
      if (input.siteId && !site) throw notFound('site', { field: 'siteId' });
      assertUserSite(input.role, site);
      if (await this.users.exists(input.username, uow.manager)) {
        throw new DomainError(ProblemCode.UsernameTaken, `username ${input.username} is taken`, {
          field: 'username',
        });
      }
      const user = await this.users.insert(uow.manager, {
        username: input.username,
        displayName: input.displayName,
        passwordHash,
        role: input.role,
        siteId: site?.id ?? null,
      });
      const view = toUserView(user);
      await uow.audit({
        action: 'user.create',
        entityType: 'user',
        entityId: user.id,
        newValues: { ...view },
      });
      return view;
    });
  }

  async list(): Promise<UserView[]> {
    return (await this.users.list()).map(toUserView);
  }

  async get(id: string): Promise<UserView> {
    const user = await this.users.findById(id);
    if (!user) throw notFound('user');
    return toUserView(user);
  }

  /** Unlocks an account locked by failed attempts (admin), with a mandatory reason. */
  async unlock(ctx: ActorContext, id: string, reason: string): Promise<UserView> {
    return this.tx.run(ctx, async (uow) => {
      const user = await this.users.lockForUpdate(uow.manager, id);
      if (!user) throw notFound('user');
      const before = { failedAttempts: user.failedAttempts, lockedUntil: user.lockedUntil };
      await this.users.saveAttemptState(uow.manager, id, { failedAttempts: 0, lockedUntil: null });
      await uow.audit({
        action: 'user.unlock',
        entityType: 'user',
        entityId: id,
        oldValues: before,
        newValues: { failedAttempts: 0, lockedUntil: null },
        reason,
      });
      return toUserView({ ...user, failedAttempts: 0, lockedUntil: null });
    });
  }
}
