import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ContainerState, ProblemCode, Role, ScanAction, ScanOutcome, VialState } from '@lyotrace/contracts';
import {
  canonicalJson,
  type Clock,
  custodyRefusals,
  DomainError,
  doseBlocks,
  type EpcisEvent,
  notFound,
  readableSiteIds,
  shipperAggregationEvent,
  vialBlocks,
  vialCustodyEvent,
  type VialScanSubject,
  type WarehouseAction,
} from '@lyotrace/domain';
import {
  type ActorContext,
  CLOCK,
  type ContainerEntity,
  type CustodyHolder,
  CustodyRepository,
  type CustodyVialRow,
  epcisEventRow,
  type ScanClaim,
  type ScanEntity,
  type StepLocation,
  type StepSite,
  SiteRepository,
  TransactionRunner,
  type UnitOfWork,
  type VialAtStep,
  type VialAtStepQuery,
  type VialChange,
} from '@lyotrace/persistence';
import {
  canSeeShipper,
  toCustodyVial,
  toDosableVial,
  toVialCustodyView,
  type VialCustodyView,
} from './custody-views.js';
import { ReceiptService } from './receipt.service.js';
import { scanSubject, unknownVial } from './scan-input.js';

export interface ScanContext {
  /** The site where the scan happens; defaults to the user's own site. */
  siteId?: string;
  /** putaway / move: the target location, by id or by its code at the site. */
  locationId?: string;
  locationCode?: string;
  /** pack / unpack / receipt: the shipper, by id or SSCC. */
  containerId?: string;
  sscc?: string;
  /** receipt: the shipment being received. */
  shipmentId?: string;
}

export interface ScanRequest {
  raw: string;
  action: ScanAction;
  context: ScanContext;
  idempotencyKey: string;
}

/** The answer to a scan, stored under its idempotency key and returned as is to a retry. */
export interface ScanAnswer {
  scanId: string;
  action: ScanAction;
  outcome: ScanOutcome;
  /** What the scan resolved to. */
  subject:
    { kind: 'vial'; vial: VialCustodyView } | { kind: 'shipper'; id: string; sscc: string; state: string };
  /** What happened, in words a person at a scanner can act on. */
  message: string;
  /** Why it was refused (stable codes); for a lookup, what would block the vial now. */
  reasons: string[];
  /** true when this answer was stored earlier under the same idempotency key. */
  replayed: boolean;
  /** Receipt scans: progress of the receipt. */
  receipt?: Record<string, unknown>;
}

/** Who may scan what. Lookup is for everyone (scoped); the rest by job (ARCHITECTURE.md §1). */
const ACTION_ROLES: Readonly<Record<ScanAction, readonly Role[]>> = {
  [ScanAction.Receive]: [Role.Warehouse],
  [ScanAction.Putaway]: [Role.Warehouse],
  [ScanAction.Move]: [Role.Warehouse],
  [ScanAction.Pick]: [Role.Warehouse],
  [ScanAction.Pack]: [Role.Warehouse],
  [ScanAction.Unpack]: [Role.Warehouse],
  [ScanAction.Receipt]: [Role.Clinic],
  [ScanAction.Dose]: [Role.Clinic],
  [ScanAction.Lookup]: [Role.Admin, Role.Qa, Role.Production, Role.Warehouse, Role.Clinic],
};

/** Where an accepted step takes the vial. */
interface StepTarget {
  location: StepLocation | null;
  container: ContainerEntity | null;
}

/** What an accepted step writes: the vial's next holder and changes, and its EPCIS event. */
interface StepEffect {
  to: CustodyHolder;
  change: VialChange;
  event: EpcisEvent;
  /** The shipper the vial ends up in (pack). */
  packedInto: ContainerEntity | null;
}

/** A custody step scan as read from the request, before any database work. */
interface StepInput {
  kind: 'step';
  action: WarehouseAction;
  context: ScanContext;
  /** put away / move: the step needs a target location. */
  storing: boolean;
  at: VialAtStepQuery;
}

