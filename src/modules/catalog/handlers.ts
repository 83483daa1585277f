import type { EventEnvelope } from '../../kernel/events/envelope.ts';
import type { Db } from '../../kernel/db/database.ts';
import type { EventHandler } from '../../kernel/module.ts';
import { IdentityEvents, type SellerStatusChanged } from '../identity/contract.ts';
import { republish } from './products.ts';
import { setSellerActive } from './store.ts';

/**
 * A suspended seller's products leave the storefront, and come back on reinstatement. Each product's
 * new snapshot is re-sent so search and other read models drop or re-add it too.
 */
async function sellerStatusChanged(event: EventEnvelope<SellerStatusChanged>, tx: Db, active: boolean) {
  const changed = await setSellerActive(tx, event.data.sellerId, active);
  await republish(tx, changed);
}

export const catalogHandlers: Record<string, EventHandler> = {
  [IdentityEvents.SellerSuspended]: (event, tx) => sellerStatusChanged(event, tx, false),
  [IdentityEvents.SellerReinstated]: (event, tx) => sellerStatusChanged(event, tx, true),
};
