export * from './domain-error.js';
export * from './clock.js';
export * from './canonical-json.js';
export * from './audit-chain.js';
export * from './password-policy.js';
export * from './lockout-policy.js';
export * from './signature-rules.js';
export * from './access-rules.js';
