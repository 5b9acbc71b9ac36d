import { Injectable, Logger } from '@nestjs/common';
import { JobName, type AuditChainVerifyJob } from '@lyotrace/contracts';
import { AuditService } from '@lyotrace/services';
import { IsUUID, ValidateIf } from 'class-validator';
import { HandlesJob, type JobHandler } from './job-handler.js';

export class AuditChainVerifyPayload implements AuditChainVerifyJob {
  @ValidateIf((_, v) => v !== null)
  @IsUUID()
  verificationId!: string | null;
}

/** EU GMP Annex 11 §9: the audit trail is reviewed regularly; the worker checks the hash chain daily. */
@Injectable()
@HandlesJob(JobName.AuditChainVerify, AuditChainVerifyPayload)
export class AuditChainVerifyHandler implements JobHandler<JobName.AuditChainVerify> {
  private readonly logger = new Logger(AuditChainVerifyHandler.name);

  constructor(private readonly audit: AuditService) {}

  async handle(payload: AuditChainVerifyJob): Promise<unknown> {
    const result = await this.audit.runVerification(payload.verificationId);
    this.logger.log(
      `audit chain ${result.ok ? 'intact' : 'BROKEN'}: ${result.eventsChecked} events in ${result.lanesChecked} lanes`,
    );
    return result;
  }
}
