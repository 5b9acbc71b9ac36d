/**
 * Every BullMQ queue and job name of the system, in one place.
 *
 * NEVER RENAME a value: jobs already in Redis, repeatable schedules and deterministic job ids carry these
 * strings. Add new names; retire old ones only after every queue that could hold them has drained.
 */
export enum QueueName {
  Maintenance = 'maintenance',
}

export enum JobName {
  /** Walk the whole audit hash chain and record the result (EU GMP Annex 11 §9: periodic review). */
  AuditChainVerify = 'audit-chain-verify',
}

/** The queue each job travels on. A job name belongs to exactly one queue. */
export const JOB_QUEUE: Readonly<Record<JobName, QueueName>> = {
  [JobName.AuditChainVerify]: QueueName.Maintenance,
};

export interface AuditChainVerifyJob {
  /** The audit_verification row this run fills in; null for a scheduled run, which makes its own. */
  verificationId: string | null;
}

export interface JobPayloads {
  [JobName.AuditChainVerify]: AuditChainVerifyJob;
}
