import { afterCommit } from '../../kernel/db/after-commit.ts';
import type { Db } from '../../kernel/db/database.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import { perApp } from '../../kernel/per-app.ts';
import type { SearchIndex } from './search-index.ts';

/**
 * Moves the index generation on once a write has committed, so no reader can cache, under a
 * generation taken after the change, an answer computed before it. Bumps requested while one is
 * running collapse into one more: under a stream of stock changes that is a statement every round
 * trip, not one per change.
 */
const bumper = perApp((ctx: ModuleContext) => {
  let running: Promise<void> | undefined;
  let again = false;
  let index: SearchIndex | undefined;

  async function run(): Promise<void> {
    do {
      again = false;
      try {
        await index!.touch(ctx.db);
      } catch (error) {
        // The bump inside the writing transaction already moved the generation; this one only closes
        // the moment before that commit, and the result cache's TTL bounds what it could leave stale.
        ctx.logger.warn({ err: error }, 'search: the generation could not be moved after a commit');
      }
    } while (again);
    running = undefined;
  }

  return (searchIndex: SearchIndex) => {
    index = searchIndex;
    if (running) {
      again = true;
      return;
    }
    running = run();
  };
});

/** Call with a write's outcome: when it changed what shoppers see, the generation moves after commit. */
export function touchAfterCommit(ctx: ModuleContext, tx: Db, index: SearchIndex, changed: boolean): void {
  if (changed) afterCommit(tx, () => bumper(ctx)(index));
}
