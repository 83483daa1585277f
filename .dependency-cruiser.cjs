/**
 * Bazaar's module boundaries, enforced by `npm run lint:arch` and by test/architecture/boundaries.test.ts
 * (which runs these same rules through dependency-cruiser's API, together with a check for SQL that
 * names another module's schema). See docs/kernel.md.
 *
 * Paths are relative to the directory cruised from, so the same rules judge the real tree and the
 * architecture test's fixtures.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'module-internals',
      comment:
        "A module may use another module only through that module's contract.ts (events, payload types, ports). " +
        "Everything else in a module's folder is private to it: its tables, SQL, services and routes.",
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/', pathNot: '\\.test\\.ts$' },
      to: {
        path: '^src/modules/[^/]+/',
        pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/contract\\.ts$'],
      },
    },
    {
      name: 'module-internals-from-tests',
      comment:
        "A module's tests compose an app like app.ts does, so they may also import another module's definition " +
        '(index.ts) to boot it; its internals stay off limits.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/.+\\.test\\.ts$' },
      to: {
        path: '^src/modules/[^/]+/',
        pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/(contract|index)\\.ts$'],
      },
    },
    {
      name: 'kernel-to-modules',
      comment: 'The kernel is the platform modules plug into; it knows no module, or it could not run any subset of them.',
      severity: 'error',
      from: { path: '^src/kernel/' },
      to: { path: '^src/modules/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import the cruiser cannot resolve is one whose boundary it cannot judge.',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: `import type` from another module's store is still a reach inside it.
    tsPreCompilationDeps: true,
    // Resolve packages the way Node's ESM loader does (several we use are ESM-only with `exports` maps).
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
