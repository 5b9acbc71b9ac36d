import { randomInt } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  ContainerState,
  LocationKind,
  ProblemCode,
  Role,
  ShipmentState,
  SiteKind,
  VialState,
} from '@lyotrace/contracts';
import {
  type Clock,
  CustodyRefusal,
  DomainError,
  generateSscc,
  notFound,
  readableSiteIds,
  shipmentEvent,
  shipmentVisible,
  vialBlocks,
} from '@lyotrace/domain';
import {
  type ActorContext,
  CLOCK,
  CustodyBatchRepository,
  CustodyRepository,
  EpcisRepository,
  LoggerRepository,
  SiteRepository,
  TransactionRunner,
} from '@lyotrace/persistence';
import {
  canSeeShipper,
  toCustodyVial,
  toIntervalView,
  toLocationView,
  toShipmentView,
  toShipperView,
  toVialCustodyView,
  type CustodyIntervalView,
  type LocationView,
  type ShipmentView,
  type ShipperView,
  type VialCustodyView,
} from './custody-views.js';

/**
 * GS1 Company Prefix used for our SSCCs. 0614141 is GS1's own example prefix (General Specifications §2.2.1);
 * a producer replaces it with its licensed prefix.
 */
export const SSCC_COMPANY_PREFIX = '0614141';
/** Extension digit 0: a plain shipper (the digit is the company's choice). */
const SSCC_EXTENSION = 0;

export interface NewLocationInput {
  siteId: string;
  code: string;
  name: string;
  kind: LocationKind;
  parentId?: string;
  minTempC: number;
  maxTempC: number;
  alarmDelayS: number;
  hysteresisC: number;
  budgetS?: number | null;
}

export interface ShipperContentsView {
  shipper: ShipperView;
  /** Packed now. */
  contents: VialCustodyView[];
  /** What was inside when: every packing with its unpacking time. */
  history: { vialId: string; gtin: string; serial: string; packedAt: string; unpackedAt: string | null }[];
}

export interface BlockedVial {
  vialId: string;
  gtin: string;
  serial: string;
  sscc: string;
  reasons: string[];
}

