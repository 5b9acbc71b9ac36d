import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { type DoseRoute, ProblemCode, VialState } from '@lyotrace/contracts';
import {
  assertPatientRef,
  type Clock,
  DomainError,
  DoseBlock,
  type DoseRefusalReason,
  doseAdministeredEvent,
  doseBlocks,
  doseCorrectionEvents,
  type EpcisDose,
  type EpcisObjectEvent,
  notFound,
  readableSiteIds,
  sgtinUri,
} from '@lyotrace/domain';
import {
  type ActorContext,
  CLOCK,
  CustodyRepository,
  type DoseCorrectionRow,
  DoseRepository,
  type DoseRow,
  EpcisRepository,
  TransactionRunner,
} from '@lyotrace/persistence';
import { toDosableVial } from './custody/custody-views.js';
import { scanSubject, unknownVial } from './custody/scan-input.js';
import { SignatureService } from './signature.service.js';

export interface DoseCorrectionView {
  id: string;
  oldValues: Record<string, unknown>;
  newValues: Record<string, unknown>;
  reason: string;
  correctedBy: { id: string; name: string };
  correctedAt: string;
  signatureId: string;
}

export interface DoseView {
  id: string;
  version: number;
  vial: { id: string; gtin: string; serial: string; expiry: string; lotId: string; lotCode: string };
  /** The clinic's pseudonym for the patient: never a name or a birth date. */
  patient: { id: string; ref: string };
  site: { id: string; code: string };
  administeredAt: string;
  volumeMl: string;
  route: DoseRoute;
  recordedBy: { id: string; name: string };
  recordedAt: string;
  signatureId: string;
  corrections: DoseCorrectionView[];
}

export interface RecordDoseInput {
  /** The vial's GS1 scan: element string (scan data), `(01)…(21)…` text, or Digital Link URI. */
  raw: string;
  patientRef: string;
  administeredAt: Date;
  volumeMl: string;
  route: DoseRoute;
  signature: { password: string; reason?: string };
}

export interface DoseChanges {
  patientRef?: string;
  administeredAt?: Date;
  volumeMl?: string;
  route?: DoseRoute;
}

/** Clock skew tolerated between a ward PC and the server before a time of administration is "in the future". */
const FUTURE_TOLERANCE_MS = 5 * 60_000;
const DEFAULT_SIGNATURE_REASON = 'dose administered as recorded';

const toCorrectionView = (c: DoseCorrectionRow): DoseCorrectionView => ({
  id: c.id,
  oldValues: c.old_values,
  newValues: c.new_values,
  reason: c.reason,
  correctedBy: { id: c.corrected_by, name: c.corrector_name },
  correctedAt: c.corrected_at.toISOString(),
  signatureId: c.signature_id,
});

const toDoseView = (d: DoseRow, corrections: DoseCorrectionRow[] = []): DoseView => ({
  id: d.id,
  version: d.version,
  vial: {
    id: d.vial_id,
    gtin: d.gtin,
    serial: d.serial,
    expiry: d.expiry,
    lotId: d.lot_id,
    lotCode: d.lot_code,
  },
  patient: { id: d.patient_id, ref: d.patient_ref },
  site: { id: d.site_id, code: d.site_code },
  administeredAt: d.administered_at.toISOString(),
  volumeMl: d.volume_ml,
  route: d.route,
  recordedBy: { id: d.recorded_by, name: d.recorder_name },
  recordedAt: d.recorded_at.toISOString(),
  signatureId: d.signature_id,
  corrections: corrections.filter((c) => c.dose_id === d.id).map(toCorrectionView),
});

const epcisDoseOf = (d: DoseRow): EpcisDose => ({
  id: d.id,
  version: d.version,
  gtin: d.gtin,
  serial: d.serial,
  clinicSiteId: d.site_id,
  timeZone: d.timezone,
  patientRef: d.patient_ref,
  administeredAt: d.administered_at,
  volumeMl: d.volume_ml,
  route: d.route,
});

