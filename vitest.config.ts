import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The architecture test's fixture trees hold files named like tests; they are inputs, not tests.
    exclude: [...configDefaults.exclude, 'test/architecture/fixtures/**'],
    // Each file boots its own app on its own database; two cores, so two files at a time.
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['test/support/global-setup.ts'],
  },
});
