import { JobName } from '@lyotrace/contracts';
import { IsUUID } from 'class-validator';
import { assertOneHandlerPerJob, checkedPayload } from './job-handler.registry.js';

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

class EmptyPayload {}
class OnePayload {
  @IsUUID()
  id!: string;
}

describe('checkedPayload (job data validated like an HTTP body)', () => {
  it('accepts an empty payload for a job without fields, and refuses any field there', () => {
    expect(checkedPayload(EmptyPayload, {})).toBeInstanceOf(EmptyPayload);
    expect(checkedPayload(EmptyPayload, { surprise: 1 })).toMatch(/surprise/);
  });
  it('checks declared fields and refuses undeclared ones', () => {
    expect(checkedPayload(OnePayload, { id: '5b1e0c1e-0000-4000-8000-00000000d05e' })).toBeInstanceOf(
      OnePayload,
    );
    expect(checkedPayload(OnePayload, { id: 'nope' })).toMatch(/^id:/);
    expect(checkedPayload(OnePayload, { id: '5b1e0c1e-0000-4000-8000-00000000d05e', x: 1 })).toMatch(/x/);
  });
});
