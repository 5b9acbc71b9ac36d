export * from './lot-kinds.js';
export * from './transformation-rules.js';
export * from './release-rules.js';
