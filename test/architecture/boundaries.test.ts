import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findImportViolations } from './import-boundaries.ts';
import { findForeignSchemaSql } from './sql-boundaries.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}/`, import.meta.url));

describe('module boundaries: the checks themselves', () => {
  it('catch a module importing past another module\'s contract, and the kernel importing a module', async () => {
    const violations = await findImportViolations(fixture('violating'));
    expect(violations).toEqual(
      expect.arrayContaining([
        { rule: 'module-internals', from: 'src/modules/alpha/index.ts', to: 'src/modules/beta/store.ts' },
        { rule: 'module-internals-from-tests', from: 'src/modules/alpha/alpha.test.ts', to: 'src/modules/beta/store.ts' },
        { rule: 'kernel-to-modules', from: 'src/kernel/registry.ts', to: 'src/modules/beta/contract.ts' },
      ]),
    );
    expect(violations).toHaveLength(3);
  });

  it("catch SQL naming another module's schema or the kernel's, in templates, builder calls and plain strings", () => {
    const found = findForeignSchemaSql(fixture('violating')).map(({ file, line, schema }) => ({ file, line, schema }));
    expect(found).toEqual([
      { file: 'src/modules/alpha/raw.ts', line: 2, schema: 'beta' },
      { file: 'src/modules/alpha/report.ts', line: 6, schema: 'beta' },
      { file: 'src/modules/alpha/report.ts', line: 7, schema: 'kernel' },
      { file: 'src/modules/alpha/report.ts', line: 8, schema: 'beta' },
    ]);
  });

  it("pass a tree that keeps to contracts and its own schema, with event names in strings and a test booting another module's definition", async () => {
    expect(await findImportViolations(fixture('clean'))).toEqual([]);
    expect(findForeignSchemaSql(fixture('clean'))).toEqual([]);
  });
});

describe('module boundaries of Bazaar itself', () => {
  it('hold for every import under src/', async () => {
    expect(await findImportViolations(repo)).toEqual([]);
  });

  it("hold for every module's SQL", () => {
    expect(findForeignSchemaSql(repo)).toEqual([]);
  });
});
