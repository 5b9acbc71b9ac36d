export * from './identifiers.js';
export * from './vocabulary.js';
export * from './time-zone.js';
export * from './event-id.js';
export * from './events.js';
export * from './genealogy-events.js';
export * from './custody-events.js';
export * from './dose-events.js';
