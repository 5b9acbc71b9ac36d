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
  vialsAcceptedEvent,
} from '@lyotrace/domain';
import {
  type ActorContext,
  CLOCK,
  CustodyRepository,
  type CustodyVialRow,
  EpcisRepository,
  LoggerRepository,
  type ShipmentEntity,
  SiteRepository,
  TransactionRunner,
  type UnitOfWork,
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

/**
 * Clinic receipt (ARCHITECTURE.md §4 flow 4): scan the shipper, then each vial; confirm with an e-signature.
 * The result is complete, or with discrepancy: missing vials go under investigation with a QA task, unexpected
 * ones are recorded and not taken into stock (EU GDP 5.2: receipt checks; 9.2: transport conditions).
 */
@Injectable()
export class ReceiptService {
  constructor(
    private readonly custody: CustodyRepository,
    private readonly sites: SiteRepository,
    private readonly epcis: EpcisRepository,
    private readonly signatures: SignatureService,
    private readonly loggers: LoggerRepository,
    private readonly tx: TransactionRunner,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** A shipment as the reader may see it: a clinic sees only those addressed to it, once dispatched. */
  async visibleShipment(ctx: ActorContext, shipmentId: string): Promise<ShipmentEntity> {
    const shipment = await this.custody.findShipment(shipmentId);
    const scope = readableSiteIds(ctx.actor);
    if (!shipment || (scope && !isVisible(shipment, scope))) throw notFound('shipment');
    return shipment;
  }

  async view(ctx: ActorContext, shipmentId: string): Promise<ReceiptView> {
    const shipment = await this.visibleShipment(ctx, shipmentId);
    const containers = await this.custody.listContainers({ siteIds: null, shipmentId: shipment.id });
    const lines = await this.custody.receiptLines(shipment.id);
    const byVial = new Map(lines.map((l) => [l.vialId, l.outcome]));
    const expectedIds = new Set<string>();
    const out: ReceiptLineView[] = [];
    for (const c of containers) {
      for (const a of await this.custody.aggregationHistory(c.id)) {
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
    for (const id of [
      ...expectedIds,
      ...lines.filter((l) => !expectedIds.has(l.vialId)).map((l) => l.vialId),
    ]) {
      const vial = (await this.custody.findVial({ id }))!;
      out.push({ vial: toVialCustodyView(vial), outcome: byVial.get(id) ?? null });
    }
    const excursions = [];
    for (const c of containers) {
      for (const e of await this.custody.openExcursions({ containerId: c.id })) {
        excursions.push({ id: e.id, containerId: c.id, startedAt: e.started_at.toISOString() });
      }
    }
    const transit: TransitLog[] = [];
    if (shipment.dispatchedAt) {
      const until = shipment.receivedAt ?? this.clock.now();
      for (const c of containers) {
        const rows = await this.loggers.readingsForContainer(c.id, shipment.dispatchedAt, until);
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
      const site = (await this.sites.findById(clinicId, m))!;
      const ssccs = (await this.custody.listContainers({ siteIds: null, shipmentId: shipment.id }, m)).map(
        (c) => c.sscc,
      );
      await this.epcis.append(
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
      const site = (await this.sites.findById(shipment.toSiteId, m))!;
      const containers = await this.custody.listContainers({ siteIds: null, shipmentId: shipment.id }, m);
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
      for (const container of containers) {
        const excursions = await this.custody.openExcursions({ containerId: container.id }, m);
        for (const vial of await this.custody.lockContents(m, container.id)) {
          if (!scanned.has(vial.id)) {
            // Expected but not found: it stays with its shipper, on the road, under investigation.
            await this.custody.setHold(
              m,
              vial.id,
              VialHold.UnderInvestigation,
              `missing at receipt of shipment ${shipment.id}`,
            );
            accepted.missing.push(vial);
            continue;
          }
          const quarantine = excursions.length > 0 || vial.recall_id !== null;
          await this.custody.disaggregate(m, vial.id, now, userId);
          await this.custody.moveVial(
            m,
            vial.id,
            { siteId: site.id, locationId: null },
            now,
            'receipt',
            userId,
            {
              state: VialState.AtClinic,
              holderSiteId: site.id,
              ...(quarantine
                ? {
                    hold: VialHold.Quarantine,
                    holdReason:
                      excursions.length > 0
                        ? `received while excursion ${excursions[0]!.id} was open on shipper ${container.sscc}`
                        : 'recalled: received into quarantine, not stock',
                  }
                : {}),
            },
          );
          (quarantine ? accepted.quarantine : accepted.stock).push(vial);
        }
        container.state = ContainerState.Received;
        await this.custody.saveContainer(m, container);
      }
      const where = { time: now, siteId: site.id, timeZone: site.timezone };
      for (const outcome of ['stock', 'quarantine', 'missing'] as const) {
        const vials = accepted[outcome];
        if (vials.length === 0) continue;
        await this.epcis.append(
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
      for (const vial of accepted.missing) {
        await this.custody.insertReceiptLine(m, {
          shipmentId: shipment.id,
          vialId: vial.id,
          outcome: ReceiptLineOutcome.Missing,
          recordedAt: now,
          recordedBy: userId,
        });
      }
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
      for (const vial of [...accepted.stock, ...accepted.quarantine, ...accepted.missing]) {
        const missing = accepted.missing.includes(vial);
        await uow.audit({
          action: missing ? 'vial.missing_at_receipt' : 'vial.receipt',
          entityType: 'vial',
          entityId: vial.id,
          oldValues: {
            state: vial.state,
            siteId: vial.holder_site_id,
            containerId: vial.container_id,
            hold: vial.hold,
          },
          newValues: missing
            ? { hold: VialHold.UnderInvestigation }
            : {
                state: VialState.AtClinic,
                siteId: site.id,
                containerId: null,
                hold: accepted.quarantine.includes(vial) ? VialHold.Quarantine : vial.hold,
              },
        });
      }
    });
    return this.view(ctx, shipmentId);
  }
}

const isVisible = (s: ShipmentEntity, scope: readonly string[]): boolean =>
  scope.includes(s.fromSiteId) || (scope.includes(s.toSiteId) && s.state !== ShipmentState.Planned);
