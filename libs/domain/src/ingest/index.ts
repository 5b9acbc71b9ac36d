export * from './ingest-batch.js';
export * from './sequence-gaps.js';
export * from './logger-events.js';
