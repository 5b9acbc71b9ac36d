import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  ContainerState,
  ProblemCode,
  Role,
  ScanAction,
  ScanOutcome,
  ShipmentState,
  VialState,
} from '@lyotrace/contracts';
import {
  canonicalJson,
  type Clock,
  custodyRefusals,
  DomainError,
  doseBlocks,
  notFound,
  readableSiteIds,
  shipperAggregationEvent,
  vialBlocks,
  vialCustodyEvent,
  type WarehouseAction,
} from '@lyotrace/domain';
import {
  type ActorContext,
  CLOCK,
  type ContainerEntity,
  CustodyRepository,
  type CustodyVialRow,
  EpcisRepository,
  type LocationEntity,
  SiteRepository,
  TransactionRunner,
  type UnitOfWork,
} from '@lyotrace/persistence';
import { toCustodyVial, toVialCustodyView, type VialCustodyView } from './custody-views.js';
import { ReceiptService } from './receipt.service.js';
import { scanSubject } from './scan-input.js';

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
    private readonly epcis: EpcisRepository,
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
    return this.tx.run(ctx, async (uow) => {
      const now = this.clock.now();
      const claim = await this.custody.claimScan(uow.manager, {
        userId: actor.userId,
        idempotencyKey: request.idempotencyKey,
        requestHash,
        action: request.action,
        raw: request.raw,
        scannedAt: now,
      });
      if (claim.existing) {
        if (claim.existing.requestHash !== requestHash) {
          throw new DomainError(
            ProblemCode.IdempotencyKeyReused,
            'this idempotency key was used for another scan; use a new key for a new scan',
            { field: 'idempotencyKey' },
          );
        }
        return { ...(claim.existing.answer as unknown as ScanAnswer), replayed: true };
      }
      const answer = await this.perform(uow, ctx, request, claim.id, now);
      await this.custody.completeScan(uow.manager, claim.id, answer.outcome, { ...answer });
      if (answer.outcome === ScanOutcome.Refused) {
        // Annex 11 §12.4 / GDP 9.2: a refused step is recorded too — who tried what, and why it was refused.
        await uow.audit({
          action: `scan.${request.action}.refused`,
          entityType: answer.subject.kind === 'vial' ? 'vial' : 'container',
          entityId: answer.subject.kind === 'vial' ? answer.subject.vial.id : answer.subject.id,
          newValues: { scanId: claim.id, reasons: answer.reasons, context: { ...request.context } },
        });
      }
      return answer;
    });
  }

  private async perform(
    uow: UnitOfWork,
    ctx: ActorContext,
    request: ScanRequest,
    scanId: string,
    now: Date,
  ): Promise<ScanAnswer> {
    if (request.action === ScanAction.Receipt) {
      const result = await this.receipts.scan(uow, ctx, request.raw, request.context, now);
      return { scanId, action: request.action, replayed: false, ...result };
    }
    if (request.action === ScanAction.Lookup || request.action === ScanAction.Dose) {
      return this.lookup(uow, ctx, request, scanId, now);
    }
    const site = await this.siteOf(uow, ctx, request.context);
    const subject = scanSubject(request.raw, this.clock, 'vial');
    const vial = await this.custody.lockVial(uow.manager, { gtin: subject.gtin, serial: subject.serial });
    if (!vial) throw unknownVial(subject.gtin, subject.serial);
    const action: WarehouseAction = request.action;
    const target = await this.target(uow, action, site, request.context);
    const reasons = custodyRefusals(action, toCustodyVial(vial), {
      siteId: site.id,
      at: now,
      timeZone: site.timezone,
      ...(target.location ? { locationId: target.location.id } : {}),
      ...(target.container ? { containerId: target.container.id } : {}),
    });
    if (reasons.length > 0) {
      return {
        scanId,
        action,
        outcome: ScanOutcome.Refused,
        subject: { kind: 'vial', vial: toVialCustodyView(vial) },
        message: `not ${STEP_MESSAGES[action]}: ${reasons.join(', ')}`,
        reasons,
        replayed: false,
      };
    }
    await this.apply(uow, ctx, action, vial, site, target, now);
    const after = (await this.custody.lockVial(uow.manager, { id: vial.id }))!;
    return {
      scanId,
      action,
      outcome: ScanOutcome.Done,
      subject: { kind: 'vial', vial: toVialCustodyView(after) },
      message: `${vial.gtin}/${vial.serial} ${STEP_MESSAGES[action]}`,
      reasons: [],
      replayed: false,
    };
  }

  /** Lookup (and the dose pre-check): what the vial is, where, and what would block it now. Scoped. */
  private async lookup(
    uow: UnitOfWork,
    ctx: ActorContext,
    request: ScanRequest,
    scanId: string,
    now: Date,
  ): Promise<ScanAnswer> {
    const subject = scanSubject(request.raw, this.clock, 'vial-or-shipper');
    const scope = readableSiteIds(ctx.actor);
    if (subject.kind === 'shipper') {
      const container = await this.custody.findContainer({ sscc: subject.sscc }, uow.manager);
      if (!container || (scope && !(await this.shipperVisible(uow, container, scope)))) {
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
    const vial = await this.custody.lockVial(uow.manager, { gtin: subject.gtin, serial: subject.serial });
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
    const reasons = doseBlocks(
      {
        ...toCustodyVial(vial),
        timeZone: vial.timezone,
        dosed: vial.state === VialState.Dispensed,
        lotCode: vial.lot_code,
      },
      clinicId,
      now,
      {
        ...(label.lot !== undefined ? { lot: label.lot } : {}),
        ...(label.expiry !== undefined ? { expiry: label.expiry } : {}),
      },
    );
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

  private async shipperVisible(
    uow: UnitOfWork,
    container: ContainerEntity,
    scope: readonly string[],
  ): Promise<boolean> {
    if (scope.includes(container.siteId)) return true;
    const shipment = container.shipmentId
      ? await this.custody.findShipment(container.shipmentId, uow.manager)
      : null;
    return shipment !== null && shipment.state !== ShipmentState.Planned && scope.includes(shipment.toSiteId);
  }

  // Everything inside the scan's transaction reads through its connection: a second pool connection per
  // request would starve the pool under load (each transaction holding one, waiting for another).
  private async siteOf(uow: UnitOfWork, ctx: ActorContext, context: ScanContext) {
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
    const site = await this.sites.findById(siteId, uow.manager);
    if (!site) throw notFound('site', { field: 'context.siteId' });
    return site;
  }

  private async target(
    uow: UnitOfWork,
    action: WarehouseAction,
    site: { id: string },
    context: ScanContext,
  ): Promise<{ location: LocationEntity | null; container: ContainerEntity | null }> {
    if (action === ScanAction.Putaway || action === ScanAction.Move) {
      const location = context.locationId
        ? await this.custody.findLocation(context.locationId, uow.manager)
        : context.locationCode
          ? await this.custody.findLocationByCode(site.id, context.locationCode, uow.manager)
          : undefined;
      if (location === undefined) {
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

  private async apply(
    uow: UnitOfWork,
    ctx: ActorContext,
    action: WarehouseAction,
    vial: CustodyVialRow,
    site: { id: string; timezone: string },
    target: { location: LocationEntity | null; container: ContainerEntity | null },
    now: Date,
  ): Promise<void> {
    const m = uow.manager;
    const userId = ctx.actor.kind === 'user' ? ctx.actor.userId : null;
    const where = {
      time: now,
      siteId: site.id,
      timeZone: site.timezone,
      locationId: target.location?.id ?? null,
    };
    const ref = [{ gtin: vial.gtin, serial: vial.serial }];
    switch (action) {
      case ScanAction.Receive:
        await this.custody.moveVial(m, vial.id, { siteId: site.id, locationId: null }, now, action, userId, {
          holderSiteId: site.id,
        });
        await this.epcis.append(
          m,
          vialCustodyEvent('receive', ref, where, { siteId: vial.holder_site_id }),
          now,
        );
        break;
      case ScanAction.Putaway:
      case ScanAction.Move:
        await this.custody.moveVial(
          m,
          vial.id,
          { siteId: site.id, locationId: target.location!.id },
          now,
          action,
          userId,
        );
        await this.epcis.append(m, vialCustodyEvent(action, ref, where), now);
        break;
      case ScanAction.Pick:
        await this.custody.moveVial(m, vial.id, { siteId: site.id, locationId: null }, now, action, userId);
        await this.epcis.append(m, vialCustodyEvent('pick', ref, where), now);
        break;
      case ScanAction.Pack:
        await this.custody.aggregate(m, target.container!.id, vial.id, now, userId!);
        await this.custody.moveVial(
          m,
          vial.id,
          { containerId: target.container!.id, siteId: site.id },
          now,
          action,
          userId,
        );
        await this.epcis.append(m, shipperAggregationEvent('ADD', target.container!.sscc, ref, where), now);
        break;
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
        await this.custody.moveVial(m, vial.id, { siteId: site.id, locationId: null }, now, action, userId);
        await this.epcis.append(m, shipperAggregationEvent('DELETE', container.sscc, ref, where), now);
        break;
      }
    }
    await uow.audit({
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
        containerId: action === ScanAction.Pack ? target.container!.id : null,
        state: vial.state,
      },
    });
  }
}

export function unknownVial(gtin: string, serial: string): DomainError {
  return new DomainError(ProblemCode.ScanUnknown, `no vial is known as GTIN ${gtin} serial ${serial}`, {
    field: 'raw',
    ai: '21',
  });
}
