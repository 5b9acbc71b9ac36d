import { randomInt } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  LotKind,
  LotStatus,
  ProblemCode,
  QuantityUnit,
  VialHold,
  VialState,
  type LotView,
} from '@lyotrace/contracts';
import {
  assertDisposable,
  assertLotEditable,
  assertNoCycle,
  assertTransformationKinds,
  consumeInputs,
  type Clock,
  DomainError,
  fromMicro,
  hasValidGs1CheckDigit,
  isReleasableKind,
  isRootKind,
  lotDispositionEvent,
  lotRegisteredEvent,
  transformationRecordedEvent,
  vialsCommissionedEvent,
  notFound,
  toMicro,
} from '@lyotrace/domain';
import {
  type ActorContext,
  CLOCK,
  EpcisRepository,
  GenealogyRepository,
  type LotEntity,
  type ProductEntity,
  SiteRepository,
  TransactionRunner,
  type VialEntity,
} from '@lyotrace/persistence';
import { SignatureService, type SignatureCredentials } from './signature.service.js';

export const toLotView = (l: LotEntity, gtin: string | null = null): LotView => ({
  id: l.id,
  code: l.code,
  kind: l.kind,
  status: l.status,
  productId: l.productId,
  gtin,
  siteId: l.siteId,
  quantity: fromMicro(toMicro(l.quantity)),
  remainingQuantity: fromMicro(toMicro(l.remainingQuantity)),
  unit: l.unit,
  expiry: l.expiry,
  attributes: l.attributes,
  externalIds: l.externalIds,
  recordedBy: l.recordedBy,
  recordedAt: l.recordedAt.toISOString(),
  version: l.version,
});

export interface ProductView {
  id: string;
  gtin: string;
  name: string;
  shelfLifeDays: number;
  singleUse: boolean;
  version: number;
}

export const toProductView = (p: ProductEntity): ProductView => ({
  id: p.id,
  gtin: p.gtin,
  name: p.name,
  shelfLifeDays: p.shelfLifeDays,
  singleUse: p.singleUse,
  version: p.version,
});

export interface NewLotInput {
  code: string;
  kind: LotKind;
  quantity: string;
  unit: QuantityUnit;
  productId?: string;
  expiry?: string;
  attributes?: Record<string, unknown>;
  externalIds?: Record<string, string>;
}

export interface TransformationInput {
  siteId: string;
  occurredAt: Date;
  note?: string;
  inputs: { lotId: string; quantity: string; unit: string }[];
  /** Each output is a new lot, or more of an existing one (e.g. another harvest added to a pool). */
  outputs: ({ lot: NewLotInput } | { existingLotId: string; quantity: string })[];
}

export interface VialView {
  id: string;
  lotId: string;
  gtin: string;
  serial: string;
  expiry: string;
  state: VialState;
  holderSiteId: string;
  recalled: boolean;
}

export const toVialView = (v: VialEntity): VialView => ({
  id: v.id,
  lotId: v.lotId,
  gtin: v.gtin,
  serial: v.serial,
  expiry: v.expiry,
  state: v.state,
  holderSiteId: v.holderSiteId,
  recalled: v.recallId !== null,
});

/** Serials: 10 characters from 32 unambiguous symbols (~10¹⁵ values), random so that none can be guessed from another. */
const SERIAL_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
const newSerial = (): string =>
  Array.from({ length: 10 }, () => SERIAL_ALPHABET[randomInt(SERIAL_ALPHABET.length)]).join('');

const userId = (ctx: ActorContext): string => {
  if (ctx.actor.kind !== 'user')
    throw new DomainError(ProblemCode.Forbidden, 'production records are made by people');
  return ctx.actor.userId;
};