/** The clinic a clinic user acts for (ARCHITECTURE.md §1: clinic staff record doses at their own clinic). */
function clinicOf(ctx: ActorContext): { userId: string; siteId: string } {
  const actor = ctx.actor;
  if (actor.kind !== 'user' || !actor.siteId) {
    throw new DomainError(ProblemCode.Forbidden, 'doses are recorded by clinic staff at their clinic');
  }
  return { userId: actor.userId, siteId: actor.siteId };
}

function timeError(message: string, field: string): DomainError {
  return new DomainError(ProblemCode.DoseTimeInvalid, message, { field });
}

/**
 * Patient doses (ARCHITECTURE.md §4 flow 6): a vial scanned at the bedside, every gate checked again, the
 * dose recorded with an e-signature (21 CFR Part 11 §11.50), the vial leaving custody as dispensed, all in one
 * transaction with its audit events and EPCIS event. Corrections keep the old values; nothing is deleted.
 */
@Injectable()
export class DoseService {
  constructor(
    private readonly doses: DoseRepository,
    private readonly custody: CustodyRepository,
    private readonly tx: TransactionRunner,
    private readonly signatures: SignatureService,
    private readonly epcis: EpcisRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async record(ctx: ActorContext, input: RecordDoseInput): Promise<DoseView> {
    const clinic = clinicOf(ctx);
    const patientRef = assertPatientRef(input.patientRef);
    this.assertNotFuture(input.administeredAt, 'administeredAt');
    const scan = scanSubject(input.raw.trim(), this.clock, 'vial');
    const signer = await this.signatures.verifySigner(ctx, {
      password: input.signature.password,
      meaning: 'responsibility',
      reason: input.signature.reason?.trim() || DEFAULT_SIGNATURE_REASON,
    });
    // A refusal rolls the dose transaction back, then is audited in a transaction of its own.
    const attempt: { refusal?: { vialId: string; reasons: DoseRefusalReason[] } } = {};
    let doseId: string;
    try {
      doseId = await this.tx.run(ctx, async (uow) => {
        const m = uow.manager;
        const vial = await this.custody.lockVial(m, { gtin: scan.gtin, serial: scan.serial });
        // Clinic isolation: another clinic's vial is "not found", never "refused" (that would confirm it). The
        // answer is the one the bedside pre-check scan gives for the same scan: a valid scan of nothing known.
        if (!vial || (vial.holder_site_kind === 'clinic' && vial.holder_site_id !== clinic.siteId)) {
          throw unknownVial(scan.gtin, scan.serial);
        }
        const reasons = doseBlocks(
          toDosableVial(vial, await this.doses.isDosed(m, vial.id)),
          clinic.siteId,
          input.administeredAt,
          { lot: scan.lot, expiry: scan.expiry },
        );
        if (reasons.length > 0) {
          attempt.refusal = { vialId: vial.id, reasons };
          throw refused(reasons);
        }
        // The custody history stays one line: a vial cannot be given before it was received here.
        const since = await this.doses.openCustodySince(m, vial.id);
        if (since && input.administeredAt < since) {
          throw timeError(
            `administeredAt is before the vial came into this clinic's custody (${since.toISOString()})`,
            'administeredAt',
          );
        }
        const id = randomUUID();
        const now = this.clock.now();
        const patientId = await this.doses.upsertPatient(m, clinic.siteId, patientRef, now);
        const content = {
          id,
          vialId: vial.id,
          gtin: vial.gtin,
          serial: vial.serial,
          patientId,
          patientRef,
          siteId: clinic.siteId,
          administeredAt: input.administeredAt.toISOString(),
          volumeMl: input.volumeMl,
          route: input.route,
        };
        const signature = await this.signatures.applySignature(uow, signer, {
          entityType: 'dose',
          entityId: id,
          version: 1,
          content,
        });
        // Should the unique index on dose.vial_id refuse this insert, that is a second dose of the vial.
        attempt.refusal = { vialId: vial.id, reasons: [DoseBlock.AlreadyDosed] };
        await this.doses.insert(m, {
          id,
          vialId: vial.id,
          patientId,
          siteId: clinic.siteId,
          administeredAt: input.administeredAt,
          volumeMl: input.volumeMl,
          route: input.route,
          recordedBy: clinic.userId,
          recordedAt: now,
          signatureId: signature.id,
        });
        delete attempt.refusal;
        // The vial leaves custody: its open interval ends at the time of administration (EU GDP 5.5).
        await this.custody.moveVial(m, vial.id, null, input.administeredAt, 'dose', clinic.userId, {
          state: VialState.Dispensed,
        });
        const dose = (await this.doses.find(id, null, m))!;
        await this.epcis.append(m, doseAdministeredEvent(epcisDoseOf(dose)), now);
        await uow.audit({
          action: 'dose.record',
          entityType: 'dose',
          entityId: id,
          newValues: { ...content, recordedBy: clinic.userId, signatureId: signature.id },
          reason: signer.reason,
        });
        await uow.audit({
          action: 'vial.dispense',
          entityType: 'vial',
          entityId: vial.id,
          oldValues: { state: vial.state, locationId: vial.location_id },
          newValues: { state: VialState.Dispensed, locationId: null, doseId: id },
        });
        return id;
      });
    } catch (error) {
      const refusal = attempt.refusal;
      // The unique index on dose.vial_id is the last word on a double dose the lock did not catch.
      const isRefusal =
        refusal !== undefined &&
        ((error instanceof DomainError && error.code === ProblemCode.DoseRefused) ||
          DoseRepository.isSecondDose(error));
      if (!isRefusal) throw error;
      await this.auditRefusal(ctx, refusal, { ...input, patientRef }, clinic.siteId);
      throw refused(refusal.reasons);
    }
    return this.get(ctx, doseId);
  }

  /** Corrects a dose with a mandatory reason and a signature; the old values are kept (21 CFR 11.10(e)). */
  async correct(
    ctx: ActorContext,
    doseId: string,
    changes: DoseChanges,
    reason: string,
    signature: { password: string; reason?: string },
  ): Promise<DoseView> {
    const clinic = clinicOf(ctx);
    const why = reason.trim();
    if (why.length === 0) {
      throw new DomainError(ProblemCode.ValidationFailed, 'a correction needs a reason', { field: 'reason' });
    }
    if (changes.patientRef !== undefined) assertPatientRef(changes.patientRef, 'changes.patientRef');
    if (changes.administeredAt !== undefined) {
      this.assertNotFuture(changes.administeredAt, 'changes.administeredAt');
    }
    const scope = readableSiteIds(ctx.actor);
    // Another clinic's dose is "not found" before anything else is asked, the password included.
    if (!(await this.doses.find(doseId, scope))) throw notFound('dose');
    const signer = await this.signatures.verifySigner(ctx, {
      password: signature.password,
      meaning: 'responsibility',
      reason: signature.reason?.trim() || why,
    });
    await this.tx.run(ctx, async (uow) => {
      const m = uow.manager;
      const before = await this.doses.lock(m, doseId, scope);
      if (!before) throw notFound('dose');
      const oldValues: Record<string, unknown> = {};
      const newValues: Record<string, unknown> = {};
      const change: Parameters<DoseRepository['update']>[2] = {};
      const now = this.clock.now();
      if (changes.patientRef !== undefined && changes.patientRef !== before.patient_ref) {
        oldValues.patientRef = before.patient_ref;
        newValues.patientRef = changes.patientRef;
        change.patientId = await this.doses.upsertPatient(m, before.site_id, changes.patientRef, now);
      }
      if (
        changes.administeredAt !== undefined &&
        changes.administeredAt.getTime() !== before.administered_at.getTime()
      ) {
        const since = await this.doses.custodyClosedAt(m, before.vial_id, before.administered_at);
        if (since && changes.administeredAt < since) {
          throw timeError(
            `the vial came into the clinic's custody at ${since.toISOString()}: it cannot have been given before`,
            'changes.administeredAt',
          );
        }
        // The custody history follows: the vial left custody when it was given.
        await this.doses.moveCustodyEnd(m, before.vial_id, before.administered_at, changes.administeredAt);
        oldValues.administeredAt = before.administered_at.toISOString();
        newValues.administeredAt = changes.administeredAt.toISOString();
        change.administeredAt = changes.administeredAt;
      }
      if (changes.volumeMl !== undefined && Number(changes.volumeMl) !== Number(before.volume_ml)) {
        oldValues.volumeMl = before.volume_ml;
        newValues.volumeMl = changes.volumeMl;
        change.volumeMl = changes.volumeMl;
      }
      if (changes.route !== undefined && changes.route !== before.route) {
        oldValues.route = before.route;
        newValues.route = changes.route;
        change.route = changes.route;
      }
      if (Object.keys(newValues).length === 0) {
        throw new DomainError(
          ProblemCode.ValidationFailed,
          'the changes are the values already recorded: nothing to correct',
          { field: 'changes' },
        );
      }
      await this.doses.update(m, before.id, change);
      const after = (await this.doses.find(before.id, null, m))!;
      const signed = await this.signatures.applySignature(uow, signer, {
        entityType: 'dose',
        entityId: after.id,
        version: after.version,
        content: { ...toDoseView(after), corrections: [] },
      });
      const correctionId = await this.doses.insertCorrection(m, {
        doseId: before.id,
        oldValues,
        newValues,
        reason: why,
        correctedBy: clinic.userId,
        correctedAt: now,
        signatureId: signed.id,
      });
      const stored = await this.doses.currentDoseEvent(
        m,
        sgtinUri(before.gtin, before.serial),
        before.id,
        before.version,
      );
      const inError = (stored as EpcisObjectEvent | null) ?? doseAdministeredEvent(epcisDoseOf(before));
      const events = doseCorrectionEvents(inError, epcisDoseOf(after), {
        id: correctionId,
        at: now,
        reason: why,
      });
      await this.epcis.append(m, events.declaration, now);
      await this.epcis.append(m, events.corrective, now);
      await uow.audit({
        action: 'dose.correct',
        entityType: 'dose',
        entityId: before.id,
        oldValues: { ...oldValues, version: before.version },
        newValues: { ...newValues, version: after.version, correctionId, signatureId: signed.id },
        reason: why,
      });
    });
    return this.get(ctx, doseId);
  }

  async get(ctx: ActorContext, id: string): Promise<DoseView> {
    const dose = await this.doses.find(id, readableSiteIds(ctx.actor));
    if (!dose) throw notFound('dose');
    return toDoseView(dose, await this.doses.corrections([dose.id]));
  }

  /** A patient's doses at the reader's clinic (the same reference at another clinic is another patient). */
  async listByPatient(ctx: ActorContext, patientRef: string, limit: number): Promise<DoseView[]> {
    const rows = await this.doses.listByPatientRef(patientRef, readableSiteIds(ctx.actor), limit);
    const corrections = rows.length > 0 ? await this.doses.corrections(rows.map((r) => r.id)) : [];
    return rows.map((r) => toDoseView(r, corrections));
  }

  private assertNotFuture(at: Date, field: string): void {
    if (Number.isNaN(at.getTime())) throw timeError(`${field} is not a valid instant`, field);
    if (at.getTime() > this.clock.now().getTime() + FUTURE_TOLERANCE_MS) {
      throw timeError(`${field} is in the future: a dose is recorded once given`, field);
    }
  }

  /** EU GMP Annex 11 §12.4 / 21 CFR 11.10(e): a refused attempt leaves a trace, even though nothing changed. */
  private async auditRefusal(
    ctx: ActorContext,
    refusal: { vialId: string; reasons: DoseRefusalReason[] },
    input: RecordDoseInput,
    siteId: string,
  ): Promise<void> {
    await this.tx.run(ctx, (uow) =>
      uow.audit({
        action: 'dose.refuse',
        entityType: 'vial',
        entityId: refusal.vialId,
        newValues: {
          reasons: refusal.reasons,
          siteId,
          patientRef: input.patientRef,
          administeredAt: input.administeredAt.toISOString(),
          volumeMl: input.volumeMl,
          route: input.route,
        },
      }),
    );
  }
}

function refused(reasons: readonly DoseRefusalReason[]): DomainError {
  return new DomainError(ProblemCode.DoseRefused, `the vial may not be dosed: ${reasons.join(', ')}`, {
    reasons: [...reasons],
  });
}
