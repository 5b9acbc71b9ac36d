export * from './vial-label.types.js';
export * from './vial-label.renderer.js';
