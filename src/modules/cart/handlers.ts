import type { Db } from '../../kernel/db/database.ts';
import type { EventEnvelope } from '../../kernel/events/envelope.ts';
import { writeToOutbox } from '../../kernel/events/outbox.ts';
import type { EventHandler } from '../../kernel/module.ts';
import { IdentityEvents, type UserDeleted } from '../identity/contract.ts';
import { InventoryEvents, type StockChanged } from '../inventory/contract.ts';
import { CartEvents, type WishlistItemBackInStock } from './contract.ts';
import { cameBackInStock } from './service.ts';
import { forgetUser, lockSeenStock, recordSeenStock, wishersOf } from './store.ts';

/** Tells everyone wishing for a product that it can be bought again, once per return to stock. */
async function stockChanged(event: EventEnvelope<StockChanged>, tx: Db): Promise<void> {
  const { variantId, productId, available } = event.data;
  const seen = await lockSeenStock(tx, productId);
  await recordSeenStock(tx, { variantId, productId, available });
  if (!cameBackInStock(seen, variantId, available)) return;
  for (const userId of await wishersOf(tx, productId)) {
    const data: WishlistItemBackInStock = { userId, productId, variantId, available };
    // Handlers get only a transaction; writeToOutbox is what ctx.publish does.
    await writeToOutbox(tx, { type: CartEvents.WishlistItemBackInStock, aggregateId: productId, data });
  }
}

export const cartHandlers: Record<string, EventHandler> = {
  // Only crossings of zero matter here: a sale that leaves stock above zero is not heard of at all.
  [InventoryEvents.StockReplenished]: stockChanged,
  [InventoryEvents.StockDepleted]: stockChanged,
  [IdentityEvents.UserDeleted]: (event: EventEnvelope<UserDeleted>, tx) => forgetUser(tx, event.data.userId),
};
