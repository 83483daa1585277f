import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';

const rules = createRequire(import.meta.url)('../../.dependency-cruiser.cjs') as IConfiguration;

export interface ImportViolation {
  rule: string;
  from: string;
  to: string;
}

/**
 * Runs the rules of .dependency-cruiser.cjs (the ones `npm run lint:arch` uses) over `<root>/src`,
 * with paths reported relative to `root`, so a fixture tree is judged exactly like the real one.
 */
export async function findImportViolations(root: string): Promise<ImportViolation[]> {
  const { output } = await cruise(['src'], {
    ...rules.options,
    baseDir: resolve(root),
    validate: true,
    ruleSet: { forbidden: rules.forbidden },
  });
  const result = output as ICruiseResult;
  return result.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}
