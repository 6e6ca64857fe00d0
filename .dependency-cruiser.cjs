// No import cycle in src/, type-only imports included (ESLint's import-x/no-cycle skips those).
// The layer rule itself lives in eslint.config.js.
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'src/ has no import cycle, not even through type-only imports (README "Architecture")',
      // Legacy, as in eslint.config.js: the folders issue 18 splits up. Delete this line once both are gone.
      from: { pathNot: '^src/(server|tls)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
