import type { EventEnvelope } from '../../kernel/events/envelope.ts';
import type { Db } from '../../kernel/db/database.ts';
import { outsideTransaction, type EventHandler, type ModuleContext } from '../../kernel/module.ts';
import { IdentityEvents, type SellerStatusChanged } from '../identity/contract.ts';
import { InventoryEvents } from '../inventory/contract.ts';
import { republish } from './products.ts';
import { bumpCatalogGeneration } from './read-cache.ts';
import { setSellerActive } from './store.ts';

/**
 * A suspended seller's products leave the storefront, and come back on reinstatement. Each product's
 * new snapshot is re-sent so search and other read models drop or re-add it too.
 */
async function sellerStatusChanged(event: EventEnvelope<SellerStatusChanged>, tx: Db, ctx: ModuleContext, active: boolean) {
  const changed = await setSellerActive(tx, event.data.sellerId, active);
  await republish(tx, changed);
  // Before this transaction commits (handlers have no after-commit hook): a read in that gap may be
  // kept, stale, for the read cache's one-second lifetime.
  await bumpCached(ctx, { variantsChanged: true });
}

/**
 * A cache that cannot be reached holds nothing to orphan, and cached bodies lapse within a second
 * anyway: a failed bump is logged, never a reason to fail (and retry, and dead-letter) the event.
 */
async function bumpCached(ctx: ModuleContext, options: { variantsChanged?: boolean } = {}) {
  await bumpCatalogGeneration(ctx.cache, options).catch((error) =>
    ctx.logger.warn({ err: error }, 'shared cache unavailable; cached catalog reads lapse by themselves'),
  );
}

export const catalogHandlers: Record<string, EventHandler> = {
  [IdentityEvents.SellerSuspended]: (event, tx, ctx) => sellerStatusChanged(event, tx, ctx, false),
  [IdentityEvents.SellerReinstated]: (event, tx, ctx) => sellerStatusChanged(event, tx, ctx, true),
  // Stock is committed before its event is relayed, so pages cached from here on show the new figure.
  // Reservations and releases change `available` too and are announced by the same event.
  [InventoryEvents.StockChanged]: outsideTransaction((_event, ctx) => bumpCached(ctx)),
};
