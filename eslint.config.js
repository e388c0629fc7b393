// Lint rules. The import-direction rules enforce DESIGN.md "Imports go down only":
//   policy/ and content/ import nothing from the other top-level folders;
//   media/ may import policy/ and content/; nothing imports server/;
//   server/wire/ imports only Node built-ins; production code never imports test/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noImport = (groups, message) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: groups, message }] }],
});

const upTo = (dir) => [`../${dir}/*`, `../../${dir}/*`, `../../../${dir}/*`, `../../../../${dir}/*`, `../${dir}`, `../../${dir}`];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tap/**', 'coverage/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['policy/**/*.ts', 'content/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: noImport(
      [...upTo('server'), ...upTo('media'), ...upTo('test'), ...upTo('bench'), 'fastify', 'pino', 'better-sqlite3'],
      'DESIGN.md: policy/ and content/ import nothing from server/, media/, test/ or bench/, and policy/ does no I/O.',
    ),
  },
  {
    files: ['policy/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      ...noImport(
        [...upTo('server'), ...upTo('media'), ...upTo('test'), ...upTo('bench'), ...upTo('content'), 'node:fs', 'node:fs/*', 'node:net', 'node:dgram', 'node:http', 'fs', 'net', 'fastify', 'pino', 'better-sqlite3'],
        'DESIGN.md: policy/ is the pure domain: no I/O, no imports from other top-level folders.',
      ),
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'policy/ takes time as an argument (DESIGN.md).' }, { object: 'Math', property: 'random', message: 'policy/ takes randomness as an argument.' }],
    },
  },
  {
    files: ['media/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: noImport([...upTo('server'), ...upTo('test'), ...upTo('bench')], 'DESIGN.md: media/ may import policy/ and content/ only.'),
  },
  {
    files: ['server/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: noImport([...upTo('test'), ...upTo('bench')], 'DESIGN.md: production code never imports test/ or bench/.'),
  },
  {
    files: ['server/wire/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: noImport(['../*', 'fastify', 'pino', 'better-sqlite3'], 'DESIGN.md: server/wire/ codecs import only Node built-ins.'),
  },
  {
    files: ['server/wire/*/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: noImport(['../../*', '../../../*', 'fastify', 'pino', 'better-sqlite3'], 'DESIGN.md: server/wire/ codecs import only Node built-ins and each other.'),
  },
);
