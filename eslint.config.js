// Lint rules that catch what the compiler does not: promises nobody awaits, reaching into
// another package's sources, and imports that should be type-only.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'test/control-plane/cmd/**'] },
  {
    files: [
      'packages/*/src/**/*.ts',
      'packages/portal/src/**/*.tsx',
      'test/**/*.ts',
      'bench/**/*.ts',
      'scripts/**/*.ts',
    ],
    extends: [tseslint.configs.base],
    languageOptions: {
      // The portal is checked as the browser code it is: DOM, JSX, its own configuration.
      parserOptions: {
        project: ['./tsconfig.tests.json', './packages/portal/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@longshore/*/src/*', '**/../*/src/*'], message: 'Import the package, not its sources' },
          ],
        },
      ],
    },
  },
);
