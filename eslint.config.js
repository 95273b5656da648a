// Lint: typescript-eslint's recommended rules, the layer rules of docs/architecture.md
// (imports go one way; no cycles), and eslint-config-prettier so formatting is
// prettier's job alone (`npm run format:check`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import prettier from 'eslint-config-prettier';

/**
 * Who may import whom. `shared/` is the bottom layer (both runtimes); the Durable Objects
 * build on it; the Worker entry points build on both; the Node programs in `scripts/`
 * use `shared/` only, never Worker or object code. Tests may import anything.
 */
const LAYERS = [
  {
    target: './shared',
    from: ['./workers', './durable-objects', './scripts', './test'],
    message: 'shared/ is the bottom layer: it imports nothing of the others.',
  },
  { target: './durable-objects', from: ['./workers', './scripts', './test'], message: 'durable-objects/ may import only shared/.' },
  { target: './workers', from: ['./scripts', './test'], message: 'workers/ may import durable-objects/ and shared/ only.' },
  {
    target: './scripts',
    from: ['./workers', './durable-objects', './test'],
    message: 'scripts/ (Node) may import shared/ only, never Worker or Durable Object code.',
  },
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.wrangler/',
      'dist/',
      '.ci/',
      '.kafka/',
      'lake/',
      '.bench/',
      'public/docs/vendor/',
      '.venv/',
      'shared/env/worker-configuration.d.ts',
      'shared/env/workers-runtime.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs', '.d.ts'] })],
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'import-x/no-restricted-paths': ['error', { zones: LAYERS }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  prettier,
);
