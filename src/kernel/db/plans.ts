/**
 * Starts the text of a statement that must be planned for its own parameters on every run, never kept
 * as a prepared statement with a generic plan (see `CUSTOM_PLAN` in database.ts). Both engines' drivers
 * read it, so it lives apart from either.
 */
export const CUSTOM_PLAN_MARK = '/* custom-plan */';
