import { ExcursionEvaluatePayload, IngestOutboxSweepPayload } from './ingest.handlers.js';
import { checkedPayload } from './job-handler.registry.js';

/** The registry's own check, as every job payload meets it before a handler sees it: the fields refused. */
const problems = (cls: new () => object, data: unknown): string[] => {
  const checked = checkedPayload(cls, data);
  return typeof checked === 'string' ? checked.split(', ').map((e) => e.split(':')[0]!) : [];
};

describe('ingest job payloads (checked as strictly as an HTTP body)', () => {
  it('takes a scheduled sweep with no data, or with an age', () => {
    expect(problems(IngestOutboxSweepPayload, {})).toEqual([]);
    expect(problems(IngestOutboxSweepPayload, { olderThanMs: 0 })).toEqual([]);
    expect(problems(IngestOutboxSweepPayload, { olderThanMs: -1 })).toEqual(['olderThanMs']);
    expect(problems(IngestOutboxSweepPayload, { everything: true })).toEqual(['everything']);
  });

  it('takes an evaluation of an outbox row by its decimal id only', () => {
    expect(problems(ExcursionEvaluatePayload, { outboxId: '42' })).toEqual([]);
    expect(problems(ExcursionEvaluatePayload, { outboxId: 42 })).toEqual(['outboxId']);
    expect(problems(ExcursionEvaluatePayload, { outboxId: '0' })).toEqual(['outboxId']);
    expect(problems(ExcursionEvaluatePayload, {})).toEqual(['outboxId']);
  });
});
