/**
 * Starts the text of a statement that must be planned for its own parameters on every run, never kept
 * as a prepared statement with a generic plan (see `CUSTOM_PLAN` in database.ts). Both engines' drivers
 * read it, so it lives apart from either.
 */
export const CUSTOM_PLAN_MARK = '/* custom-plan */';

/**
 * Starts the text of a transaction's last statement, after which it commits and runs nothing else: on
 * PostgreSQL the commit goes out with the statement and is answered with it (see `PipelinedQuery` in
 * database.ts). Whatever must fail the transaction must fail the statement itself, in SQL: once it has
 * succeeded, the transaction has committed. (PGlite, in this process, runs it as any statement.)
 */
export const THEN_COMMIT_MARK = '/* then-commit */';
