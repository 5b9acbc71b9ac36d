export * from './vial-gate.js';
export * from './custody-rules.js';
export * from './dose-rules.js';
