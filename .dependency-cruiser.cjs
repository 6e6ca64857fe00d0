// No import cycle in src/, type-only imports included (ESLint's import-x/no-cycle skips those).
// The layer rule itself lives in eslint.config.js.
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'src/ has no import cycle, not even through type-only imports (README "Architecture")',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
