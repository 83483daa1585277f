import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export interface SqlViolation {
  /** Relative to the root that was scanned. */
  file: string;
  line: number;
  /** The schema the module has no business naming. */
  schema: string;
  excerpt: string;
}

/** Kysely methods whose string arguments are table references. */
const TABLE_METHODS = new Set([
  'selectFrom', 'insertInto', 'updateTable', 'deleteFrom', 'replaceInto', 'mergeInto', 'using', 'withSchema',
  'innerJoin', 'leftJoin', 'rightJoin', 'fullJoin', 'crossJoin', 'innerJoinLateral', 'leftJoinLateral', 'crossJoinLateral',
]);
/** `sql.table('x.t')`, `sql.id('x', 't')`, `sql.ref('x.t.c')`, `sql.raw('...')` (not `sql.lit`: that is a value). */
const SQL_HELPERS = new Set(['table', 'id', 'ref', 'raw']);
const SQL_WORDS = /\b(select|insert|update|delete|from|join|into|table|truncate|alter|references)\b/i;

/**
 * Finds SQL in a module's sources that names a schema the module does not own: another module's,
 * or the kernel's (whose tables modules reach only through kernel APIs: publish, audit, ...).
 *
 * Only text that is SQL counts — `sql` templates, Kysely table arguments, `sql.*` helpers, and string
 * literals that read as SQL — so event names such as 'catalog.product.created' are not mistaken for
 * tables. Quoted values inside SQL are ignored for the same reason. Test files may read kernel tables
 * (to assert an event was written or an audit entry recorded), never another module's.
 */
export function findForeignSchemaSql(root: string): SqlViolation[] {
  const modulesDir = join(root, 'src', 'modules');
  const modules = readdirSync(modulesDir).filter((name) => statSync(join(modulesDir, name)).isDirectory());
  const violations: SqlViolation[] = [];
  for (const owner of modules) {
    for (const path of sourceFiles(join(modulesDir, owner))) {
      const isTest = /\.test\.ts$/.test(path);
      const foreign = [...modules.filter((m) => m !== owner), ...(isTest ? [] : ['kernel'])];
      if (foreign.length === 0) continue;
      violations.push(...scanFile(root, path, foreign));
    }
  }
  return violations;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function scanFile(root: string, path: string, foreign: string[]): SqlViolation[] {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const schemaName = new RegExp(`(?<![\\w.])"?(${foreign.join('|')})"?\\s*\\.\\s*"?[a-z_][a-z0-9_]*`, 'i');
  const found: SqlViolation[] = [];

  const seen = new Set<string>();
  const report = (node: ts.Node, schema: string) => {
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
    // A table argument is also a string literal: report it once.
    if (seen.has(`${line}:${node.pos}`)) return;
    seen.add(`${line}:${node.pos}`);
    found.push({ file: relative(root, path), line: line + 1, schema: schema.toLowerCase(), excerpt: node.getText(source).slice(0, 120) });
  };
  const checkSql = (node: ts.Node, text: string) => {
    const match = schemaName.exec(withoutQuotedValues(text));
    if (match) report(node, match[1]!);
  };
  const checkSchemaArgument = (node: ts.Node, text: string) => {
    const schema = foreign.find((f) => f === text.toLowerCase());
    if (schema) report(node, schema);
    else checkSql(node, text);
  };

  const visit = (node: ts.Node, inSql: boolean) => {
    if (ts.isTaggedTemplateExpression(node) && isSqlTag(node.tag)) {
      visit(node.template, true);
      return;
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = node.expression.name.text;
      const onSql = ts.isIdentifier(node.expression.expression) && node.expression.expression.text === 'sql';
      if (TABLE_METHODS.has(method) || (onSql && SQL_HELPERS.has(method))) {
        const first = node.arguments[0];
        if (first && ts.isStringLiteralLike(first)) checkSchemaArgument(first, first.text);
      }
    }
    if (ts.isStringLiteralLike(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      if (inSql || SQL_WORDS.test(node.text)) checkSql(node, node.text);
    }
    ts.forEachChild(node, (child) => visit(child, inSql));
  };
  visit(source, false);
  return found;
}

/** `sql` and `sql<Row>` tags (the type argument sits on the tagged template, not the tag). */
function isSqlTag(tag: ts.Expression): boolean {
  return ts.isIdentifier(tag) && tag.text === 'sql';
}

/** 'catalog.product.created' inside SQL is a value, not a table. */
function withoutQuotedValues(sqlText: string): string {
  return sqlText.replace(/'(?:[^']|'')*'/g, "''");
}
