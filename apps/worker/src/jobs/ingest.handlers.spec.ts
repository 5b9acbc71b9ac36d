import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ExcursionEvaluatePayload, IngestOutboxSweepPayload } from './ingest.handlers.js';

/** The same check the registry applies to every job payload before a handler sees it. */
const problems = (cls: new () => object, data: unknown): string[] =>
  validateSync(plainToInstance(cls, data as object), { whitelist: true, forbidNonWhitelisted: true }).map(
    (e) => e.property,
  );

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
