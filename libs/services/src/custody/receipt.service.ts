import { Inject, Injectable } from '@nestjs/common';
import {
  ContainerState,
  ProblemCode,
  QaTaskKind,
  ReceiptLineOutcome,
  ReceiptResult,
  ScanOutcome,
  ShipmentState,
  VialHold,
  VialState,
} from '@lyotrace/contracts';
import {
  type Clock,
  DomainError,
  notFound,
  readableSiteIds,
  shipmentEvent,
  shipmentVisible,
  vialsAcceptedEvent,
} from '@lyotrace/domain';
import {
  type ActorContext,
  type AuditEntry,
  CLOCK,
  CustodyBatchRepository,
  CustodyRepository,
  type CustodyVialRow,
  EpcisRepository,
  LoggerRepository,
  type ShipmentEntity,
  SiteRepository,
  TransactionRunner,
  type UnitOfWork,
  type VialChange,
} from '@lyotrace/persistence';
import { SignatureService, type SignatureCredentials } from '../signature.service.js';
import {
  toShipmentView,
  toVialCustodyView,
  type ShipmentView,
  type VialCustodyView,
} from './custody-views.js';
import { scanSubject, unknownVial } from './scan-input.js';

export interface ReceiptLineView {
  vial: VialCustodyView;
  /** null: expected, not scanned yet. */
  outcome: ReceiptLineOutcome | null;
}

export interface ReceiptView {
  shipment: ShipmentView;
  shippers: { id: string; sscc: string; state: string }[];
  expected: number;
  scanned: number;
  unexpected: number;
  lines: ReceiptLineView[];
  /** Open excursions on the shippers: while any is open, received vials go into quarantine, not stock. */
  openExcursions: { id: string; containerId: string; startedAt: string }[];
  /** The transit loggers' readings from dispatch to receipt (or now), as uploaded by the bridges. */
  transit: TransitLog[];
}

export interface TransitLog {
  containerId: string;
  loggerId: string;
  count: number;
  minC: number | null;
  maxC: number | null;
  /** Readings, oldest first, at most TRANSIT_READINGS_SHOWN (then `truncated`). */
  readings: { time: string; temperatureC: number | null; flags: string[] }[];
  truncated: boolean;
}

/** Enough for a 10-day journey at one reading a minute; more is fetched from the logger's readings. */
export const TRANSIT_READINGS_SHOWN = 15_000;

export interface ReceiptScanResult {
  outcome: ScanOutcome;
  subject:
    { kind: 'vial'; vial: VialCustodyView } | { kind: 'shipper'; id: string; sscc: string; state: string };
  message: string;
  reasons: string[];
  receipt: Record<string, unknown>;
}

/** The stores a receipt reads and writes beside the custody repository (kept together to keep the constructor short). */
@Injectable()
export class ReceiptDependencies {
  constructor(
    readonly sites: SiteRepository,
    readonly epcis: EpcisRepository,
    readonly loggers: LoggerRepository,
    readonly batch: CustodyBatchRepository,
  ) {}
}

/**
 * Clinic receipt (ARCHITECTURE.md §4 flow 4): scan the shipper, then each vial; confirm with an e-signature.
 * The result is complete, or with discrepancy: missing vials go under investigation with a QA task, unexpected
 * ones are recorded and not taken into stock (EU GDP 5.2: receipt checks; 9.2: transport conditions).
 */
