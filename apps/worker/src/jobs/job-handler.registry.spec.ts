import { JobName } from '@lyotrace/contracts';
import { assertOneHandlerPerJob } from './job-handler.registry.js';

/** Handler class names found per job, as the registry collects them at boot. */
const wiring = (perJob: (job: JobName) => string[]): Map<string, string[]> =>
  new Map(Object.values(JobName).map((job) => [job, perJob(job)]));

const oneEach = (): Map<string, string[]> => wiring((job) => [`${job}-handler`]);

describe('assertOneHandlerPerJob (every job has exactly one handler)', () => {
  it('passes when every JobName has exactly one handler', () => {
    expect(() => assertOneHandlerPerJob(oneEach())).not.toThrow();
  });

  it('throws naming a job that has no handler', () => {
    const found = oneEach();
    found.delete(JobName.AuditChainVerify);

    expect(() => assertOneHandlerPerJob(found)).toThrow(
      'worker job wiring is wrong: job audit-chain-verify has no handler',
    );
  });

  it('treats an empty handler list like a missing one', () => {
    expect(() => assertOneHandlerPerJob(wiring(() => []))).toThrow('job audit-chain-verify has no handler');
  });

  it('throws naming both classes when two handle the same job', () => {
    const found = oneEach();
    found.set(JobName.AuditChainVerify, ['AuditChainVerifyHandler', 'LegacyVerifyHandler']);

    expect(() => assertOneHandlerPerJob(found)).toThrow(
      'worker job wiring is wrong: job audit-chain-verify has 2 handlers: AuditChainVerifyHandler, LegacyVerifyHandler',
    );
  });

  it('reports every job name of the contract, not just one', () => {
    let message = '';
    try {
      assertOneHandlerPerJob(new Map());
    } catch (error) {
      message = (error as Error).message;
    }

    for (const job of Object.values(JobName)) expect(message).toContain(`job ${job} has no handler`);
  });
});
