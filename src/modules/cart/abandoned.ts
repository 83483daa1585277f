import { PRODUCT_CATALOG_PORT, type ProductCatalog } from '../catalog/contract.ts';
import type { JobDefinition, ModuleContext } from '../../kernel/module.ts';
import { CartEvents, type CartAbandoned } from './contract.ts';
import { priceLines, subtotalOf } from './service.ts';
import { deleteIdleEmptyGuestCarts, findIdleCarts, markAbandoned } from './store.ts';

const BATCH = 200;

/**
 * Marks carts with items and no change for CART_ABANDONED_AFTER_MINUTES as abandoned, emitting
 * cart.cart.abandoned once per idle spell (any change clears the mark), and drops guest carts that
 * stayed empty that long. Prices are read before the transaction; a cart touched meanwhile is skipped.
 */
export async function markAbandonedCarts(ctx: ModuleContext, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - ctx.config.CART_ABANDONED_AFTER_MINUTES * 60_000);
  const catalog = ctx.ports.get<ProductCatalog>(PRODUCT_CATALOG_PORT);
  let marked = 0;
  for (;;) {
    const idle = await findIdleCarts(ctx.db, cutoff, BATCH);
    if (idle.length === 0) break;
    const variants = await catalog.getVariants([...new Set(idle.flatMap((c) => c.items.map((i) => i.variantId)))]);
    const byId = new Map(variants.map((v) => [v.variantId, v]));
    await ctx.transaction(async (tx) => {
      for (const cart of idle) {
        if (!(await markAbandoned(tx, cart.id, cutoff))) continue;
        const lines = priceLines(cart.items, byId, new Map(), cart.currency);
        const data: CartAbandoned = {
          cartId: cart.id,
          userId: cart.userId,
          lines: lines.map((l) => ({ productId: l.productId, variantId: l.variantId, quantity: l.quantity, unitPrice: l.unitPrice })),
          subtotal: subtotalOf(lines, cart.currency),
          lastActivityAt: cart.updatedAt.toISOString(),
        };
        await ctx.publish(tx, { type: CartEvents.CartAbandoned, aggregateId: cart.id, data });
        marked += 1;
      }
    });
    if (idle.length < BATCH) break;
  }
  await deleteIdleEmptyGuestCarts(ctx.db, cutoff);
  return marked;
}

export const abandonedCartsJob: JobDefinition = {
  name: 'cart.mark-abandoned',
  intervalMs: 60_000,
  run: (ctx) => markAbandonedCarts(ctx).then(() => undefined),
};
