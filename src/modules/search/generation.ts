import { afterCommit } from '../../kernel/db/after-commit.ts';
import type { Db } from '../../kernel/db/database.ts';
import { groupCommit } from '../../kernel/group-commit.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import { perApp } from '../../kernel/per-app.ts';
import type { SearchIndex } from './search-index.ts';

/**
 * Moves the index generation on once a write has committed, so no reader can cache, under a
 * generation taken after the change, an answer computed before it. Bumps requested while one runs
 * share the next (group commit): under a stream of stock changes that is a statement per round trip,
 * not one per change.
 */
const bumps = perApp((ctx: ModuleContext) =>
  groupCommit(async (indexes: SearchIndex[]) => {
    for (const index of new Set(indexes)) await index.touch(ctx.db);
    return indexes.map(() => undefined);
  }),
);

/** Call with a write's outcome: when it changed what shoppers see, the generation moves after commit. */
export function touchAfterCommit(ctx: ModuleContext, tx: Db, index: SearchIndex, changed: boolean): void {
  if (!changed) return;
  afterCommit(tx, () => {
    bumps(ctx)(index).catch((error) =>
      // The bump inside the writing transaction already moved the generation; this one only closes
      // the moment before that commit, and the result cache's TTL bounds what it could leave stale.
      ctx.logger.warn({ err: error }, 'search: the generation could not be moved after a commit'),
    );
  });
}
