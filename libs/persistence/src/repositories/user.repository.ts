import { Role } from '@lyotrace/contracts';
import { LoginAttemptState } from '@lyotrace/domain';
import { DataSource, EntityManager } from 'typeorm';
import { UserEntity } from '../entities/index.js';

export interface NewUser {
  username: string;
  displayName: string;
  passwordHash: string;
  role: Role;
  siteId: string | null;
}

export type UserWithSecret = UserEntity & { passwordHash: string };

export class UserRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Includes the password hash, which normal reads never select. */
  findForAuthentication(
    username: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<UserWithSecret | null> {
    return manager
      .getRepository(UserEntity)
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .leftJoinAndSelect('u.site', 'site')
      .where('u.username = :username', { username: username.toLowerCase() })
      .getOne();
  }

  findByIdForAuthentication(
    id: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<UserWithSecret | null> {
    return manager
      .getRepository(UserEntity)
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .leftJoinAndSelect('u.site', 'site')
      .where('u.id = :id', { id })
      .getOne();
  }

  /** Locks the row so concurrent failed attempts count correctly. */
  lockForUpdate(manager: EntityManager, id: string): Promise<UserEntity | null> {
    return manager
      .getRepository(UserEntity)
      .createQueryBuilder('u')
      .setLock('pessimistic_write')
      .where('u.id = :id', { id })
      .getOne();
  }

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<UserEntity | null> {
    return manager.getRepository(UserEntity).findOneBy({ id });
  }

  list(): Promise<UserEntity[]> {
    return this.dataSource.getRepository(UserEntity).find({ order: { username: 'ASC' } });
  }

  exists(username: string, manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    return manager.getRepository(UserEntity).existsBy({ username: username.toLowerCase() });
  }

  insert(manager: EntityManager, user: NewUser): Promise<UserEntity> {
    const repo = manager.getRepository(UserEntity);
    return repo.save(repo.create({ ...user, username: user.username.toLowerCase() }));
  }

  async saveAttemptState(manager: EntityManager, id: string, state: LoginAttemptState): Promise<void> {
    await manager
      .getRepository(UserEntity)
      .update({ id }, { failedAttempts: state.failedAttempts, lockedUntil: state.lockedUntil });
  }

  async setPasswordHash(manager: EntityManager, id: string, passwordHash: string): Promise<void> {
    await manager.getRepository(UserEntity).update({ id }, { passwordHash });
  }
}
