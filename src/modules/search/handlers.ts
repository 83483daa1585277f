import type { EventEnvelope } from '../../kernel/events/envelope.ts';
import { inBatches, type EventHandler } from '../../kernel/module.ts';
import { CatalogEvents, type CategoryChanged, type ProductChanged, type ProductDeleted } from '../catalog/contract.ts';
import { InventoryEvents, type StockChanged } from '../inventory/contract.ts';
import type { SearchIndex } from './search-index.ts';
import { touchAfterCommit } from './generation.ts';
import { documentFromSnapshot } from './service.ts';

/**
 * Keeps the read model in step with catalog and inventory. Product events carry the whole snapshot,
 * so each one simply replaces the document; a late, older snapshot is ignored by the index.
 */
export function searchHandlers(index: SearchIndex): Record<string, EventHandler> {
  const applyCategory: EventHandler = async (event: EventEnvelope<CategoryChanged>, tx, ctx) => {
    const { category } = event.data;
    const changed = await index.upsertCategory(tx, {
      id: category.id,
      name: category.name,
      slug: category.slug,
      parentId: category.parentId,
      path: category.path,
    });
    touchAfterCommit(ctx, tx, index, changed);
  };
  const applyProduct: EventHandler = async (event: EventEnvelope<ProductChanged>, tx, ctx) => {
    touchAfterCommit(ctx, tx, index, await index.upsert(tx, documentFromSnapshot(event.data.product)));
  };

  return {
    [CatalogEvents.CategoryCreated]: applyCategory,
    [CatalogEvents.CategoryUpdated]: applyCategory,
    [CatalogEvents.CategoryDeleted]: async (event: EventEnvelope<{ categoryId: string }>, tx, ctx) => {
      touchAfterCommit(ctx, tx, index, await index.removeCategory(tx, event.data.categoryId));
    },
    [CatalogEvents.ProductCreated]: applyProduct,
    [CatalogEvents.ProductUpdated]: applyProduct,
    [CatalogEvents.ProductDeleted]: async (event: EventEnvelope<ProductDeleted>, tx, ctx) => {
      touchAfterCommit(ctx, tx, index, await index.remove(tx, event.data.productId));
    },
    // The busiest event: a group of them costs two statements (the products' locks, the upsert).
    [InventoryEvents.StockChanged]: inBatches(async (events: EventEnvelope<StockChanged>[], tx, ctx) => {
      const stocks = events.map(({ data: { variantId, productId, available } }) => ({ variantId, productId, available }));
      touchAfterCommit(ctx, tx, index, await index.setVariantStocks(tx, stocks));
    }),
  };
}
