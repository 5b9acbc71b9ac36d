import { LotStatus, ProblemCode } from '@lyotrace/contracts';
import { DomainError } from '../domain-error.js';

export interface ReleaseCandidate {
  code: string;
  status: LotStatus;
  recordedBy: string;
  vialCount: number;
}

/**
 * QA disposition of a finished lot. EU GMP Chapter 2 / Annex 16: the person who certifies a batch is
 * independent of production — whoever recorded the lot cannot release (or reject) it.
 */
export function assertDisposable(
  lot: ReleaseCandidate,
  signerId: string,
  decision: 'release' | 'reject',
): void {
  if (lot.status !== LotStatus.PendingRelease) {
    throw new DomainError(
      ProblemCode.LotNotPendingRelease,
      `lot ${lot.code} is ${lot.status}, not pending release`,
      { lotStatus: lot.status },
    );
  }
  if (lot.recordedBy === signerId) {
    throw new DomainError(
      ProblemCode.ReleaseBySameUser,
      `you recorded lot ${lot.code}: another person must ${decision} it`,
    );
  }
  if (decision === 'release' && lot.vialCount === 0) {
    throw new DomainError(ProblemCode.LotHasNoVials, `lot ${lot.code} has no commissioned vials to release`);
  }
}
