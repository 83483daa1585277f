import { sql } from 'kysely';
import type { Db } from '../../kernel/db/database.ts';
import { badRequest, conflict, notFound } from '../../kernel/http/problem.ts';
import { newId } from '../../kernel/ids.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import { CatalogEvents, type CategoryChanged, type CategorySnapshot } from './contract.ts';
import type { Actor } from './products.ts';
import { buildTree, freeSlug, moveCreatesCycle, slugify, type CategoryNode } from './service.ts';
import * as store from './store.ts';

/** The category tree: admins shape it, everyone browses it, products hang off its nodes. */
export interface CategoryService {
  tree(): Promise<CategoryNode[]>;
  create(actor: Actor, input: { name: string; parentId?: string | null }): Promise<CategorySnapshot>;
  update(actor: Actor, id: string, input: { name?: string; parentId?: string | null }): Promise<CategorySnapshot>;
  remove(actor: Actor, id: string): Promise<void>;
}

const snapshotOf = (c: store.CategoryRow): CategorySnapshot => ({ id: c.id, name: c.name, slug: c.slug, parentId: c.parentId, path: c.path });

export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string })?.code === '23505';
}

export function createCategoryService(ctx: ModuleContext, republishProducts: (tx: Db, productIds: string[]) => Promise<void>): CategoryService {
  /** Two admins naming categories alike at once both pick the same free slug; the loser simply tries again. */
  async function withSlugRetry<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (!isUniqueViolation(error) || attempt >= 5) throw error;
      }
    }
  }

  async function slugFor(tx: Db, name: string, exceptId?: string) {
    const base = slugify(name);
    return freeSlug(base, await store.slugsLike(tx, base, exceptId));
  }

  async function parentPath(tx: Db, parentId: string | null | undefined): Promise<string[]> {
    if (!parentId) return [];
    const parent = await store.findCategory(tx, parentId);
    if (!parent) throw badRequest('The parent category does not exist', [{ path: '/parentId', message: 'is not a category' }]);
    return parent.path;
  }

  return {
    async tree() {
      return buildTree(await store.listCategories(ctx.db));
    },

    create(actor, input) {
      return withSlugRetry(() =>
        ctx.transaction(async (tx) => {
          const id = newId();
          const path = [...(await parentPath(tx, input.parentId)), id];
          const category: store.CategoryRow = { id, name: input.name, slug: await slugFor(tx, input.name), parentId: input.parentId ?? null, path };
          await store.insertCategory(tx, category);
          const data: CategoryChanged = { category: snapshotOf(category) };
          await ctx.publish(tx, { type: CatalogEvents.CategoryCreated, aggregateId: id, data });
          await ctx.audit(tx, { ...actor.audit, action: 'catalog.category.create', targetType: 'category', targetId: id, details: { name: input.name, parentId: category.parentId } });
          return snapshotOf(category);
        }, actor.work),
      );
    },

    update(actor, id, input) {
      return withSlugRetry(() =>
        ctx.transaction(async (tx) => {
          const moving = input.parentId !== undefined;
          // Moves are serialised: two crossing moves checked at once could each pass and form a loop.
          if (moving) await sql`select pg_advisory_xact_lock(hashtext('catalog.category-tree'))`.execute(tx);
          const current = await store.findCategory(tx, id, true);
          if (!current) throw notFound('Category');
          const name = input.name ?? current.name;
          const slug = input.name !== undefined && input.name !== current.name ? await slugFor(tx, name, id) : current.slug;
          const parentId = moving ? (input.parentId ?? null) : current.parentId;
          let changed: store.CategoryRow[] = [];
          if (moving && parentId !== current.parentId) {
            const newParentPath = await parentPath(tx, parentId);
            if (parentId === id || moveCreatesCycle(id, newParentPath)) {
              throw conflict('category-cycle', 'A category cannot move under itself or one of its descendants');
            }
            changed = await store.moveSubtree(tx, id, newParentPath);
          }
          await store.updateCategory(tx, id, { name, slug, parentId });
          const updated = (await store.findCategory(tx, id))!;
          const announce = [updated, ...changed.filter((c) => c.id !== id)];
          for (const category of announce) {
            const data: CategoryChanged = { category: snapshotOf(category) };
            await ctx.publish(tx, { type: CatalogEvents.CategoryUpdated, aggregateId: category.id, data });
          }
          // Products below a moved category have a new category path, which read models filter on.
          if (changed.length > 0) await republishProducts(tx, await store.productIdsInCategories(tx, changed.map((c) => c.id)));
          await ctx.audit(tx, {
            ...actor.audit,
            action: 'catalog.category.update',
            targetType: 'category',
            targetId: id,
            details: { before: { name: current.name, parentId: current.parentId }, after: { name, parentId } },
          });
          return snapshotOf(updated);
        }, actor.work),
      );
    },

    async remove(actor, id) {
      await ctx.transaction(async (tx) => {
        const current = await store.findCategory(tx, id, true);
        if (!current) throw notFound('Category');
        const usage = await store.categoryUsage(tx, id);
        if (usage.children > 0 || usage.products > 0) {
          throw conflict('category-not-empty', 'Only an empty category can be deleted: move or delete its subcategories and products first', usage);
        }
        await store.deleteCategory(tx, id);
        await ctx.publish(tx, { type: CatalogEvents.CategoryDeleted, aggregateId: id, data: { categoryId: id } });
        await ctx.audit(tx, { ...actor.audit, action: 'catalog.category.delete', targetType: 'category', targetId: id, details: { name: current.name } });
      }, actor.work);
    },
  };
}
