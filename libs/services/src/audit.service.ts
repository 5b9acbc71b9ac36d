import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditEventView, AuditVerifyResult, JobName } from '@lyotrace/contracts';
import { type ChainBreak, type Clock, LaneVerifier, notFound } from '@lyotrace/domain';
import {
  ActorContext,
  actorIdentity,
  AuditQuery,
  AuditRepository,
  AuditVerificationEntity,
  AuditVerificationRepository,
  CLOCK,
  type LaneHeads,
  toAuditView,
} from '@lyotrace/persistence';
import { JobQueue } from './job-queue.js';

export interface AuditPage {
  items: AuditEventView[];
  /** Pass as `beforeId` for the next (older) page; null at the end. */
  nextBeforeId: string | null;
}

@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);

  constructor(
    private readonly audit: AuditRepository,
    private readonly verifications: AuditVerificationRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async find(query: AuditQuery): Promise<AuditPage> {
    const rows = await this.audit.find({ ...query, limit: query.limit + 1 });
    const items = rows.slice(0, query.limit).map(toAuditView);
    return { items, nextBeforeId: rows.length > query.limit ? (items[items.length - 1]?.id ?? null) : null };
  }

  /**
   * Walks every lane of the chain from its first row (21 CFR Part 11 §11.10(e) / Annex 11 §9: the trail
   * must show any change) and names the first broken row of the lowest broken lane. Each lane is also
   * checked against its head as the last intact run saw it, which catches rows cut off the end of a lane.
   * The run is recorded (audit_verification) with the heads it saw, for the next run to check against.
   */
  async runVerification(verificationId: string | null, requestedBy = 'schedule'): Promise<AuditVerifyResult> {
    const id = verificationId ?? (await this.verifications.create(requestedBy, this.clock.now())).id;
    await this.verifications.mark(id, 'running');
    try {
      const anchors = (await this.verifications.latestIntactLaneHeads()) ?? {};
      const { result, heads } = await this.walkChain(anchors);
      await this.verifications.mark(id, result.ok ? 'intact' : 'broken', {
        finishedAt: this.clock.now(),
        eventsChecked: result.eventsChecked,
        firstBroken: result.firstBroken,
        laneHeads: result.ok ? heads : null,
      });
      if (!result.ok) this.logger.error(`audit chain broken: ${JSON.stringify(result.firstBroken)}`);
      return result;
    } catch (error) {
      await this.verifications.mark(id, 'failed', {
        finishedAt: this.clock.now(),
        error: (error as Error).message,
      });
      throw error;
    }
  }

  private async walkChain(anchors: LaneHeads): Promise<{ result: AuditVerifyResult; heads: LaneHeads }> {
    let eventsChecked = 0;
    // A lane the previous run saw but that has no rows now was emptied: walk it too.
    const lanes = [...new Set([...(await this.audit.lanes()), ...Object.keys(anchors).map(Number)])].sort(
      (a, b) => a - b,
    );
    const heads: LaneHeads = {};
    for (const [index, lane] of lanes.entries()) {
      const anchor = anchors[String(lane)];
      const verifier = new LaneVerifier(lane, anchor ? { seq: BigInt(anchor.seq), hash: anchor.hash } : null);
      let broken: ChainBreak | null = null;
      for await (const row of this.audit.laneInOrder(lane)) {
        broken = verifier.accept(row);
        if (broken) break;
      }
      broken ??= verifier.finish();
      eventsChecked += verifier.checked;
      if (broken)
        return { result: { ok: false, eventsChecked, lanesChecked: index + 1, firstBroken: broken }, heads };
      heads[String(lane)] = { seq: verifier.head.seq.toString(), hash: verifier.head.hash };
    }
    return { result: { ok: true, eventsChecked, lanesChecked: lanes.length, firstBroken: null }, heads };
  }

  async getVerification(id: string): Promise<AuditVerificationEntity> {
    const row = await this.verifications.findById(id);
    if (!row) throw notFound('audit verification');
    return row;
  }
}

/** Queues a chain check for the worker (large trails take longer than an HTTP request should). */
@Injectable()
export class AuditVerificationScheduler {
  constructor(
    private readonly verifications: AuditVerificationRepository,
    private readonly queue: JobQueue,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async request(ctx: ActorContext): Promise<AuditVerificationEntity> {
    const row = await this.verifications.create(actorIdentity(ctx.actor).name, this.clock.now());
    try {
      await this.queue.enqueue(
        JobName.AuditChainVerify,
        { verificationId: row.id },
        { jobId: `audit-verify-${row.id}` },
      );
    } catch (error) {
      await this.verifications.mark(row.id, 'failed', {
        finishedAt: this.clock.now(),
        error: 'could not be queued',
      });
      throw error;
    }
    return row;
  }
}
