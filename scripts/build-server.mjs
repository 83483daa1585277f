#!/usr/bin/env node
// Bundles the TypeScript server into dist/bazaar.mjs (dependencies stay external). Starting from
// one prebuilt file instead of transpiling on the fly keeps start-up well under a second of our own.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/bazaar.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