/** A lookup or dose pre-check of a vial, as read from the request. */
interface VialLookupInput {
  kind: 'lookup';
  subject: VialScanSubject;
  at: VialAtStepQuery;
}

/** The stored answer to a retried scan, or the refusal of a key used for another scan. */
function replay(existing: ScanEntity, claim: ScanClaim): ScanAnswer {
  if (existing.requestHash !== claim.requestHash) {
    throw new DomainError(
      ProblemCode.IdempotencyKeyReused,
      'this idempotency key was used for another scan; use a new key for a new scan',
      { field: 'idempotencyKey' },
    );
  }
  return { ...(existing.answer as unknown as ScanAnswer), replayed: true };
}

/** A scan past its checks that need no database: who scans, its request's hash, what it says of a vial. */
interface CheckedScan {
  userId: string;
  requestHash: string;
  input: StepInput | VialLookupInput | null;
}

/** A custody step read the vial after waiting for another transaction's change to it: read again, locked first. */
class StaleStepRead extends Error {}

/** An answer, and whether it is already stored under the scan's idempotency key. */
interface Performed {
  answer: ScanAnswer;
  stored: boolean;
}

const STEP_MESSAGES: Readonly<Record<WarehouseAction, string>> = {
  [ScanAction.Receive]: 'received into the site',
  [ScanAction.Putaway]: 'put away',
  [ScanAction.Move]: 'moved',
  [ScanAction.Pick]: 'picked',
  [ScanAction.Pack]: 'packed',
  [ScanAction.Unpack]: 'unpacked',
};

/**
 * `POST /api/scans`: one scan, one step of the chain of custody. Each accepted step closes the vial's custody
 * interval and opens the next in the same transaction as its audit event and EPCIS event; each refusal is
 * stored and audited and changes nothing else. The idempotency key makes a retried scan return the first
 * answer (EU GMP Annex 11 §5: no double entry from a retried transmission).
 */
