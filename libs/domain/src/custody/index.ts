export * from './vial-gate.js';
