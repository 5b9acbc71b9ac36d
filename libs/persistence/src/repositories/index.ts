export * from './site.repository.js';
export * from './user.repository.js';
export * from './bridge-credential.repository.js';
export * from './audit.repository.js';
export * from './signature.repository.js';
export * from './audit-verification.repository.js';
export * from './genealogy.repository.js';
export * from './trace.repository.js';
