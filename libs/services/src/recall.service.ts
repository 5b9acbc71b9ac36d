import { Inject, Injectable, Logger } from '@nestjs/common';
import { type Actor, JobName, ProblemCode } from '@lyotrace/contracts';
import { type Clock, DomainError, notFound, readableSiteIds, vialsRecalledEvent } from '@lyotrace/domain';
import {
  type ActorContext,
  CLOCK,
  EpcisRepository,
  GenealogyRepository,
  RecallRepository,
  type RecallCounts,
  SiteRepository,
  TransactionRunner,
} from '@lyotrace/persistence';
import { JobQueue } from './job-queue.js';
import { SignatureService, type SignatureCredentials } from './signature.service.js';
import { TraceService } from './trace.service.js';

export interface RecallView {
  id: string;
  scopeLotId: string;
  reason: string;
  status: 'open' | 'closed';
  openedAt: string;
  propagated: boolean;
  closedAt: string | null;
  counts: RecallCounts;
}

/** One clinic's dosed patients in a recall, for follow-up. */
export interface RecallPatientsView {
  clinic: { id: string; code: string; name: string };
  patients: {
    patientRef: string;
    doseId: string;
    administeredAt: string;
    vial: { id: string; gtin: string; serial: string; lotCode: string };
  }[];
}

const EPCIS_CHUNK = 1000;

/** The stores a recall writes beside its own (kept together to keep the constructor short). */
@Injectable()
export class RecallDependencies {
  constructor(
    readonly genealogy: GenealogyRepository,
    readonly sites: SiteRepository,
    readonly epcis: EpcisRepository,
    readonly queue: JobQueue,
  ) {}
}

/**
 * Recalls (ARCHITECTURE.md §4 flow 7). Opening and closing are e-signed (21 CFR Part 11 §11.50); marking the
 * vials runs as a queued job that is safe to run twice; a sweep re-queues any recall whose job was lost.
 */
@Injectable()
export class RecallService {
  private readonly logger = new Logger(RecallService.name);

