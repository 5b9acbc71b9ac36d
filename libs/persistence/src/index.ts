export * from './entities/index.js';
export * from './repositories/index.js';
export * from './audit-log.js';
export * from './transaction-runner.js';
export * from './data-source.js';
export * from './transaction-batching-client.js';
export * from './persistence.module.js';
export { MIGRATIONS } from './migrations/index.js';
