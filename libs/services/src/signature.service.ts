import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Actor, ProblemCode, SignableType, SignatureMeaning, SignatureView } from '@lyotrace/contracts';
import {
  assertSignatureRequest,
  canonicalJson,
  type Clock,
  DomainError,
  notFound,
  signatureManifest,
} from '@lyotrace/domain';
import {
  ActorContext,
  CLOCK,
  ElectronicSignatureEntity,
  SignatureRepository,
  SiteRepository,
  TransactionRunner,
  UnitOfWork,
  UserRepository,
} from '@lyotrace/persistence';
import { EntityManager } from 'typeorm';
import { AuthenticationService } from './authentication.service.js';

/** What a signer re-enters: Part 11 §11.200(a)(1)(i) — both components at the first signing of a session. */
export interface SignatureCredentials {
  password: string;
  meaning: string;
  reason: string;
}

/** The exact version of a record being signed. */
export interface SignedRecord {
  entityType: string;
  entityId: string;
  version: number;
  /** The record's content at that version; its canonical SHA-256 is stored with the signature. */
  content: Record<string, unknown>;
}

export interface VerifiedSigner {
  userId: string;
  username: string;
  printedName: string;
  meaning: SignatureMeaning;
  reason: string;
}

/** Loads a signable record, row-locked, as it is now. Later features add theirs (lot release, recall…). */
type SignableLoader = (manager: EntityManager, id: string, actor: Actor) => Promise<SignedRecord | null>;

export const toSignatureView = (s: ElectronicSignatureEntity): SignatureView => ({
  id: s.id,
  userId: s.userId,
  username: s.username,
  printedName: s.printedName,
  meaning: s.meaning,
  reason: s.reason,
  signedAt: s.signedAt.toISOString(),
  entityType: s.entityType,
  entityId: s.entityId,
  entityVersion: s.entityVersion,
  contentHash: s.contentHash,
});

/**
 * The electronic-signature primitive (21 CFR Part 11 §11.50, §11.70, §11.200). A later endpoint that needs
 * a signature calls `verifySigner` before its transaction (a wrong password is refused and audited in a
 * transaction of its own) and `applySignature` inside it, with the record version the change produces.
 */
@Injectable()
export class SignatureService {
  private readonly loaders = new Map<string, SignableLoader>();

  constructor(
    private readonly auth: AuthenticationService,
    private readonly signatures: SignatureRepository,
    private readonly tx: TransactionRunner,
    sites: SiteRepository,
    users: UserRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.register(SignableType.Site, async (manager, id, actor) => {
      const site = await sites.findVisible(actor, id, manager);
      if (!site) return null;
      const { createdAt: _c, updatedAt: _u, organisation: _o, ...content } = site;
      return {
        entityType: SignableType.Site,
        entityId: site.id,
        version: site.version,
        content: { ...content },
      };
    });
    this.register(SignableType.User, async (manager, id) => {
      const user = await users.findById(id, manager);
      if (!user) return null;
      const {
        createdAt: _c,
        updatedAt: _u,
        site: _s,
        failedAttempts: _f,
        lockedUntil: _l,
        ...content
      } = user;
      return {
        entityType: SignableType.User,
        entityId: user.id,
        version: user.version,
        content: { ...content },
      };
    });
  }

  register(type: string, loader: SignableLoader): void {
    if (this.loaders.has(type)) throw new Error(`signable type ${type} registered twice`);
    this.loaders.set(type, loader);
  }

  async verifySigner(ctx: ActorContext, credentials: SignatureCredentials): Promise<VerifiedSigner> {
    const actor = ctx.actor;
    if (actor.kind !== 'user') throw new DomainError(ProblemCode.Forbidden, 'only a person can sign');
    assertSignatureRequest(credentials.meaning, credentials.reason);
    const meaning = credentials.meaning;
    try {
      const user = await this.auth.checkPassword(actor.username, credentials.password, {
        requestId: ctx.requestId ?? undefined,
        purpose: 'signature',
      });
      return {
        userId: user.id,
        username: user.username,
        printedName: user.displayName,
        meaning,
        reason: credentials.reason.trim(),
      };
    } catch (error) {
      if (error instanceof DomainError && error.code === ProblemCode.InvalidCredentials) {
        throw new DomainError(
          ProblemCode.SignatureInvalidPassword,
          'the password is wrong: nothing was signed',
          { field: 'password' },
        );
      }
      throw error;
    }
  }

  async applySignature(
    uow: UnitOfWork,
    signer: VerifiedSigner,
    record: SignedRecord,
  ): Promise<SignatureView> {
    const signedAt = this.clock.now();
    const contentHash = createHash('sha256').update(canonicalJson(record.content), 'utf8').digest('hex');
    const row = await this.signatures.insert(uow.manager, {
      userId: signer.userId,
      username: signer.username,
      printedName: signer.printedName,
      meaning: signer.meaning,
      reason: signer.reason,
      signedAt,
      entityType: record.entityType,
      entityId: record.entityId,
      entityVersion: record.version,
      contentHash,
    });
    await uow.audit({
      action: 'signature.apply',
      entityType: record.entityType,
      entityId: record.entityId,
      newValues: {
        signatureId: row.id,
        manifest: signatureManifest(signer.printedName, signedAt, signer.meaning),
        meaning: signer.meaning,
        version: record.version,
        contentHash,
      },
      reason: signer.reason,
    });
    return toSignatureView(row);
  }

  /** Signs an existing record as it stands (e.g. an approval of a site's set-up). */
  async signRecord(
    ctx: ActorContext,
    target: { entityType: string; entityId: string; expectedVersion?: number },
    credentials: SignatureCredentials,
  ): Promise<SignatureView> {
    const loader = this.loaders.get(target.entityType);
    if (!loader) {
      throw new DomainError(
        ProblemCode.SignatureTargetNotSignable,
        `records of type ${target.entityType} cannot be signed here`,
        {
          field: 'entityType',
        },
      );
    }
    const signer = await this.verifySigner(ctx, credentials);
    return this.tx.run(ctx, async (uow) => {
      const record = await loader(uow.manager, target.entityId, ctx.actor);
      if (!record) throw notFound(target.entityType, { field: 'entityId' });
      if (target.expectedVersion !== undefined && target.expectedVersion !== record.version) {
        throw new DomainError(
          ProblemCode.SignatureVersionMismatch,
          `the record is at version ${record.version}, not ${target.expectedVersion}: review it again before signing`,
          { field: 'expectedVersion', currentVersion: record.version },
        );
      }
      return this.applySignature(uow, signer, record);
    });
  }

  async get(id: string): Promise<SignatureView> {
    const row = await this.signatures.findById(id);
    if (!row) throw notFound('signature');
    return toSignatureView(row);
  }

  async forRecord(entityType: string, entityId: string): Promise<SignatureView[]> {
    return (await this.signatures.findForRecord(entityType, entityId)).map(toSignatureView);
  }
}
