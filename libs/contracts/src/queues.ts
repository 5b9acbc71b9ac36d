/**
 * Every BullMQ queue and job name of the system, in one place.
 *
 * NEVER RENAME a value: jobs already in Redis, repeatable schedules and deterministic job ids carry these
 * strings. Add new names; retire old ones only after every queue that could hold them has drained.
 */
export enum QueueName {
  Maintenance = 'maintenance',
  Recalls = 'recalls',
}

export enum JobName {
  /** Walk the whole audit hash chain and record the result (EU GMP Annex 11 §9: periodic review). */
  AuditChainVerify = 'audit-chain-verify',
  /** Mark every vial downstream of a recalled node and list it for reconciliation. Safe to run twice. */
  RecallPropagate = 'recall-propagate',
  /** Re-queue recalls whose propagation never ran (Redis lost the job): nothing is lost with Redis. */
  RecallSweep = 'recall-sweep',
}

/** The queue each job travels on. A job name belongs to exactly one queue. */
export const JOB_QUEUE: Readonly<Record<JobName, QueueName>> = {
  [JobName.AuditChainVerify]: QueueName.Maintenance,
  [JobName.RecallPropagate]: QueueName.Recalls,
  [JobName.RecallSweep]: QueueName.Maintenance,
};

export interface AuditChainVerifyJob {
  /** The audit_verification row this run fills in; null for a scheduled run, which makes its own. */
  verificationId: string | null;
}

export interface RecallPropagateJob {
  recallId: string;
}

export type RecallSweepJob = Record<string, never>;

export interface JobPayloads {
  [JobName.AuditChainVerify]: AuditChainVerifyJob;
  [JobName.RecallPropagate]: RecallPropagateJob;
  [JobName.RecallSweep]: RecallSweepJob;
}