@Injectable()
export class ScanService {
  constructor(
    private readonly custody: CustodyRepository,
    private readonly sites: SiteRepository,
    private readonly receipts: ReceiptService,
    private readonly tx: TransactionRunner,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async scan(ctx: ActorContext, request: ScanRequest): Promise<ScanAnswer> {
    const actor = ctx.actor;
    if (actor.kind !== 'user' || !ACTION_ROLES[request.action].includes(actor.role)) {
      throw new DomainError(ProblemCode.Forbidden, `your role may not scan to ${request.action}`);
    }
    const requestHash = createHash('sha256')
      .update(canonicalJson({ raw: request.raw, action: request.action, context: { ...request.context } }))
      .digest('hex');
    // A vial scan's input is checked before anything is claimed or written: a scan that cannot be read, or is
    // made at another site, never had an answer stored to replay.
    const input = this.vialInput(ctx, request);
    const checked: CheckedScan = { userId: actor.userId, requestHash, input };
    try {
      return await this.attempt(ctx, request, checked, false);
    } catch (error) {
      // Two steps on one vial at once: the second read the vial after waiting for the first. Nothing of this
      // attempt was kept (its transaction rolled back); again, taking the vial's lock before reading anything.
      if (!(error instanceof StaleStepRead)) throw error;
      return this.attempt(ctx, request, checked, true);
    }
  }

  private attempt(
    ctx: ActorContext,
    request: ScanRequest,
    { userId, requestHash, input }: CheckedScan,
    lockFirst: boolean,
  ): Promise<ScanAnswer> {
    return this.tx.run(ctx, async (uow) => {
      const now = this.clock.now();
      const claim: ScanClaim = {
        userId,
        idempotencyKey: request.idempotencyKey,
        requestHash,
        action: request.action,
        raw: request.raw,
        scannedAt: now,
      };
      let performed: Performed;
      if (input) {
        // The idempotency key's claim, the vial under lock, the site and the target location: one round trip,
        // on this transaction's own connection (a second pool connection per request would starve the pool).
        // Only a step writes from what it reads; a lookup or a dose pre-check may read as of its start.
        const claimed = await this.custody.claimScanAndLockVial(uow.manager, claim, input.at, {
          lockFirst: lockFirst && input.kind === 'step',
        });
        if (claimed.scanId === null) {
          return replay(await this.custody.scanByKey(uow.manager, userId, request.idempotencyKey), claim);
        }
        // A step whose read waited for another change to the vial read it stale, or (when that change moved it
        // out of a joined row, e.g. to another site) not at all: both are read again with the lock taken first.
        if (input.kind === 'step' && !lockFirst && (claimed.stale || claimed.found === null)) {
          throw new StaleStepRead();
        }
        performed =
          input.kind === 'step'
            ? await this.step(uow, ctx, input, claimed.found, claimed.scanId, now)
            : {
                answer: this.lookupVial(ctx, request, input, claimed.found, claimed.scanId, now),
                stored: false,
              };
      } else {
        const claimed = await this.custody.claimScan(uow.manager, claim);
        if (claimed.existing) return replay(claimed.existing, claim);
        performed = await this.perform(uow, ctx, request, claimed.id, now);
      }
      const { answer, stored } = performed;
      const refused = answer.outcome === ScanOutcome.Refused;
      // Whatever comes last in this transaction carries its COMMIT (one round trip less per scan).
      if (!stored) {
        await this.custody.completeScan(
          uow.manager,
          answer.scanId,
          answer.outcome,
          { ...answer },
          { last: !refused },
        );
      }
      if (refused) {
        // Annex 11 §12.4 / GDP 9.2: a refused step is recorded too — who tried what, and why it was refused.
        await uow.audit(
          {
            action: `scan.${request.action}.refused`,
            entityType: answer.subject.kind === 'vial' ? 'vial' : 'container',
            entityId: answer.subject.kind === 'vial' ? answer.subject.vial.id : answer.subject.id,
            newValues: { scanId: answer.scanId, reasons: answer.reasons, context: { ...request.context } },
          },
          undefined,
          { last: true },
        );
      }
      return answer;
    });
  }

  /** Receipts and shipper lookups, once the scan is claimed. */
  private async perform(
    uow: UnitOfWork,
    ctx: ActorContext,
    request: ScanRequest,
    scanId: string,
    now: Date,
  ): Promise<Performed> {
    if (request.action === ScanAction.Receipt) {
      const result = await this.receipts.scan(uow, ctx, request.raw, request.context, now);
      return { answer: { scanId, action: request.action, replayed: false, ...result }, stored: false };
    }
    return { answer: await this.lookupShipper(uow, ctx, request, scanId), stored: false };
  }

  /**
   * What a scan of a vial says, read without the database: a custody step (where, which vial, which target
   * location) or a lookup. Null for a receipt scan or a scanned shipper.
   */
  private vialInput(ctx: ActorContext, request: ScanRequest): StepInput | VialLookupInput | null {
    const action = request.action;
    if (action === ScanAction.Lookup || action === ScanAction.Dose) {
      const subject = scanSubject(request.raw, this.clock, 'vial-or-shipper');
      if (subject.kind === 'shipper') return null;
      return {
        kind: 'lookup',
        subject,
        at: { vial: { gtin: subject.gtin, serial: subject.serial }, siteId: null, location: null },
      };
    }
    if (action === ScanAction.Receipt) return null;
    const context = request.context;
    const siteId = this.scanSiteId(ctx, context);
    const subject = scanSubject(request.raw, this.clock, 'vial');
    const storing = action === ScanAction.Putaway || action === ScanAction.Move;
    const location = !storing
      ? null
      : context.locationId
        ? { id: context.locationId }
        : context.locationCode
          ? { code: context.locationCode }
          : null;
    return {
      kind: 'step',
      action,
      context,
      storing,
      at: { vial: { gtin: subject.gtin, serial: subject.serial }, siteId, location },
    };
  }

  /** A custody step (receive, put away, move, pick, pack, unpack) on the vial read under lock. */
  private async step(
    uow: UnitOfWork,
    ctx: ActorContext,
    input: StepInput,
    found: VialAtStep | null,
    scanId: string,
    now: Date,
  ): Promise<Performed> {
    const { action, context } = input;
    const site = found ? found.site : await this.sites.findById(input.at.siteId!, uow.manager);
    if (!site) throw notFound('site', { field: 'context.siteId' });
    if (!found) throw unknownVial(input.at.vial.gtin, input.at.vial.serial);
    const vial = found.vial;
    const target = input.storing
      ? this.storageTarget(action, site, context, found.location)
      : await this.shipperTarget(uow, action, site, context);
    const reasons = custodyRefusals(action, toCustodyVial(vial), {
      siteId: site.id,
      at: now,
      timeZone: site.timezone,
      ...(target.location ? { locationId: target.location.id } : {}),
      ...(target.container ? { containerId: target.container.id } : {}),
    });
    if (reasons.length > 0) {
      const answer: ScanAnswer = {
        scanId,
        action,
        outcome: ScanOutcome.Refused,
        subject: { kind: 'vial', vial: toVialCustodyView(vial) },
        message: `not ${STEP_MESSAGES[action]}: ${reasons.join(', ')}`,
        reasons,
        replayed: false,
      };
      return { answer, stored: false };
    }
    return { answer: await this.apply(uow, ctx, action, vial, site, target, scanId, now), stored: true };
  }

  /** Lookup of a shipper: what and where it is. Scoped: a clinic sees shippers addressed to it, once sent. */
  private async lookupShipper(
    uow: UnitOfWork,
    ctx: ActorContext,
    request: ScanRequest,
    scanId: string,
  ): Promise<ScanAnswer> {
    const subject = scanSubject(request.raw, this.clock, 'vial-or-shipper');
    if (subject.kind !== 'shipper') throw new Error('a vial scan is looked up with its vial under lock');
    const scope = readableSiteIds(ctx.actor);
    const container = await this.custody.findContainer({ sscc: subject.sscc }, uow.manager);
    if (!container || !(await canSeeShipper(this.custody, container, scope, uow.manager))) {
      throw notFound('shipper', { field: 'raw', ai: '00' });
    }
    return {
      scanId,
      action: request.action,
      outcome: ScanOutcome.Looked,
      subject: { kind: 'shipper', id: container.id, sscc: container.sscc, state: container.state },
      message: `shipper ${container.sscc} (${container.state})`,
      reasons: [],
      replayed: false,
    };
  }

  /** Lookup (and the dose pre-check) of a vial: what it is, where, and what would block it now. Scoped. */
  private lookupVial(
    ctx: ActorContext,
    request: ScanRequest,
    input: VialLookupInput,
    found: VialAtStep | null,
    scanId: string,
    now: Date,
  ): ScanAnswer {
    const { subject } = input;
    const scope = readableSiteIds(ctx.actor);
    const vial = found?.vial;
    // A clinic sees only vials it holds: another clinic's vial is "not found", never "forbidden".
    if (!vial || (scope && !scope.includes(vial.holder_site_id)))
      throw unknownVial(subject.gtin, subject.serial);
    if (request.action === ScanAction.Dose) return this.doseCheck(vial, subject, scanId, ctx, now);
    const reasons: string[] = vialBlocks(toCustodyVial(vial), { at: now, timeZone: vial.timezone });
    return {
      scanId,
      action: request.action,
      outcome: ScanOutcome.Looked,
      subject: { kind: 'vial', vial: toVialCustodyView(vial) },
      message:
        reasons.length === 0
          ? `${vial.gtin}/${vial.serial}: ${vial.state}, no block`
          : `${vial.gtin}/${vial.serial}: ${vial.state}, blocked (${reasons.join(', ')})`,
      reasons,
      replayed: false,
    };
  }

  /**
   * The bedside pre-check: every rule `POST /api/doses` applies (doseBlocks), answered before the clinician
   * enters the patient; nothing is written but the scan (and, when blocked, the audited refusal).
   */
  private doseCheck(
    vial: CustodyVialRow,
    label: { lot?: string; expiry?: string },
    scanId: string,
    ctx: ActorContext,
    now: Date,
  ): ScanAnswer {
    const clinicId = ctx.actor.kind === 'user' ? (ctx.actor.siteId ?? '') : '';
    // Every dose dispenses its vial (one dose record per vial): dispensed is dosed, with no query of its own.
    const reasons = doseBlocks(toDosableVial(vial, vial.state === VialState.Dispensed), clinicId, now, {
      ...(label.lot !== undefined ? { lot: label.lot } : {}),
      ...(label.expiry !== undefined ? { expiry: label.expiry } : {}),
    });
    return {
      scanId,
      action: ScanAction.Dose,
      outcome: reasons.length === 0 ? ScanOutcome.Looked : ScanOutcome.Refused,
      subject: { kind: 'vial', vial: toVialCustodyView(vial) },
      message:
        reasons.length === 0
          ? `${vial.gtin}/${vial.serial} may be dosed: record the dose with POST /api/doses`
          : `${vial.gtin}/${vial.serial} may not be dosed: ${reasons.join(', ')}`,
      reasons,
      replayed: false,
    };
  }

  /** The site where the scan happens: the user's own, or the one named in the context. */
  private scanSiteId(ctx: ActorContext, context: ScanContext): string {
    const actor = ctx.actor;
    const siteId = (actor.kind === 'user' ? actor.siteId : null) ?? context.siteId;
    if (!siteId) {
      throw new DomainError(ProblemCode.ScanContextRequired, 'say at which site you scan (context.siteId)', {
        field: 'context.siteId',
      });
    }
    if (actor.kind === 'user' && actor.siteId && context.siteId && context.siteId !== actor.siteId) {
      throw new DomainError(ProblemCode.Forbidden, 'you scan at your own site only', {
        field: 'context.siteId',
      });
    }
    return siteId;
  }

  /** put away / move: the location read with the vial, which must be an active one of this site. */
  private storageTarget(
    action: WarehouseAction,
    site: StepSite,
    context: ScanContext,
    location: StepLocation | null,
  ): StepTarget {
    if (!context.locationId && !context.locationCode) {
      throw new DomainError(ProblemCode.ScanContextRequired, `${action} needs the target location`, {
        field: 'context.locationId',
      });
    }
    if (!location || location.siteId !== site.id || !location.active) {
      throw notFound('location', {
        field: context.locationId ? 'context.locationId' : 'context.locationCode',
      });
    }
    return { location, container: null };
  }

  /** pack / unpack: the shipper, under lock. */
  private async shipperTarget(
    uow: UnitOfWork,
    action: WarehouseAction,
    site: StepSite,
    context: ScanContext,
  ): Promise<StepTarget> {
    if (
      action === ScanAction.Pack ||
      (action === ScanAction.Unpack && (context.containerId || context.sscc))
    ) {
      const by = context.containerId
        ? { id: context.containerId }
        : context.sscc
          ? { sscc: context.sscc }
          : null;
      if (!by) {
        throw new DomainError(ProblemCode.ScanContextRequired, `${action} needs the shipper (context.sscc)`, {
          field: 'context.sscc',
        });
      }
      const container = await this.custody.lockContainer(uow.manager, by);
      if (!container || container.siteId !== site.id) {
        throw notFound('shipper', { field: context.containerId ? 'context.containerId' : 'context.sscc' });
      }
      if (container.state !== ContainerState.Open) {
        throw new DomainError(
          ProblemCode.ContainerNotOpen,
          `shipper ${container.sscc} is ${container.state}`,
          {
            field: 'context.sscc',
          },
        );
      }
      return { location: null, container };
    }
    return { location: null, container: null };
  }

  /**
   * Writes an accepted step: the custody interval, the vial, its EPCIS event, the stored answer and the audit
   * event, all in the scan's transaction. The answer is built from what is written, not read back.
   */
  private async apply(
    uow: UnitOfWork,
    ctx: ActorContext,
    action: WarehouseAction,
    vial: CustodyVialRow,
    site: StepSite,
    target: StepTarget,
    scanId: string,
    now: Date,
  ): Promise<ScanAnswer> {
    const userId = ctx.actor.kind === 'user' ? ctx.actor.userId : null;
    const effect = await this.effect(uow, action, vial, site, target, userId, now);
    const after: CustodyVialRow = {
      ...vial,
      ...(action === ScanAction.Receive
        ? {
            holder_site_id: site.id,
            holder_site_code: site.code,
            holder_site_kind: site.kind,
            timezone: site.timezone,
          }
        : {}),
      location_id: target.location?.id ?? null,
      location_code: target.location?.code ?? null,
      container_id: effect.packedInto?.id ?? null,
      sscc: effect.packedInto?.sscc ?? null,
      shipment_id: effect.packedInto?.shipmentId ?? null,
      open_step: action,
    };
    const answer: ScanAnswer = {
      scanId,
      action,
      outcome: ScanOutcome.Done,
      subject: { kind: 'vial', vial: toVialCustodyView(after) },
      message: `${vial.gtin}/${vial.serial} ${STEP_MESSAGES[action]}`,
      reasons: [],
      replayed: false,
    };
    const writes = this.custody.scanStepWrites(
      { vialId: vial.id, to: effect.to, at: now, step: action, openedBy: userId, vial: effect.change },
      epcisEventRow(effect.event, now),
      { id: scanId, outcome: answer.outcome, answer: { ...answer } },
    );
    // The custody interval, the vial, the EPCIS event and the stored answer ride in the audit event's round
    // trip: one statement, one transaction (EU GDP 5.5, Annex 11 §9, Part 11 §11.10(e)). Nothing follows: the
    // COMMIT rides too.
    await uow.audit(
      {
        action: `vial.${action}`,
        entityType: 'vial',
        entityId: vial.id,
        oldValues: {
          siteId: vial.holder_site_id,
          locationId: vial.location_id,
          containerId: vial.container_id,
          state: vial.state,
        },
        newValues: {
          siteId: site.id,
          locationId: target.location?.id ?? null,
          containerId: effect.packedInto?.id ?? null,
          state: vial.state,
        },
      },
      writes,
      { last: true },
    );
    return answer;
  }

  /** Where the step takes the vial and its EPCIS event; packing and unpacking also record the aggregation. */
  private async effect(
    uow: UnitOfWork,
    action: WarehouseAction,
    vial: CustodyVialRow,
    site: StepSite,
    target: StepTarget,
    userId: string | null,
    now: Date,
  ): Promise<StepEffect> {
    const m = uow.manager;
    const where = {
      time: now,
      siteId: site.id,
      timeZone: site.timezone,
      locationId: target.location?.id ?? null,
    };
    const ref = [{ gtin: vial.gtin, serial: vial.serial }];
    const atSite = { siteId: site.id, locationId: null };
    switch (action) {
      case ScanAction.Receive:
        return {
          to: atSite,
          change: { holderSiteId: site.id },
          event: vialCustodyEvent('receive', ref, where, { siteId: vial.holder_site_id }),
          packedInto: null,
        };
      case ScanAction.Putaway:
      case ScanAction.Move:
        return {
          to: { siteId: site.id, locationId: target.location!.id },
          change: {},
          event: vialCustodyEvent(action, ref, where),
          packedInto: null,
        };
      case ScanAction.Pick:
        return { to: atSite, change: {}, event: vialCustodyEvent('pick', ref, where), packedInto: null };
      case ScanAction.Pack: {
        const container = target.container!;
        await this.custody.aggregate(m, container.id, vial.id, now, userId!);
        return {
          to: { containerId: container.id, siteId: site.id },
          change: {},
          event: shipperAggregationEvent('ADD', container.sscc, ref, where),
          packedInto: container,
        };
      }
      case ScanAction.Unpack: {
        const container =
          target.container ?? (await this.custody.lockContainer(m, { id: vial.container_id! }))!;
        if (container.state !== ContainerState.Open) {
          throw new DomainError(
            ProblemCode.ContainerNotOpen,
            `shipper ${container.sscc} is ${container.state}`,
            {
              field: 'raw',
            },
          );
        }
        await this.custody.disaggregate(m, vial.id, now, userId);
        return {
          to: atSite,
          change: {},
          event: shipperAggregationEvent('DELETE', container.sscc, ref, where),
          packedInto: null,
        };
      }
    }
  }
}