  constructor(
    private readonly recalls: RecallRepository,
    private readonly trace: TraceService,
    private readonly tx: TransactionRunner,
    private readonly signatures: SignatureService,
    private readonly deps: RecallDependencies,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async open(
    ctx: ActorContext,
    ref: string,
    credentials: Omit<SignatureCredentials, 'meaning'>,
  ): Promise<RecallView> {
    const scope = await this.trace.resolve(ref, ctx.actor);
    const scopeLotId = scope.lotId;
    // A recall is of a genealogy node; a patient's doses may span several lots: recall those lots instead.
    if (!scopeLotId) {
      throw new DomainError(
        ProblemCode.ValidationFailed,
        'a recall is opened on a lot, a vial or a dose (its lot), not on a patient',
        { field: 'ref' },
      );
    }
    const signer = await this.signatures.verifySigner(ctx, { ...credentials, meaning: 'responsibility' });
    const recall = await this.tx.run(ctx, async (uow) => {
      const lot = await this.deps.genealogy.findLot(scopeLotId, uow.manager);
      if (!lot) throw notFound('lot');
      const signature = await this.signatures.applySignature(uow, signer, {
        entityType: 'recall_scope',
        entityId: lot.id,
        version: lot.version,
        content: { lotId: lot.id, code: lot.code, reason: signer.reason },
      });
      const row = await this.recalls.insert(uow.manager, {
        scopeLotId: lot.id,
        reason: signer.reason,
        openedBy: signer.userId,
        openedAt: this.clock.now(),
        openSignatureId: signature.id,
      });
      await uow.audit({
        action: 'recall.open',
        entityType: 'recall',
        entityId: row.id,
        newValues: { scopeLotId: lot.id, scopeCode: lot.code, signatureId: signature.id },
        reason: signer.reason,
      });
      return row;
    });
    await this.enqueue(recall.id);
    return this.get({ kind: 'system', name: 'recall' }, recall.id);
  }

  /** Queues the propagation; if Redis is down now, the sweep will queue it later (the recall row says so). */
  async enqueue(recallId: string): Promise<void> {
    try {
      await this.deps.queue.enqueue(
        JobName.RecallPropagate,
        { recallId },
        { jobId: `recall-propagate-${recallId}` },
      );
    } catch (error) {
      this.logger.warn(
        `recall ${recallId}: propagation not queued now (${(error as Error).message}); the sweep will retry`,
      );
    }
  }

  /** The worker's job: mark and list every downstream vial. Idempotent. */
  async propagate(recallId: string): Promise<{ marked: number }> {
    const system: Actor = { kind: 'system', name: 'worker:recall' };
    return this.tx.run({ actor: system }, async (uow) => {
      const recall = await this.recalls.lock(uow.manager, recallId);
      if (!recall) throw notFound('recall');
      const marked = await this.recalls.propagate(uow.manager, recall.id, recall.scopeLotId);
      const now = this.clock.now();
      const lot = (await this.deps.genealogy.findLot(recall.scopeLotId, uow.manager))!;
      const site = (await this.deps.sites.findById(lot.siteId, uow.manager))!;
      for (let i = 0; i < marked.length; i += EPCIS_CHUNK) {
        const chunk = marked.slice(i, i + EPCIS_CHUNK);
        await this.deps.epcis.append(
          uow.manager,
          vialsRecalledEvent(chunk, { time: now, siteId: lot.siteId, timeZone: site.timezone }, recall.id),
          now,
        );
      }
      // 21 CFR 11.10(e): one audit event per vial marked, however many the recall reaches.
      await uow.auditMany(
        marked.map((v) => ({
          action: 'vial.recall',
          entityType: 'vial',
          entityId: v.id,
          oldValues: { recallId: null },
          newValues: { recallId: recall.id, holderSiteId: v.holder_site_id, state: v.state },
        })),
      );
      if (!recall.propagatedAt) {
        recall.propagatedAt = now;
        await this.recalls.save(uow.manager, recall);
        await uow.audit({
          action: 'recall.propagate',
          entityType: 'recall',
          entityId: recall.id,
          newValues: { vialsMarked: marked.length },
        });
      }
      return { marked: marked.length };
    });
  }

  async sweep(): Promise<number> {
    const pending = await this.recalls.pendingPropagation();
    for (const id of pending) await this.enqueue(id);
    return pending.length;
  }

  /** A holder site accounts for one recalled vial: returned, or destroyed (the vial becomes destroyed). */
  async resolve(
    ctx: ActorContext,
    recallId: string,
    vialId: string,
    finalState: 'returned' | 'destroyed',
    reason: string,
  ): Promise<void> {
    await this.tx.run(ctx, async (uow) => {
      const recall = await this.recalls.findById(recallId, uow.manager);
      if (!recall) throw notFound('recall');
      if (recall.status === 'closed')
        throw new DomainError(ProblemCode.RecallClosed, 'this recall is closed');
      const item = await this.recalls.lockItem(uow.manager, recallId, vialId);
      const scope = readableSiteIds(ctx.actor);
      // A site sees and resolves only its own items: another site's vial is "not found".
      if (!item || (scope && !scope.includes(item.holderSiteId)))
        throw new DomainError(
          ProblemCode.RecallItemUnknown,
          'this vial is not on your list for this recall',
          { field: 'vialId' },
        );
      const before = item.finalState;
      item.finalState = finalState;
      item.resolvedAt = this.clock.now();
      item.resolvedBy = ctx.actor.kind === 'user' ? ctx.actor.userId : null;
      await this.recalls.resolveItem(uow.manager, item);
      if (finalState === 'destroyed') await this.recalls.destroyVial(uow.manager, vialId);
      await uow.audit({
        action: 'recall.resolve',
        entityType: 'vial',
        entityId: vialId,
        oldValues: { finalState: before },
        newValues: { recallId, finalState },
        reason,
      });
    });
  }

  /** Closing needs every vial accounted for and a signature. */
  async close(
    ctx: ActorContext,
    recallId: string,
    credentials: Omit<SignatureCredentials, 'meaning'>,
  ): Promise<RecallView> {
    const signer = await this.signatures.verifySigner(ctx, { ...credentials, meaning: 'approval' });
    await this.tx.run(ctx, async (uow) => {
      const recall = await this.recalls.lock(uow.manager, recallId);
      if (!recall) throw notFound('recall');
      if (recall.status === 'closed')
        throw new DomainError(ProblemCode.RecallClosed, 'this recall is already closed');
      if (!recall.propagatedAt)
        throw new DomainError(
          ProblemCode.RecallNotPropagated,
          'the vials of this recall are still being marked',
        );
      const counts = await this.recalls.counts(recallId);
      if (counts.unaccounted > 0) {
        throw new DomainError(
          ProblemCode.RecallUnaccounted,
          `${counts.unaccounted} vial(s) are not accounted for`,
          { unaccounted: counts.unaccounted },
        );
      }
      const signature = await this.signatures.applySignature(uow, signer, {
        entityType: 'recall',
        entityId: recall.id,
        version: recall.version,
        content: { id: recall.id, counts: { ...counts } },
      });
      recall.status = 'closed';
      recall.closedAt = this.clock.now();
      recall.closeSignatureId = signature.id;
      await this.recalls.save(uow.manager, recall);
      await uow.audit({
        action: 'recall.close',
        entityType: 'recall',
        entityId: recall.id,
        oldValues: { status: 'open' },
        newValues: { status: 'closed', signatureId: signature.id },
        reason: signer.reason,
      });
    });
    return this.get(ctx.actor, recallId);
  }

  async get(actor: Actor, id: string): Promise<RecallView> {
    const r = await this.recalls.findById(id);
    if (!r) throw notFound('recall');
    return {
      id: r.id,
      scopeLotId: r.scopeLotId,
      reason: r.reason,
      status: r.status,
      openedAt: r.openedAt.toISOString(),
      propagated: r.propagatedAt !== null,
      closedAt: r.closedAt?.toISOString() ?? null,
      counts: await this.recalls.counts(id, readableSiteIds(actor)),
    };
  }

  async items(actor: Actor, id: string, limit: number, after?: string) {
    if (!(await this.recalls.findById(id))) throw notFound('recall');
    return (await this.recalls.items(id, readableSiteIds(actor), limit, after)).map((i) => ({
      vialId: i.vial_id,
      gtin: i.gtin,
      serial: i.serial,
      lotCode: i.lot_code,
      holder: { siteId: i.holder_site_id, siteCode: i.holder_site_code },
      stateAtRecall: i.state_at_recall,
      finalState: i.final_state,
      action: i.final_state ? null : i.dose_id ? 'follow up the patient' : 'return or destroy',
      dose: i.dose_id
        ? { id: i.dose_id, administeredAt: i.administered_at!.toISOString(), patientRef: i.patient_ref! }
        : null,
    }));
  }

  /**
   * "Patients already dosed are listed for follow-up" (recall issue): per clinic that gave them, each dose of a
   * recalled vial with the clinic's pseudonym, the time and the vial. A clinic sees its own patients only.
   */
  async dosedPatients(actor: Actor, id: string): Promise<RecallPatientsView[]> {
    if (!(await this.recalls.findById(id))) throw notFound('recall');
    const rows = await this.recalls.dosedPatients(id, readableSiteIds(actor));
    const byClinic = new Map<string, RecallPatientsView>();
    for (const r of rows) {
      let clinic = byClinic.get(r.site_id);
      if (!clinic) {
        clinic = { clinic: { id: r.site_id, code: r.site_code, name: r.site_name }, patients: [] };
        byClinic.set(r.site_id, clinic);
      }
      clinic.patients.push({
        patientRef: r.patient_ref,
        doseId: r.dose_id,
        administeredAt: r.administered_at.toISOString(),
        vial: { id: r.vial_id, gtin: r.gtin, serial: r.serial, lotCode: r.lot_code },
      });
    }
    return [...byClinic.values()];
  }
}