/** Locations, shippers (SSCC) and shipments, and the dispatch gate (EU GDP Ch. 9). */
@Injectable()
export class ShippingService {
  constructor(
    private readonly custody: CustodyRepository,
    private readonly batch: CustodyBatchRepository,
    private readonly sites: SiteRepository,
    private readonly epcis: EpcisRepository,
    private readonly loggers: LoggerRepository,
    private readonly tx: TransactionRunner,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  // ── locations ──
  async createLocation(ctx: ActorContext, input: NewLocationInput): Promise<LocationView> {
    if (input.minTempC >= input.maxTempC) {
      throw new DomainError(ProblemCode.ValidationFailed, 'the storage range needs minTempC < maxTempC', {
        field: 'maxTempC',
      });
    }
    return this.tx.run(ctx, async (uow) => {
      const m = uow.manager;
      if (!(await this.sites.findById(input.siteId, m))) throw notFound('site', { field: 'siteId' });
      if (input.parentId) {
        const parent = await this.custody.findLocation(input.parentId, m);
        if (!parent || parent.siteId !== input.siteId) throw notFound('location', { field: 'parentId' });
      }
      if (await this.custody.findLocationByCode(input.siteId, input.code, m)) {
        throw new DomainError(ProblemCode.LocationCodeTaken, `location ${input.code} exists at this site`, {
          field: 'code',
        });
      }
      const saved = await this.custody.insertLocation(m, {
        siteId: input.siteId,
        code: input.code,
        name: input.name,
        kind: input.kind,
        parentId: input.parentId ?? null,
        minTempC: String(input.minTempC),
        maxTempC: String(input.maxTempC),
        alarmDelayS: input.alarmDelayS,
        hysteresisC: String(input.hysteresisC),
        budgetS: input.budgetS ?? null,
        active: true,
      });
      const view = toLocationView(saved);
      await uow.audit({
        action: 'location.create',
        entityType: 'location',
        entityId: saved.id,
        newValues: { ...view },
      });
      return view;
    });
  }

  async listLocations(ctx: ActorContext, siteId?: string): Promise<LocationView[]> {
    const scope = readableSiteIds(ctx.actor);
    const ids = siteId ? (scope && !scope.includes(siteId) ? [] : [siteId]) : scope;
    return (await this.custody.listLocations(ids)).map(toLocationView);
  }

  // ── shippers ──
  /** A new shipper at a site, with a fresh SSCC (GS1 General Specifications §2.2.1, check digit computed). */
  async createShipper(ctx: ActorContext, siteId: string | undefined): Promise<ShipperView> {
    const site = await this.homeSite(ctx, siteId);
    return this.tx.run(ctx, async (uow) => {
      const now = this.clock.now();
      const userId = ctx.actor.kind === 'user' ? ctx.actor.userId : '';
      for (let attempt = 0; ; attempt++) {
        const sscc = generateSscc(SSCC_EXTENSION, SSCC_COMPANY_PREFIX, randomInt(0, 1_000_000_000));
        // A random serial reference could repeat one in use (rarely): draw again rather than fail.
        if ((await this.custody.findContainer({ sscc }, uow.manager)) && attempt < 5) continue;
        const saved = await this.custody.insertContainer(uow.manager, {
          sscc,
          siteId: site.id,
          createdBy: userId,
          createdAt: now,
        });
        await uow.audit({
          action: 'shipper.create',
          entityType: 'container',
          entityId: saved.id,
          newValues: { sscc, siteId: site.id },
        });
        return toShipperView(saved);
      }
    });
  }

  async shipper(ctx: ActorContext, by: { id: string } | { sscc: string }): Promise<ShipperContentsView> {
    const container = await this.custody.findContainer(by);
    const scope = readableSiteIds(ctx.actor);
    if (!container || !(await canSeeShipper(this.custody, container, scope))) throw notFound('shipper');
    const history = (await this.batch.aggregationHistory([container.id])).get(container.id) ?? [];
    const contents = await this.batch.findVials(history.filter((h) => !h.unpacked_at).map((h) => h.vial_id));
    return {
      shipper: toShipperView(container),
      contents: contents.map(toVialCustodyView),
      history: history.map((h) => ({
        vialId: h.vial_id,
        gtin: h.gtin,
        serial: h.serial,
        packedAt: h.packed_at.toISOString(),
        unpackedAt: h.unpacked_at?.toISOString() ?? null,
      })),
    };
  }

  /** A vial's whole chain of custody: where it was, from when to when, moved by whom. Scoped to holders. */
  async vialCustody(
    ctx: ActorContext,
    vialId: string,
  ): Promise<{ vial: VialCustodyView; intervals: CustodyIntervalView[] }> {
    const vial = await this.custody.findVial({ id: vialId });
    const scope = readableSiteIds(ctx.actor);
    if (!vial || (scope && !scope.includes(vial.holder_site_id))) throw notFound('vial');
    return {
      vial: toVialCustodyView(vial),
      intervals: (await this.custody.custodyHistory(vial.id)).map(toIntervalView),
    };
  }

  // ── shipments ──
  async createShipment(
    ctx: ActorContext,
    input: { fromSiteId?: string; toSiteId: string; plannedArrivalAt: Date; shipperIds: string[] },
  ): Promise<ShipmentView> {
    const from = await this.homeSite(ctx, input.fromSiteId);
    const to = await this.sites.findById(input.toSiteId);
    if (!to) throw notFound('site', { field: 'toSiteId' });
    if (to.kind !== SiteKind.Clinic) {
      throw new DomainError(ProblemCode.SiteKindMismatch, 'a shipment goes to a clinic', {
        field: 'toSiteId',
      });
    }
    const now = this.clock.now();
    if (input.plannedArrivalAt.getTime() <= now.getTime()) {
      throw new DomainError(ProblemCode.ValidationFailed, 'the planned arrival must be in the future', {
        field: 'plannedArrivalAt',
      });
    }
    return this.tx.run(ctx, async (uow) => {
      const m = uow.manager;
      const userId = ctx.actor.kind === 'user' ? ctx.actor.userId : '';
      const shipment = await this.custody.insertShipment(m, {
        fromSiteId: from.id,
        toSiteId: to.id,
        plannedArrivalAt: input.plannedArrivalAt,
        createdBy: userId,
        createdAt: now,
      });
      for (const [i, id] of [...new Set(input.shipperIds)].entries()) {
        const container = await this.custody.lockContainer(m, { id });
        if (!container || container.siteId !== from.id)
          throw notFound('shipper', { field: `shipperIds[${i}]` });
        if (container.state !== ContainerState.Open || container.shipmentId) {
          throw new DomainError(
            ProblemCode.ContainerNotOpen,
            `shipper ${container.sscc} is already on a shipment`,
            {
              field: `shipperIds[${i}]`,
            },
          );
        }
        container.shipmentId = shipment.id;
        await this.custody.saveContainer(m, container);
      }
      await uow.audit({
        action: 'shipment.create',
        entityType: 'shipment',
        entityId: shipment.id,
        newValues: { ...toShipmentView(shipment), shipperIds: input.shipperIds },
      });
      return toShipmentView(shipment);
    });
  }

  async listShipments(ctx: ActorContext): Promise<ShipmentView[]> {
    const scope = readableSiteIds(ctx.actor);
    const rows = await this.custody.listShipments(scope);
    return rows.filter((s) => shipmentVisible(s, scope)).map(toShipmentView);
  }

  /**
   * Dispatch: every vial in every shipper passes the gate now and at the planned arrival (EU GDP 9.2: nothing
   * may expire in transit; ARCHITECTURE.md §1: nothing quarantined, recalled, expired, rejected or unreleased
   * leaves). One blocked vial refuses the whole dispatch, listing each vial and reason; the refusal is audited
   * and nothing else changes. On success the vials go in transit inside their shippers.
   */
  async dispatch(ctx: ActorContext, shipmentId: string): Promise<ShipmentView> {
    const refusal = await this.tx.run<{ view: ShipmentView } | { blocked: BlockedVial[]; count: number }>(
      ctx,
      async (uow) => {
        const m = uow.manager;
        const shipment = await this.custody.lockShipment(m, shipmentId);
        const scope = readableSiteIds(ctx.actor);
        if (!shipment || (scope && !scope.includes(shipment.fromSiteId))) throw notFound('shipment');
        if (shipment.state !== ShipmentState.Planned) {
          throw new DomainError(ProblemCode.ShipmentState, `shipment is already ${shipment.state}`, {
            state: shipment.state,
          });
        }
        const from = (await this.sites.findById(shipment.fromSiteId, m))!;
        const to = (await this.sites.findById(shipment.toSiteId, m))!;
        const containers = await this.custody.listContainers({ siteIds: null, shipmentId: shipment.id }, m);
        const now = this.clock.now();
        const blocked: BlockedVial[] = [];
        let count = 0;
        // Read once, under lock: what passes the gate is what leaves.
        const contents = await this.batch.lockContents(
          m,
          containers.map((c) => c.id),
        );
        for (const container of containers) {
          const vials = contents.get(container.id) ?? [];
          if (vials.length === 0) {
            throw new DomainError(ProblemCode.ShipmentEmpty, `shipper ${container.sscc} is empty`, {
              sscc: container.sscc,
            });
          }
          count += vials.length;
          for (const v of vials) {
            const reasons: string[] = vialBlocks(toCustodyVial(v), {
              at: now,
              timeZone: from.timezone,
              arrival: { at: shipment.plannedArrivalAt, timeZone: to.timezone },
            });
            if (v.state !== VialState.InStock) reasons.push(CustodyRefusal.AlreadyShipped);
            if (reasons.length > 0) {
              blocked.push({ vialId: v.id, gtin: v.gtin, serial: v.serial, sscc: container.sscc, reasons });
            }
          }
        }
        if (containers.length === 0)
          throw new DomainError(ProblemCode.ShipmentEmpty, 'the shipment has no shipper');
        // EU GDP 9.2: products needing controlled temperatures travel with temperature monitoring — a
        // shipper leaves only with a logger assigned to it for the journey.
        const unmonitored: string[] = [];
        for (const container of containers) {
          const assignments = await this.loggers.assignmentsFor({ containerId: container.id }, m);
          const live = assignments.some(
            (a) =>
              a.validFrom.getTime() <= now.getTime() && (!a.validTo || a.validTo.getTime() > now.getTime()),
          );
          if (!live) unmonitored.push(container.sscc);
        }
        if (unmonitored.length > 0) {
          throw new DomainError(
            ProblemCode.ShipmentNoLogger,
            `assign a temperature logger to shipper ${unmonitored.join(', ')} before dispatch`,
            { shippers: unmonitored },
          );
        }
        if (blocked.length > 0) return { blocked, count };
        const userId = ctx.actor.kind === 'user' ? ctx.actor.userId : null;
        // Part 11 §11.10(e) / EU GDP 5.5: every vial that leaves has its own audit event (where it was, that it
        // is now on the road in this shipper), written with the move, as a receipt does for every vial it takes.
        await uow.auditMany(
          containers.flatMap((container) =>
            contents.get(container.id)!.map((v) => ({
              action: 'vial.dispatch',
              entityType: 'vial',
              entityId: v.id,
              // The vial row's own values: its holder site stays the sender until a receipt (its custody
              // interval says "on the road": in the shipper, at no site).
              oldValues: { siteId: v.holder_site_id, containerId: v.container_id, state: v.state },
              newValues: {
                siteId: v.holder_site_id,
                containerId: v.container_id,
                shipmentId: shipment.id,
                state: VialState.InTransit,
              },
            })),
          ),
        );
        for (const container of containers) {
          // On the road: the vials stay in their shipper, which is at no site until received.
          await this.batch.moveVials(
            m,
            contents.get(container.id)!.map((v) => v.id),
            { containerId: container.id, siteId: null },
            now,
            'dispatch',
            userId,
            { state: VialState.InTransit },
          );
          container.state = ContainerState.Dispatched;
          await this.custody.saveContainer(m, container);
        }
        const before = shipment.state;
        shipment.state = ShipmentState.Dispatched;
        shipment.dispatchedAt = now;
        shipment.dispatchedBy = userId;
        const saved = await this.custody.saveShipment(m, shipment);
        await this.epcis.append(
          m,
          shipmentEvent(
            'dispatched',
            containers.map((c) => c.sscc),
            shipment.id,
            { fromSiteId: from.id, toSiteId: to.id },
            { time: now, siteId: from.id, timeZone: from.timezone },
          ),
          now,
        );
        await uow.audit({
          action: 'shipment.dispatch',
          entityType: 'shipment',
          entityId: shipment.id,
          oldValues: { state: before },
          newValues: { state: saved.state, vials: count, shippers: containers.map((c) => c.sscc) },
        });
        return { view: toShipmentView(saved) };
      },
    );
    if ('view' in refusal) return refusal.view;
    // The refusal is recorded in a transaction of its own: the dispatch above changed nothing.
    await this.tx.run(ctx, (uow) =>
      uow.audit({
        action: 'shipment.dispatch.refused',
        entityType: 'shipment',
        entityId: shipmentId,
        newValues: { blocked: refusal.blocked.map((b) => ({ vialId: b.vialId, reasons: b.reasons })) },
      }),
    );
    throw new DomainError(
      ProblemCode.ShipmentBlocked,
      `${refusal.blocked.length} of ${refusal.count} vials may not be dispatched`,
      { blocked: refusal.blocked },
    );
  }

  /** The site a warehouse user works at (their own), or the one named when they have none. */
  private async homeSite(ctx: ActorContext, siteId: string | undefined) {
    const actor = ctx.actor;
    const id = (actor.kind === 'user' ? actor.siteId : null) ?? siteId;
    if (!id) throw new DomainError(ProblemCode.SiteRequired, 'say which site (siteId)', { field: 'siteId' });
    if (
      actor.kind === 'user' &&
      actor.role !== Role.Admin &&
      actor.siteId &&
      siteId &&
      siteId !== actor.siteId
    ) {
      throw new DomainError(ProblemCode.Forbidden, 'you work at your own site only', { field: 'siteId' });
    }
    const site = await this.sites.findById(id);
    if (!site) throw notFound('site', { field: 'siteId' });
    return site;
  }
}
