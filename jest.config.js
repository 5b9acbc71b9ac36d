// Native ESM (NestJS 12 ships ESM only): run through `node --experimental-vm-modules` (see scripts/test.sh).
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  moduleNameMapper: {
    '^@lyotrace/(contracts|domain|persistence|config|services)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // Jest on Node 20 cannot require() an ES module, which Node 20 itself can. @fastify/static (CommonJS)
    // requires content-disposition 2 (ESM only); give it the API-identical CommonJS 0.5 under tests only.
    '^content-disposition$': 'content-disposition-cjs',
  },
  rootDir: '.',
};

/** @type {import('jest').Config} */
export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/libs/**/*.spec.ts',
        '<rootDir>/apps/**/*.spec.ts',
        '<rootDir>/firmware-bridge/**/*.spec.ts',
      ],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'],
      slowTestThreshold: 20,
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      slowTestThreshold: 60,
    },
  ],
};
