/**
 * Every BullMQ queue and job name of the system, in one place.
 *
 * NEVER RENAME a value: jobs already in Redis, repeatable schedules and deterministic job ids carry these
 * strings. Add new names; retire old ones only after every queue that could hold them has drained.
 */
export enum QueueName {
  Maintenance = 'maintenance',
  Recalls = 'recalls',
  Excursions = 'excursions',
}

export enum JobName {
  /** Walk the whole audit hash chain and record the result (EU GMP Annex 11 §9: periodic review). */
  AuditChainVerify = 'audit-chain-verify',
  /** Mark every vial downstream of a recalled node and list it for reconciliation. Safe to run twice. */
  RecallPropagate = 'recall-propagate',
  /** Re-queue recalls whose propagation never ran (Redis lost the job): nothing is lost with Redis. */
  RecallSweep = 'recall-sweep',
  /** Evaluate the readings one ingest outbox row says arrived (excursions). Safe to run twice. */
  ExcursionEvaluate = 'excursion-evaluate',
  /** Re-queue ingest outbox rows not evaluated after a while: a job lost with Redis is queued again. */
  IngestOutboxSweep = 'ingest-outbox-sweep',
}

/** The queue each job travels on. A job name belongs to exactly one queue. */
export const JOB_QUEUE: Readonly<Record<JobName, QueueName>> = {
  [JobName.AuditChainVerify]: QueueName.Maintenance,
  [JobName.RecallPropagate]: QueueName.Recalls,
  [JobName.RecallSweep]: QueueName.Maintenance,
  [JobName.ExcursionEvaluate]: QueueName.Excursions,
  [JobName.IngestOutboxSweep]: QueueName.Maintenance,
};

export interface AuditChainVerifyJob {
  /** The audit_verification row this run fills in; null for a scheduled run, which makes its own. */
  verificationId: string | null;
}

export interface RecallPropagateJob {
  recallId: string;
}

export type RecallSweepJob = Record<string, never>;

export interface ExcursionEvaluateJob {
  /** The ingest_outbox row (a logger and the time range of readings that arrived), as a decimal string. */
  outboxId: string;
}

export interface IngestOutboxSweepJob {
  /** Queue again what has waited this long (ms); default INGEST_SWEEP_AGE_MS. */
  olderThanMs?: number;
}

export interface JobPayloads {
  [JobName.AuditChainVerify]: AuditChainVerifyJob;
  [JobName.RecallPropagate]: RecallPropagateJob;
  [JobName.RecallSweep]: RecallSweepJob;
  [JobName.ExcursionEvaluate]: ExcursionEvaluateJob;
  [JobName.IngestOutboxSweep]: IngestOutboxSweepJob;
}
