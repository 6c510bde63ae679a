// The import rules of ARCHITECTURE.md ("What may import what") are enforced here, per package.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const services = ['@deis/controller', '@deis/builder', '@deis/router', '@deis/platform', '@deis/cli'];

/** Forbids importing the given workspace packages, and reaching into any package's files by path. */
function onlyImports(forbidden) {
  return {
    'no-restricted-imports': ['error', {
      patterns: [
        ...forbidden.map((name) => ({ group: [name, `${name}/*`], message: 'ARCHITECTURE.md: this package may not import that one.' })),
        { group: ['**/packages/*/src/**', '../../*/src/**'], message: 'Import a workspace package by its name, not by a path into it.' },
      ],
    }],
  };
}

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.data/**', 'test/e2e/apps/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Named exports only.' }],
    },
  },
  // Tools load these files by their default export.
  { files: ['eslint.config.js', 'vitest.config.ts'], rules: { 'no-restricted-syntax': 'off' } },
  { files: ['packages/core/src/**'], rules: {
    ...onlyImports(['@deis/sdk', '@deis/scheduler', ...services]),
  } },
  { files: ['packages/core/src/**'], ignores: ['**/*.test.ts'], rules: {
    'no-restricted-imports': ['error', { patterns: [
      { group: ['@deis/*'], message: 'core imports nothing of the workspace.' },
      { group: ['node:fs', 'node:net', 'node:child_process', 'node:http', 'node:https', 'fs', 'net', 'child_process'], message: 'core is pure: no I/O.' },
    ] }],
  } },
  { files: ['packages/sdk/src/**'], rules: onlyImports(['@deis/core', '@deis/scheduler', ...services]) },
  { files: ['packages/scheduler/src/**'], rules: onlyImports(['@deis/core', '@deis/sdk', ...services]) },
  { files: ['packages/controller/src/**'], rules: onlyImports(['@deis/builder', '@deis/router', '@deis/platform', '@deis/cli']) },
  { files: ['packages/builder/src/**'], rules: onlyImports(['@deis/core', '@deis/scheduler', '@deis/controller', '@deis/router', '@deis/platform', '@deis/cli']) },
  { files: ['packages/router/src/**'], rules: onlyImports(['@deis/core', '@deis/scheduler', '@deis/controller', '@deis/builder', '@deis/platform', '@deis/cli']) },
  { files: ['packages/cli/src/**'], rules: onlyImports(['@deis/core', '@deis/scheduler', ...services.filter((s) => s !== '@deis/cli')]) },
  { files: ['packages/platform/src/**'], rules: onlyImports(['@deis/core', '@deis/cli']) },
);
