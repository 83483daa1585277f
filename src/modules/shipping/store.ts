import { sql } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { Db } from '../../kernel/db/database.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import { perApp } from '../../kernel/per-app.ts';
import type { ShippingRate } from './contract.ts';

export interface StoredRate {
  sellerId: string;
  rate: ShippingRate;
  updatedAt: Date;
}

function toRate(row: Record<string, any>): StoredRate {
  const rate: ShippingRate =
    row.kind === 'flat'
      ? { kind: 'flat', amount: row.amount, currency: row.currency }
      : { kind: 'weight', baseAmount: row.base_amount, perKgAmount: row.per_kg_amount, currency: row.currency };
  return { sellerId: row.seller_id, rate, updatedAt: row.updated_at };
}

/**
 * Sellers' rates as last read, for a second: checkout prices every order with them and they change
 * rarely. A rate set through this app is dropped at once (`forgetRate`); another instance's change
 * is seen within the second.
 */
export const recentRates = perApp(() => new LRUCache<string, { stored: StoredRate | null }>({ max: 10_000, ttl: 1000 }));

export async function findRatesCached(ctx: ModuleContext, sellerIds: string[]): Promise<Map<string, StoredRate>> {
  const cache = recentRates(ctx);
  const missing = sellerIds.filter((id) => !cache.has(id));
  if (missing.length > 0) {
    const found = await findRates(ctx.db, missing);
    for (const id of missing) cache.set(id, { stored: found.get(id) ?? null });
  }
  const rates = new Map<string, StoredRate>();
  for (const id of sellerIds) {
    const stored = cache.get(id)?.stored;
    if (stored) rates.set(id, stored);
  }
  return rates;
}

export async function findRates(db: Db, sellerIds: string[]): Promise<Map<string, StoredRate>> {
  if (sellerIds.length === 0) return new Map();
  const { rows } = await sql<Record<string, any>>`
    select * from shipping.rates where seller_id = any(${sql`${sellerIds}::text[]`})`.execute(db);
  return new Map(rows.map((r) => [r.seller_id, toRate(r)]));
}

export async function upsertRate(tx: Db, sellerId: string, rate: ShippingRate, actorId: string): Promise<StoredRate> {
  const flat = rate.kind === 'flat' ? rate.amount : null;
  const base = rate.kind === 'weight' ? rate.baseAmount : null;
  const perKg = rate.kind === 'weight' ? rate.perKgAmount : null;
  const { rows } = await sql<Record<string, any>>`
    insert into shipping.rates (seller_id, kind, amount, base_amount, per_kg_amount, currency, updated_by)
    values (${sellerId}, ${rate.kind}, ${flat}, ${base}, ${perKg}, ${rate.currency}, ${actorId})
    on conflict (seller_id) do update set
      kind = excluded.kind, amount = excluded.amount, base_amount = excluded.base_amount,
      per_kg_amount = excluded.per_kg_amount, currency = excluded.currency,
      updated_at = now(), updated_by = excluded.updated_by
    returning *`.execute(tx);
  return toRate(rows[0]!);
}
