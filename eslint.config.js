// Lint: the layer rule of README "Architecture", 120 columns, and the recommended rules of ESLint and
// typescript-eslint. Layout is Prettier's (`npm run format`); import cycles are dependency-cruiser's
// (.dependency-cruiser.cjs), because import-x/no-cycle does not follow type-only imports.
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import { defineConfig } from 'eslint/config';
import commentLength from 'eslint-plugin-comment-length';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The layers of src/, lowest first. A file may import from its own entry and the entries before it, never from one
// after it. An entry whose folder does not exist matches nothing.
export const LAYERS = [
  ['src/errors.ts', 'src/config'],
  ['src/identity'],
  ['src/http'],
  ['src/authz'],
  ['src/ops'],
  ['src/posture'],
  ['src/state'],
  ['src/gate'],
  ['src/record'],
  ['src/judgement'],
  ['src/upstream'],
  // Legacy: what is left of the two folders issue 18 splits into the layers around this entry. Delete the entry
  // once both folders are gone.
  ['src/server', 'src/tls'],
  ['src/listener'],
  ['src/lifecycle'],
  ['src/devcerts'],
  ['src/dev'],
  ['src/cli'],
  ['src/main.ts'],
];

const layerZones = LAYERS.slice(0, -1).map((layer, i) => ({
  target: layer,
  from: LAYERS.slice(i + 1).flat(),
  message: `${layer.join(' and ')} may import only from itself and the layers below it (README "Architecture")`,
}));

const COMMENT_LENGTH = { maxLength: 120, ignoreUrls: true, logicalWrap: false };

export default defineConfig(
  { ignores: ['dist/', 'coverage/', '.tap/', 'bench/results/', 'test/fixtures/lint/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    plugins: { '@stylistic': stylistic, 'comment-length': commentLength },
    rules: {
      // Prettier breaks code at 120 columns but not a string; comments are wrapped by comment-length (`eslint --fix`,
      // part of `npm run format`).
      '@stylistic/max-len': [
        'error',
        {
          code: 120,
          ignoreComments: true,
          ignoreUrls: true,
          ignoreStrings: true,
          ignoreTemplateLiterals: true,
          ignoreRegExpLiterals: true,
        },
      ],
      'comment-length/limit-single-line-comments': ['error', COMMENT_LENGTH],
      'comment-length/limit-multi-line-comments': ['error', COMMENT_LENGTH],
      // Rejecting control characters in headers, names and log fields is the point of those regular expressions.
      'no-control-regex': 'off',
      // Errors thrown from a catch carry a message written for the operator; the caught error adds nothing to it.
      'preserve-caught-error': 'off',
    },
  },
  {
    files: ['test/**', 'bench/**'],
    rules: {
      // Reported, not blocking: tests destructure whole harnesses and keep scratch variables.
      '@typescript-eslint/no-unused-vars': 'warn',
      'no-useless-assignment': 'warn',
      'prefer-const': 'warn',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
    },
  },
);