@Injectable()
export class ReceiptService {
  constructor(
    private readonly custody: CustodyRepository,
    private readonly deps: ReceiptDependencies,
    private readonly signatures: SignatureService,
    private readonly tx: TransactionRunner,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** A shipment as the reader may see it: a clinic sees only those addressed to it, once dispatched. */
  async visibleShipment(ctx: ActorContext, shipmentId: string): Promise<ShipmentEntity> {
    const shipment = await this.custody.findShipment(shipmentId);
    if (!shipment || !shipmentVisible(shipment, readableSiteIds(ctx.actor))) throw notFound('shipment');
    return shipment;
  }

  async view(ctx: ActorContext, shipmentId: string): Promise<ReceiptView> {
    const shipment = await this.visibleShipment(ctx, shipmentId);
    const containers = await this.custody.listContainers({ siteIds: null, shipmentId: shipment.id });
    const containerIds = containers.map((c) => c.id);
    const lines = await this.custody.receiptLines(shipment.id);
    const byVial = new Map(lines.map((l) => [l.vialId, l.outcome]));
    const packings = await this.deps.batch.aggregationHistory(containerIds);
    const expectedIds = new Set<string>();
    for (const c of containers) {
      for (const a of packings.get(c.id) ?? []) {
        // Expected: what was inside when the shipper left (packed before dispatch, not unpacked before it).
        if (
          shipment.dispatchedAt &&
          a.packed_at <= shipment.dispatchedAt &&
          (!a.unpacked_at || a.unpacked_at > shipment.dispatchedAt)
        ) {
          expectedIds.add(a.vial_id);
        }
      }
    }
    const vials = await this.deps.batch.findVials([
      ...expectedIds,
      ...lines.filter((l) => !expectedIds.has(l.vialId)).map((l) => l.vialId),
    ]);
    const out: ReceiptLineView[] = vials.map((vial) => ({
      vial: toVialCustodyView(vial),
      outcome: byVial.get(vial.id) ?? null,
    }));
    const open = await this.deps.batch.openExcursions(containerIds);
    const excursions = containers.flatMap((c) =>
      (open.get(c.id) ?? []).map((e) => ({
        id: e.id,
        containerId: c.id,
        startedAt: e.started_at.toISOString(),
      })),
    );
    const transit: TransitLog[] = [];
    if (shipment.dispatchedAt) {
      const until = shipment.receivedAt ?? this.clock.now();
      for (const c of containers) {
        const rows = await this.deps.loggers.readingsForContainer(c.id, shipment.dispatchedAt, until);
        const byLogger = new Map<string, typeof rows>();
        for (const r of rows) {
          const list = byLogger.get(r.logger_id);
          if (list) list.push(r);
          else byLogger.set(r.logger_id, [r]);
        }
        for (const [loggerId, readings] of byLogger) {
          // One pass, no spread: a journey can hold more readings than Math.min takes arguments.
          let minC: number | null = null;
          let maxC: number | null = null;
          for (const { temperature_c: t } of readings) {
            if (t === null) continue;
            if (minC === null || t < minC) minC = t;
            if (maxC === null || t > maxC) maxC = t;
          }
          transit.push({
            containerId: c.id,
            loggerId,
            count: readings.length,
            minC,
            maxC,
            readings: readings.slice(0, TRANSIT_READINGS_SHOWN).map((r) => ({
              time: r.time.toISOString(),
              temperatureC: r.temperature_c,
              flags: r.flags,
            })),
            truncated: readings.length > TRANSIT_READINGS_SHOWN,
          });
        }
      }
    }
    return {
      transit,
      shipment: toShipmentView(shipment),
      shippers: containers.map((c) => ({ id: c.id, sscc: c.sscc, state: c.state })),
      expected: expectedIds.size,
      scanned: lines.filter((l) => l.outcome === ReceiptLineOutcome.Received).length,
      unexpected: lines.filter((l) => l.outcome === ReceiptLineOutcome.Unexpected).length,
      lines: out,
      openExcursions: excursions,
    };
  }

  /** One receipt scan, inside the scan's transaction (ScanService owns idempotency and the refusal audit). */
  async scan(
    uow: UnitOfWork,
    ctx: ActorContext,
    raw: string,
    context: { shipmentId?: string; sscc?: string },
    now: Date,
  ): Promise<ReceiptScanResult> {
    const m = uow.manager;
    const clinicId = ctx.actor.kind === 'user' ? ctx.actor.siteId : null;
    if (!clinicId) throw new DomainError(ProblemCode.SiteRequired, 'a receipt is made at a clinic');
    const subject = scanSubject(raw, this.clock, 'vial-or-shipper');
    if (subject.kind === 'shipper') {
      const container = await this.custody.lockContainer(m, { sscc: subject.sscc });
      const shipment = container?.shipmentId
        ? await this.custody.lockShipment(m, container.shipmentId)
        : null;
      if (
        !container ||
        !shipment ||
        shipment.toSiteId !== clinicId ||
        shipment.state === ShipmentState.Planned
      ) {
        throw notFound('shipper', { field: 'raw', ai: '00' });
      }
      const shipper = {
        kind: 'shipper' as const,
        id: container.id,
        sscc: container.sscc,
        state: container.state,
      };
      if (shipment.state !== ShipmentState.Dispatched) {
        return {
          outcome: ScanOutcome.Looked,
          subject: shipper,
          message: `shipment ${shipment.id} is already ${shipment.state}`,
          reasons: [],
          receipt: { shipmentId: shipment.id, state: shipment.state },
        };
      }
      const before = shipment.state;
      shipment.state = ShipmentState.Receiving;
      shipment.receiptStartedAt = now;
      await this.custody.saveShipment(m, shipment);
      const site = (await this.deps.sites.findById(clinicId, m))!;
      const ssccs = (await this.custody.listContainers({ siteIds: null, shipmentId: shipment.id }, m)).map(
        (c) => c.sscc,
      );
      await this.deps.epcis.append(
        m,
        shipmentEvent(
          'received',
          ssccs,
          shipment.id,
          { fromSiteId: shipment.fromSiteId, toSiteId: clinicId },
          {
            time: now,
            siteId: clinicId,
            timeZone: site.timezone,
          },
        ),
        now,
      );
      await uow.audit({
        action: 'shipment.receipt_start',
        entityType: 'shipment',
        entityId: shipment.id,
        oldValues: { state: before },
        newValues: { state: shipment.state, sscc: container.sscc },
      });
      return {
        outcome: ScanOutcome.Done,
        subject: shipper,
        message: `receiving shipment ${shipment.id}: now scan each vial`,
        reasons: [],
        receipt: { shipmentId: shipment.id, state: shipment.state },
      };
    }
    const vial = await this.custody.lockVial(m, { gtin: subject.gtin, serial: subject.serial });
    const shipmentId =
      context.shipmentId ??
      (context.sscc
        ? (await this.custody.findContainer({ sscc: context.sscc }, m))?.shipmentId
        : undefined) ??
      vial?.shipment_id ??
      null;
    const shipment = shipmentId ? await this.custody.lockShipment(m, shipmentId) : null;
    if (!shipment || shipment.toSiteId !== clinicId || shipment.state === ShipmentState.Planned) {
      throw notFound('shipment', { field: 'context.shipmentId' });
    }
    if (!vial) {
      throw unknownVial(subject.gtin, subject.serial);
    }
    if (shipment.state !== ShipmentState.Receiving) {
      return {
        outcome: ScanOutcome.Refused,
        subject: { kind: 'vial', vial: toVialCustodyView(vial) },
        message:
          shipment.state === ShipmentState.Dispatched
            ? 'scan the shipper (SSCC) first to open the receipt'
            : `shipment ${shipment.id} is already ${shipment.state}`,
        reasons: [ProblemCode.ShipmentState],
        receipt: { shipmentId: shipment.id, state: shipment.state },
      };
    }
    const expected = vial.shipment_id === shipment.id && vial.state === VialState.InTransit;
    const outcome = expected ? ReceiptLineOutcome.Received : ReceiptLineOutcome.Unexpected;
    const userId = ctx.actor.kind === 'user' ? ctx.actor.userId : '';
    const fresh = await this.custody.insertReceiptLine(m, {
      shipmentId: shipment.id,
      vialId: vial.id,
      outcome,
      recordedAt: now,
      recordedBy: userId,
    });
    if (fresh) {
      await uow.audit({
        action: `receipt.scan.${outcome}`,
        entityType: 'shipment',
        entityId: shipment.id,
        newValues: { vialId: vial.id, gtin: vial.gtin, serial: vial.serial, outcome },
      });
    }
    const view = toVialCustodyView(vial);
    return {
      outcome: fresh ? ScanOutcome.Done : ScanOutcome.Looked,
      subject: { kind: 'vial', vial: view },
      message: !fresh
        ? `${vial.gtin}/${vial.serial} was already scanned for this receipt`
        : expected
          ? `${vial.gtin}/${vial.serial} found`
          : `${vial.gtin}/${vial.serial} is not on this shipment: recorded as unexpected, not taken into stock`,
      reasons: expected ? [] : ['VIAL_UNEXPECTED'],
      receipt: { shipmentId: shipment.id, state: shipment.state, line: outcome },
    };
  }

  /**
   * Confirms a receipt, e-signed (21 CFR 11.50). Scanned vials enter the clinic's stock — or quarantine while an
   * excursion is open on their shipper, or when recalled (a recall blocks receipt into stock); expected vials
   * not scanned go under investigation with a QA task; unexpected ones stay as recorded.
   */
  async confirm(
    ctx: ActorContext,
    shipmentId: string,
    credentials: Omit<SignatureCredentials, 'meaning'>,
  ): Promise<ReceiptView> {
    const visible = await this.visibleShipment(ctx, shipmentId);
    const signer = await this.signatures.verifySigner(ctx, { ...credentials, meaning: 'responsibility' });
    await this.tx.run(ctx, async (uow) => {
      const m = uow.manager;
      const shipment = (await this.custody.lockShipment(m, visible.id))!;
      if (shipment.state !== ShipmentState.Receiving) {
        throw new DomainError(
          ProblemCode.ShipmentState,
          shipment.state === ShipmentState.Dispatched
            ? 'scan the shipper (SSCC) and the vials first'
            : `shipment is ${shipment.state}`,
          { state: shipment.state },
        );
      }
      const now = this.clock.now();
      const site = (await this.deps.sites.findById(shipment.toSiteId, m))!;
      const containers = await this.custody.listContainers({ siteIds: null, shipmentId: shipment.id }, m);
      const containerIds = containers.map((c) => c.id);
      const lines = await this.custody.receiptLines(shipment.id, m);
      const scanned = new Set(
        lines.filter((l) => l.outcome === ReceiptLineOutcome.Received).map((l) => l.vialId),
      );
      const accepted: { stock: CustodyVialRow[]; quarantine: CustodyVialRow[]; missing: CustodyVialRow[] } = {
        stock: [],
        quarantine: [],
        missing: [],
      };
      const userId = signer.userId;
      const openExcursions = await this.deps.batch.openExcursions(containerIds, m);
      const contents = await this.deps.batch.lockContents(m, containerIds);
      // The vials entering the clinic, by what their row gets besides the move: stock, or quarantine and why.
      const received = new Map<string | null, { change: VialChange; vialIds: string[] }>();
      for (const container of containers) {
        const excursions = openExcursions.get(container.id) ?? [];
        for (const vial of contents.get(container.id) ?? []) {
          if (!scanned.has(vial.id)) {
            // Expected but not found: it stays with its shipper, on the road, under investigation.
            accepted.missing.push(vial);
            continue;
          }
          const quarantine = excursions.length > 0 || vial.recall_id !== null;
          const holdReason = !quarantine
            ? null
            : excursions.length > 0
              ? `received while excursion ${excursions[0]!.id} was open on shipper ${container.sscc}`
              : 'recalled: received into quarantine, not stock';
          let group = received.get(holdReason);
          if (!group) {
            const change: VialChange = { state: VialState.AtClinic, holderSiteId: site.id };
            group = {
              change: holdReason === null ? change : { ...change, hold: VialHold.Quarantine, holdReason },
              vialIds: [],
            };
            received.set(holdReason, group);
          }
          group.vialIds.push(vial.id);
          (quarantine ? accepted.quarantine : accepted.stock).push(vial);
        }
      }
      await this.deps.batch.setHolds(
        m,
        accepted.missing.map((v) => v.id),
        VialHold.UnderInvestigation,
        `missing at receipt of shipment ${shipment.id}`,
      );
      await this.deps.batch.disaggregate(
        m,
        [...received.values()].flatMap((g) => g.vialIds),
        now,
        userId,
      );
      for (const { change, vialIds } of received.values()) {
        await this.deps.batch.moveVials(
          m,
          vialIds,
          { siteId: site.id, locationId: null },
          now,
          'receipt',
          userId,
          change,
        );
      }
      for (const container of containers) {
        container.state = ContainerState.Received;
        await this.custody.saveContainer(m, container);
      }
      const where = { time: now, siteId: site.id, timeZone: site.timezone };
      for (const outcome of ['stock', 'quarantine', 'missing'] as const) {
        const vials = accepted[outcome];
        if (vials.length === 0) continue;
        await this.deps.epcis.append(
          m,
          vialsAcceptedEvent(
            vials.map((v) => ({ gtin: v.gtin, serial: v.serial })),
            shipment.id,
            outcome,
            where,
          ),
          now,
        );
      }
      await this.deps.batch.insertReceiptLines(m, {
        shipmentId: shipment.id,
        vialIds: accepted.missing.map((v) => v.id),
        outcome: ReceiptLineOutcome.Missing,
        at: now,
        by: userId,
      });
      const unexpected = lines
        .filter((l) => l.outcome === ReceiptLineOutcome.Unexpected)
        .map((l) => l.vialId);
      const result =
        accepted.missing.length === 0 && unexpected.length === 0
          ? ReceiptResult.Complete
          : ReceiptResult.WithDiscrepancy;
      let qaTaskId: string | null = null;
      if (accepted.missing.length > 0) {
        qaTaskId = await this.custody.insertQaTask(m, {
          kind: QaTaskKind.MissingAtReceipt,
          siteId: site.id,
          shipmentId: shipment.id,
          details: { missingVialIds: accepted.missing.map((v) => v.id), unexpectedVialIds: unexpected },
          at: now,
        });
      }
      const reviewed = toShipmentView(shipment);
      shipment.state = ShipmentState.Received;
      shipment.receivedAt = now;
      shipment.receivedBy = userId;
      shipment.receiptResult = result;
      const signature = await this.signatures.applySignature(uow, signer, {
        entityType: 'shipment',
        entityId: shipment.id,
        version: shipment.version,
        content: {
          ...reviewed,
          result,
          received: [...accepted.stock, ...accepted.quarantine].map((v) => v.id).sort(),
          missing: accepted.missing.map((v) => v.id).sort(),
          unexpected: [...unexpected].sort(),
        },
      });
      shipment.receiptSignatureId = signature.id;
      await this.custody.saveShipment(m, shipment);
      await uow.audit({
        action: 'shipment.receipt_confirm',
        entityType: 'shipment',
        entityId: shipment.id,
        oldValues: { state: reviewed.state },
        newValues: {
          state: shipment.state,
          result,
          intoStock: accepted.stock.length,
          intoQuarantine: accepted.quarantine.length,
          missing: accepted.missing.length,
          unexpected: unexpected.length,
          qaTaskId,
          signatureId: signature.id,
        },
        reason: signer.reason,
      });
      // 21 CFR 11.10(e): one audit event per vial whose record changed, in one chain after the receipt's own.
      const missing = new Set(accepted.missing);
      const quarantined = new Set(accepted.quarantine);
      const perVial = [...accepted.stock, ...accepted.quarantine, ...accepted.missing].map(
        (vial): AuditEntry => ({
          action: missing.has(vial) ? 'vial.missing_at_receipt' : 'vial.receipt',
          entityType: 'vial',
          entityId: vial.id,
          oldValues: {
            state: vial.state,
            siteId: vial.holder_site_id,
            containerId: vial.container_id,
            hold: vial.hold,
          },
          newValues: missing.has(vial)
            ? { hold: VialHold.UnderInvestigation }
            : {
                state: VialState.AtClinic,
                siteId: site.id,
                containerId: null,
                hold: quarantined.has(vial) ? VialHold.Quarantine : vial.hold,
              },
        }),
      );
      await uow.auditMany(perVial);
    });
    return this.view(ctx, shipmentId);
  }
}
