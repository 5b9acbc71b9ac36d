// @ts-check
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * One-way dependencies (ARCHITECTURE.md §6): contracts ← domain ← persistence ← services ← apps, config
 * beside them; the bridge uses contracts, domain and config only. A lib is imported only through its public
 * entry (src/index.ts). Enforced here so a wrong import fails `npm run check`.
 */
const LIBS = ['contracts', 'domain', 'config', 'persistence', 'services'];
const ALLOWED = {
  'libs/contracts': [],
  'libs/domain': ['contracts'],
  'libs/config': [],
  'libs/persistence': ['contracts', 'domain'],
  'libs/services': ['contracts', 'domain', 'config', 'persistence'],
  'apps/api': LIBS,
  'apps/worker': LIBS,
  'apps/cli': LIBS,
  'firmware-bridge': ['contracts', 'domain', 'config'],
};
const APPS = ['apps/api', 'apps/worker', 'apps/cli', 'firmware-bridge'];
const zones = Object.entries(ALLOWED).flatMap(([target, allowed]) => [
  ...LIBS.filter((lib) => `libs/${lib}` !== target).map((lib) =>
    allowed.includes(lib)
      ? {
          target: `./${target}`,
          from: `./libs/${lib}`,
          except: ['./src/index.ts'],
          message: `import @lyotrace/${lib} through its public entry only`,
        }
      : {
          target: `./${target}`,
          from: `./libs/${lib}`,
          message: `${target} may not depend on libs/${lib} (ARCHITECTURE.md §6)`,
        },
  ),
  ...APPS.filter((app) => app !== target).map((app) => ({
    target: `./${target}`,
    from: `./${app}`,
    message: 'apps do not import each other',
  })),
]);

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', '.data/**', 'coverage/**', 'jest.config.js', 'eslint.config.js'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-extraneous-class': 'off',
      'import-x/no-cycle': 'error',
      'import-x/no-self-import': 'error',
      'import-x/no-restricted-paths': ['error', { zones }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@lyotrace/*/*'], message: 'import a lib through its public entry: @lyotrace/<name>' },
          ],
        },
      ],
      // STYLE.md habit 7: configuration is read once, by libs/config.
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'read configuration through @lyotrace/config' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.name='forwardRef']",
          message: 'no forwardRef: fix the dependency direction',
        },
      ],
    },
  },
  { files: ['libs/config/src/**/*.ts'], rules: { 'no-restricted-properties': 'off' } },
  // The device simulator is the bridge's independent other side: neither imports the other, so one misreading of
  // a protocol cannot hide on both sides (STYLE.md, "Avoid"). Repeats the lib-entry pattern (a rule is replaced,
  // not merged, per file block).
  ...[
    [
      'firmware-bridge/simulator/**/*.ts',
      '(^|/)src(/|$)',
      'the simulator may not import the bridge (firmware-bridge/src)',
    ],
    ['firmware-bridge/src/**/*.ts', '(^|/)simulator(/|$)', 'the bridge may not import the device simulator'],
  ].map(([files, regex, message]) => ({
    files: [files],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@lyotrace/*/*'], message: 'import a lib through its public entry: @lyotrace/<name>' },
            { regex, message },
          ],
        },
      ],
    },
  })),
  {
    // Nest resolves constructor parameters from decorator metadata, which needs value imports there.
    files: ['**/*.ts'],
    rules: { '@typescript-eslint/consistent-type-imports': 'off' },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    // expect.any()/expect.objectContaining() are typed `any` by jest.
    rules: { '@typescript-eslint/unbound-method': 'off', '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
);
