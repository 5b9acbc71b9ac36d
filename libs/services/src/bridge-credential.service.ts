import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Actor, ProblemCode } from '@lyotrace/contracts';
import { type Clock, DomainError, notFound } from '@lyotrace/domain';
import {
  ActorContext,
  BridgeCredentialEntity,
  BridgeCredentialRepository,
  CLOCK,
  SiteRepository,
  TransactionRunner,
} from '@lyotrace/persistence';

const TOKEN_PREFIX = 'lyb_';
const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

export interface IssuedBridgeCredential {
  id: string;
  siteId: string;
  name: string;
  /** Shown once; only its hash is stored. */
  token: string;
}

/**
 * Machine credentials for site bridges: one active per site, stored as a SHA-256 of 256 random bits (a slow
 * hash buys nothing for a secret that cannot be guessed, and would cost every upload), revocable.
 */
@Injectable()
export class BridgeCredentialService {
  constructor(
    private readonly credentials: BridgeCredentialRepository,
    private readonly sites: SiteRepository,
    private readonly tx: TransactionRunner,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async issue(ctx: ActorContext, siteId: string, name?: string): Promise<IssuedBridgeCredential> {
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    return this.tx.run(ctx, async (uow) => {
      const site = await this.sites.findById(siteId, uow.manager);
      if (!site) throw notFound('site', { field: 'siteId' });
      if (await this.credentials.findActiveForSite(uow.manager, siteId)) {
        throw new DomainError(
          ProblemCode.BridgeAlreadyActive,
          `site ${site.code} already has an active bridge credential: revoke it first`,
          {
            field: 'siteId',
          },
        );
      }
      const row = await this.credentials.insert(uow.manager, {
        id,
        siteId,
        name: name ?? `${site.code}-bridge`,
        secretHash: sha256(secret),
      });
      await uow.audit({
        action: 'bridge_credential.issue',
        entityType: 'bridge_credential',
        entityId: id,
        newValues: { siteId, name: row.name },
      });
      return { id, siteId, name: row.name, token: `${TOKEN_PREFIX}${id}.${secret}` };
    });
  }

  async revoke(ctx: ActorContext, id: string, reason: string): Promise<void> {
    await this.tx.run(ctx, async (uow) => {
      const row = await this.credentials.findById(uow.manager, id);
      if (!row) throw notFound('bridge credential');
      if (row.revokedAt) return;
      const at = this.clock.now();
      await this.credentials.revoke(uow.manager, id, at);
      await uow.audit({
        action: 'bridge_credential.revoke',
        entityType: 'bridge_credential',
        entityId: id,
        oldValues: { revokedAt: null },
        newValues: { revokedAt: at },
        reason,
      });
    });
  }

  list(siteId: string): Promise<BridgeCredentialEntity[]> {
    return this.credentials.listForSite(siteId);
  }

  /** Turns a bearer token into the bridge actor, or refuses. Constant-time comparison of the hash. */
  async authenticate(token: string): Promise<Extract<Actor, { kind: 'bridge' }>> {
    const invalid = new DomainError(ProblemCode.BridgeTokenInvalid, 'the bridge token is invalid or revoked');
    if (!token.startsWith(TOKEN_PREFIX)) throw invalid;
    const [id, secret] = token.slice(TOKEN_PREFIX.length).split('.');
    if (!id || !secret || !/^[0-9a-f-]{36}$/.test(id)) throw invalid;
    const row = await this.credentials.findWithSecret(id);
    if (!row || row.revokedAt) throw invalid;
    const expected = Buffer.from(row.secretHash, 'hex');
    const given = Buffer.from(sha256(secret), 'hex');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid;
    void this.credentials.touch(id, this.clock.now()).catch(() => undefined);
    return { kind: 'bridge', credentialId: row.id, siteId: row.siteId, name: row.name };
  }
}