@Injectable()
export class GenealogyService {
  constructor(
    private readonly repo: GenealogyRepository,
    private readonly sites: SiteRepository,
    private readonly tx: TransactionRunner,
    private readonly signatures: SignatureService,
    private readonly epcis: EpcisRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** A product presentation, identified by its GTIN-14 (GS1 General Specifications §7.9: mod-10 check digit). */
  async createProduct(
    ctx: ActorContext,
    input: { gtin: string; name: string; shelfLifeDays: number; singleUse?: boolean },
  ): Promise<ProductView> {
    if (!/^\d{14}$/.test(input.gtin) || !hasValidGs1CheckDigit(input.gtin)) {
      throw new DomainError(ProblemCode.Gs1CheckDigit, `${input.gtin} is not a valid GTIN-14`, {
        field: 'gtin',
        ai: '01',
      });
    }
    return this.tx.run(ctx, async (uow) => {
      if (await this.repo.findProductByGtin(input.gtin, uow.manager)) {
        throw new DomainError(ProblemCode.Conflict, `GTIN ${input.gtin} is already a product`, {
          field: 'gtin',
        });
      }
      const p = await this.repo.insertProduct(uow.manager, {
        gtin: input.gtin,
        name: input.name,
        shelfLifeDays: input.shelfLifeDays,
        singleUse: input.singleUse ?? true,
      });
      await uow.audit({
        action: 'product.create',
        entityType: 'product',
        entityId: p.id,
        newValues: { ...toProductView(p) },
      });
      return toProductView(p);
    });
  }

  async listProducts(): Promise<ProductView[]> {
    return (await this.repo.listProducts()).map(toProductView);
  }

  async listLots(filter: {
    kind?: LotKind;
    status?: LotStatus;
    limit: number;
    afterCode?: string;
  }): Promise<LotView[]> {
    return (await this.repo.listLots(filter)).map((l) => toLotView(l));
  }

  /** Registers a root lot that comes from outside: a donation, a supplier's raw material or cargo. */
  async registerRootLot(ctx: ActorContext, siteId: string, input: NewLotInput): Promise<LotView> {
    if (!isRootKind(input.kind)) {
      throw new DomainError(
        ProblemCode.GenealogyKindNotAllowed,
        `a ${input.kind} is made by a transformation, not registered`,
        { field: 'kind' },
      );
    }
    return this.tx.run(ctx, async (uow) => {
      const site = await this.sites.findById(siteId, uow.manager);
      if (!site) throw notFound('site', { field: 'siteId' });
      const lot = await this.createLot(uow.manager, ctx, siteId, input, '');
      const now = this.clock.now();
      await this.epcis.append(
        uow.manager,
        lotRegisteredEvent({ ...lot, gtin: null }, { time: now, siteId, timeZone: site.timezone }),
        now,
      );
      await uow.audit({
        action: 'lot.register',
        entityType: 'lot',
        entityId: lot.id,
        newValues: { ...toLotView(lot) },
      });
      return toLotView(lot);
    });
  }

  async recordTransformation(
    ctx: ActorContext,
    input: TransformationInput,
  ): Promise<{ transformationId: string; outputs: LotView[] }> {
    const operatorId = userId(ctx);
    return this.tx.run(ctx, async (uow) => {
      const m = uow.manager;
      const site = await this.sites.findById(input.siteId, m);
      if (!site) throw notFound('site', { field: 'siteId' });
      if (input.outputs.length === 0)
        throw new DomainError(ProblemCode.ValidationFailed, 'a transformation produces at least one lot', {
          field: 'outputs',
        });
      const existingIds = input.outputs.flatMap((o) => ('existingLotId' in o ? [o.existingLotId] : []));
      const locked = await this.repo.lockLots(m, [...input.inputs.map((i) => i.lotId), ...existingIds]);

      // Quantity conservation on the inputs (unknown, rejected, wrong unit, over-consumption refused).
      const remainingAfter = consumeInputs(
        new Map(
          input.inputs.flatMap((i) => {
            const l = locked.get(i.lotId);
            return l
              ? [
                  [
                    l.id,
                    {
                      id: l.id,
                      code: l.code,
                      kind: l.kind,
                      status: l.status,
                      remaining: l.remainingQuantity,
                      unit: l.unit,
                    },
                  ] as const,
                ]
              : [];
          }),
        ),
        input.inputs,
      );
      const inputKinds = input.inputs.map((i) => locked.get(i.lotId)!.kind);

      const outputs: { lot: LotEntity; quantity: string; created: boolean }[] = [];
      for (const [index, out] of input.outputs.entries()) {
        if ('existingLotId' in out) {
          const lot = locked.get(out.existingLotId);
          if (!lot) throw notFound('output lot', { field: `outputs.${index}.existingLotId` });
          assertLotEditable(lot);
          assertTransformationKinds(lot.kind, inputKinds);
          // A lot cannot feed itself, directly or through its descendants.
          const inputIds = input.inputs.map((i) => i.lotId);
          const ancestors = await this.repo.ancestorsOf(m, inputIds);
          assertNoCycle(lot.id, inputIds, new Map(inputIds.map((id) => [id, ancestors])));
          const add = toMicro(out.quantity, `outputs.${index}.quantity`);
          lot.quantity = fromMicro(toMicro(lot.quantity) + add);
          lot.remainingQuantity = fromMicro(toMicro(lot.remainingQuantity) + add);
          outputs.push({ lot: await this.repo.saveLot(m, lot), quantity: out.quantity, created: false });
        } else {
          assertTransformationKinds(out.lot.kind, inputKinds);
          const lot = await this.createLot(m, ctx, input.siteId, out.lot, `outputs.${index}.lot.`);
          outputs.push({ lot, quantity: out.lot.quantity, created: true });
        }
      }

      for (const [lotId, remaining] of remainingAfter) {
        const lot = locked.get(lotId)!;
        const before = lot.remainingQuantity;
        lot.remainingQuantity = remaining;
        await this.repo.saveLot(m, lot);
        await uow.audit({
          action: 'lot.consume',
          entityType: 'lot',
          entityId: lot.id,
          oldValues: { remainingQuantity: fromMicro(toMicro(before)) },
          newValues: { remainingQuantity: remaining },
        });
      }
      const t = await this.repo.insertTransformation(m, {
        siteId: input.siteId,
        occurredAt: input.occurredAt,
        operatorId,
        recordedAt: this.clock.now(),
        note: input.note ?? null,
        inputs: input.inputs.map((i) => ({
          lotId: i.lotId,
          quantity: fromMicro(toMicro(i.quantity)),
          unit: i.unit,
        })),
        outputs: outputs.map((o) => ({
          lotId: o.lot.id,
          quantity: fromMicro(toMicro(o.quantity)),
          unit: o.lot.unit,
        })),
      });
      const gtinOf = async (productId: string | null) =>
        productId ? ((await this.repo.findProduct(productId, m))?.gtin ?? null) : null;
      await this.epcis.append(
        m,
        transformationRecordedEvent(
          {
            id: t.id,
            inputs: input.inputs.map((i) => {
              const l = locked.get(i.lotId)!;
              return { code: l.code, gtin: null, quantity: i.quantity, unit: l.unit };
            }),
            outputs: await Promise.all(
              outputs.map(async (o) => ({
                code: o.lot.code,
                gtin: await gtinOf(o.lot.productId),
                quantity: o.quantity,
                unit: o.lot.unit,
                expiry: o.lot.expiry,
              })),
            ),
          },
          { time: input.occurredAt, siteId: input.siteId, timeZone: site.timezone },
        ),
        this.clock.now(),
      );
      for (const o of outputs) {
        await uow.audit(
          o.created
            ? {
                action: 'lot.create',
                entityType: 'lot',
                entityId: o.lot.id,
                newValues: { ...toLotView(o.lot), transformationId: t.id },
              }
            : {
                action: 'lot.add',
                entityType: 'lot',
                entityId: o.lot.id,
                newValues: { quantity: o.lot.quantity, transformationId: t.id },
              },
        );
      }
      await uow.audit({
        action: 'transformation.record',
        entityType: 'transformation',
        entityId: t.id,
        newValues: {
          siteId: input.siteId,
          occurredAt: input.occurredAt,
          inputs: input.inputs,
          outputs: outputs.map((o) => ({ lotId: o.lot.id, quantity: o.quantity })),
          note: input.note ?? null,
        },
      });
      return { transformationId: t.id, outputs: outputs.map((o) => toLotView(o.lot)) };
    });
  }

  /**
   * Corrects a lot's recorded data (process attributes, external ids, expiry before release). The old values
   * stay in the audit trail with the mandatory reason (EU GMP Ch. 4 §4.9: a correction leaves the original
   * legible); a released or rejected lot is closed.
   */
  async correctLot(
    ctx: ActorContext,
    lotId: string,
    change: { attributes?: Record<string, unknown>; externalIds?: Record<string, string>; expiry?: string },
    reason: string,
  ): Promise<LotView> {
    return this.tx.run(ctx, async (uow) => {
      const lot = (await this.repo.lockLots(uow.manager, [lotId])).get(lotId);
      if (!lot) throw notFound('lot');
      assertLotEditable(lot);
      if (change.expiry !== undefined && (await this.repo.countVials(uow.manager, lot.id)) > 0) {
        throw new DomainError(
          ProblemCode.LotClosed,
          `lot ${lot.code} has labelled vials: its expiry can no longer change`,
          { field: 'expiry' },
        );
      }
      const before = { attributes: lot.attributes, externalIds: lot.externalIds, expiry: lot.expiry };
      if (change.attributes) lot.attributes = change.attributes;
      if (change.externalIds) lot.externalIds = change.externalIds;
      if (change.expiry !== undefined) lot.expiry = change.expiry;
      const saved = await this.repo.saveLot(uow.manager, lot);
      await uow.audit({
        action: 'lot.correct',
        entityType: 'lot',
        entityId: lot.id,
        oldValues: before,
        newValues: { attributes: saved.attributes, externalIds: saved.externalIds, expiry: saved.expiry },
        reason,
      });
      return toLotView(saved);
    });
  }

  /**
   * Declares a recorded transformation wrong (EPCIS errorDeclaration): the record stays, flagged with the
   * reason; the consumed quantities go back to the inputs; its edges leave the traces. Refused once an
   * output has been used further, vialled or dispositioned — correct downstream first.
   */
  async declareInError(ctx: ActorContext, transformationId: string, reason: string): Promise<void> {
    await this.tx.run(ctx, async (uow) => {
      const m = uow.manager;
      const t = await this.repo.lockTransformation(m, transformationId);
      if (!t) throw notFound('transformation');
      if (t.declaredInErrorAt)
        throw new DomainError(
          ProblemCode.TransformationAlreadyCorrected,
          'this transformation is already declared in error',
        );
      const inputs = await this.repo.transformationInputs(m, t.id);
      const outputs = await this.repo.transformationOutputs(m, t.id);
      const lots = await this.repo.lockLots(m, [
        ...inputs.map((i) => i.lotId),
        ...outputs.map((o) => o.lotId),
      ]);
      for (const o of outputs) {
        const lot = lots.get(o.lotId)!;
        assertLotEditable(lot);
        if ((await this.repo.countVials(m, lot.id)) > 0 || (await this.repo.anyConsumed(m, [lot.id]))) {
          throw new DomainError(
            ProblemCode.LotClosed,
            `lot ${lot.code} has been used since: correct what came after it first`,
          );
        }
        const take = toMicro(o.quantity);
        lot.quantity = fromMicro(toMicro(lot.quantity) - take);
        lot.remainingQuantity = fromMicro(toMicro(lot.remainingQuantity) - take);
        await this.repo.saveLot(m, lot);
      }
      for (const i of inputs) {
        const lot = lots.get(i.lotId)!;
        const before = lot.remainingQuantity;
        lot.remainingQuantity = fromMicro(toMicro(lot.remainingQuantity) + toMicro(i.quantity));
        await this.repo.saveLot(m, lot);
        await uow.audit({
          action: 'lot.restore',
          entityType: 'lot',
          entityId: lot.id,
          oldValues: { remainingQuantity: before },
          newValues: { remainingQuantity: lot.remainingQuantity },
          reason,
        });
      }
      await this.repo.markTransformationInError(m, t.id, this.clock.now(), reason);
      await uow.audit({
        action: 'transformation.declare_error',
        entityType: 'transformation',
        entityId: t.id,
        oldValues: { declaredInErrorAt: null },
        newValues: { declaredInErrorAt: this.clock.now() },
        reason,
      });
    });
  }

  /** Commissions serialized vials of a finished lot (before release), up to the lot's planned quantity. */
  async commissionVials(ctx: ActorContext, lotId: string, count: number): Promise<VialView[]> {
    return this.tx.run(ctx, async (uow) => {
      const m = uow.manager;
      const lot = (await this.repo.lockLots(m, [lotId])).get(lotId);
      if (!lot) throw notFound('lot');
      if (!isReleasableKind(lot.kind) || !lot.productId || !lot.expiry) {
        throw new DomainError(ProblemCode.ProductRequired, `a ${lot.kind} is not vialled`, {
          field: 'lotId',
        });
      }
      assertLotEditable(lot);
      const left = toMicro(lot.remainingQuantity);
      if (toMicro(String(count)) > left) {
        throw new DomainError(
          ProblemCode.CommissionExceedsLot,
          `lot ${lot.code} has room for ${fromMicro(left)} more vials`,
          { field: 'count', remaining: fromMicro(left) },
        );
      }
      const product = (await this.repo.findProduct(lot.productId, m))!;
      const now = this.clock.now();
      const vials: VialEntity[] = [];
      // Random serials can collide with existing ones (rarely): skip those and draw again.
      while (vials.length < count) {
        const batch = Array.from({ length: count - vials.length }, () => ({
          lotId: lot.id,
          gtin: product.gtin,
          serial: newSerial(),
          expiry: lot.expiry!,
          state: VialState.InStock,
          holderSiteId: lot.siteId,
          commissionedAt: now,
        }));
        vials.push(
          ...(await this.repo.insertVials(m, batch, ctx.actor.kind === 'user' ? ctx.actor.userId : null)),
        );
      }
      lot.remainingQuantity = fromMicro(left - toMicro(String(count)));
      await this.repo.saveLot(m, lot);
      const site = (await this.sites.findById(lot.siteId, m))!;
      await this.epcis.append(
        m,
        vialsCommissionedEvent(
          { code: lot.code, gtin: product.gtin, expiry: lot.expiry },
          vials.map((v) => v.serial),
          { time: now, siteId: lot.siteId, timeZone: site.timezone },
        ),
        now,
      );
      await uow.audit({
        action: 'lot.commission',
        entityType: 'lot',
        entityId: lot.id,
        oldValues: { remainingQuantity: fromMicro(left) },
        newValues: { remainingQuantity: lot.remainingQuantity, vialsCommissioned: count },
      });
      for (const v of vials) {
        await uow.audit({
          action: 'vial.commission',
          entityType: 'vial',
          entityId: v.id,
          newValues: {
            lotId: lot.id,
            gtin: v.gtin,
            serial: v.serial,
            expiry: v.expiry,
            holderSiteId: v.holderSiteId,
          },
        });
      }
      return vials.map(toVialView);
    });
  }

  /** QA disposition of a finished lot, e-signed (Part 11 §11.50; EU GMP Annex 16). */
  async dispose(
    ctx: ActorContext,
    lotId: string,
    decision: 'release' | 'reject',
    credentials: Omit<SignatureCredentials, 'meaning'>,
  ): Promise<LotView> {
    const signer = await this.signatures.verifySigner(ctx, { ...credentials, meaning: 'approval' });
    return this.tx.run(ctx, async (uow) => {
      const m = uow.manager;
      const lot = (await this.repo.lockLots(m, [lotId])).get(lotId);
      if (!lot) throw notFound('lot');
      assertDisposable(
        {
          code: lot.code,
          status: lot.status,
          recordedBy: lot.recordedBy,
          vialCount: await this.repo.countVials(m, lot.id),
        },
        signer.userId,
        decision,
      );
      const reviewed = toLotView(lot);
      const signature = await this.signatures.applySignature(uow, signer, {
        entityType: 'lot',
        entityId: lot.id,
        version: lot.version,
        content: { ...reviewed },
      });
      lot.status = decision === 'release' ? LotStatus.Released : LotStatus.Rejected;
      lot.dispositionSignatureId = signature.id;
      lot.disposedAt = this.clock.now();
      const saved = await this.repo.saveLot(m, lot);
      const product = (await this.repo.findProduct(lot.productId!, m))!;
      const site = (await this.sites.findById(lot.siteId, m))!;
      await this.epcis.append(
        m,
        lotDispositionEvent({ code: lot.code, gtin: product.gtin }, decision, {
          time: lot.disposedAt,
          siteId: lot.siteId,
          timeZone: site.timezone,
        }),
        lot.disposedAt,
      );
      await uow.audit({
        action: `lot.${decision}`,
        entityType: 'lot',
        entityId: lot.id,
        oldValues: { status: reviewed.status },
        newValues: { status: saved.status, signatureId: signature.id },
        reason: signer.reason,
      });
      return toLotView(saved);
    });
  }

  async getLot(id: string): Promise<LotView> {
    const lot = await this.repo.findLot(id);
    if (!lot) throw notFound('lot');
    const product = lot.productId ? await this.repo.findProduct(lot.productId) : null;
    return toLotView(lot, product?.gtin ?? null);
  }

  /**
   * commissioned = in stock + in transit + at clinics + dispensed + destroyed + samples (every vial is in
   * exactly one state). Held vials are shown explicitly as well (`quarantine`, `under_investigation`; also
   * counted in their state). `unaccounted` = vials under investigation (missing at receipt: custody is not
   * known) plus any vial in no known state — it must come to zero before the lot is reconciled (EU GDP 6.3).
   */
  async reconciliation(lotId: string): Promise<Record<string, number>> {
    const lot = await this.repo.findLot(lotId);
    if (!lot) throw notFound('lot');
    const [byState, byHold] = await Promise.all([
      this.repo.vialStateCounts(lotId),
      this.repo.vialHoldCounts(lotId),
    ]);
    const known = Object.values(VialState).map((s) => byState[s] ?? 0);
    const commissioned = Object.values(byState).reduce((a, n) => a + n, 0);
    const holds = Object.fromEntries(Object.values(VialHold).map((h) => [h, byHold[h] ?? 0]));
    return {
      commissioned,
      ...Object.fromEntries(Object.values(VialState).map((s) => [s, byState[s] ?? 0])),
      ...holds,
      unaccounted:
        (holds[VialHold.UnderInvestigation] ?? 0) + commissioned - known.reduce((a, n) => a + n, 0),
    };
  }

  async listVials(lotId: string, limit: number, afterSerial?: string): Promise<VialView[]> {
    if (!(await this.repo.findLot(lotId))) throw notFound('lot');
    return (await this.repo.listVials(lotId, limit, afterSerial)).map(toVialView);
  }

  private async createLot(
    m: Parameters<GenealogyRepository['insertLot']>[0],
    ctx: ActorContext,
    siteId: string,
    input: NewLotInput,
    prefix: string,
  ): Promise<LotEntity> {
    if (await this.repo.findLotByCode(input.code, m)) {
      throw new DomainError(ProblemCode.LotCodeTaken, `lot code ${input.code} is taken`, {
        field: `${prefix}code`,
      });
    }
    const releasable = isReleasableKind(input.kind);
    if (releasable && (!input.productId || !input.expiry)) {
      throw new DomainError(ProblemCode.ProductRequired, `a ${input.kind} needs a product and an expiry`, {
        field: input.productId ? `${prefix}expiry` : `${prefix}productId`,
      });
    }
    if (input.productId && !(await this.repo.findProduct(input.productId, m)))
      throw notFound('product', { field: `${prefix}productId` });
    const quantity = fromMicro(toMicro(input.quantity, `${prefix}quantity`));
    return this.repo.insertLot(m, {
      code: input.code,
      kind: input.kind,
      status: releasable ? LotStatus.PendingRelease : LotStatus.Active,
      productId: input.productId ?? null,
      siteId,
      quantity,
      remainingQuantity: quantity,
      unit: input.unit,
      expiry: input.expiry ?? null,
      attributes: input.attributes ?? {},
      externalIds: input.externalIds ?? {},
      recordedBy: userId(ctx),
      recordedAt: this.clock.now(),
    });
  }
}
