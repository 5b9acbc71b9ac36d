export * from './roles.js';
export * from './queues.js';
export * from './problems.js';
export * from './signatures.js';
export * from './audit.js';
export * from './genealogy.js';
export * from './ingest.js';
export * from './custody.js';
