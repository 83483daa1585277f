import { sql } from 'kysely';
import type { Migrations } from '../../kernel/db/migrations.ts';

export const promotionsMigrations: Migrations = {
  '0001_coupons': {
    async up(db) {
      await sql`
        create table promotions.coupons (
          id uuid primary key,
          code text not null,
          code_key text not null unique,
          kind text not null check (kind in ('percentage', 'fixed', 'free_shipping')),
          value bigint not null check (value >= 0),
          currency text,
          min_subtotal bigint check (min_subtotal >= 0),
          starts_at timestamptz,
          ends_at timestamptz,
          usage_limit integer check (usage_limit >= 0),
          per_customer_limit integer check (per_customer_limit >= 1),
          seller_id uuid,
          active boolean not null default true,
          used_count integer not null default 0 check (used_count >= 0),
          created_by text,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index coupons_seller on promotions.coupons (seller_id, id)`.execute(db);
      // One row per order that used a coupon; released_at marks a use given back, so release is idempotent.
      await sql`
        create table promotions.redemptions (
          id uuid primary key,
          coupon_id uuid not null references promotions.coupons (id),
          user_id text not null,
          order_id text not null unique,
          created_at timestamptz not null default now(),
          released_at timestamptz
        )`.execute(db);
      await sql`create index redemptions_customer on promotions.redemptions (coupon_id, user_id) where released_at is null`.execute(db);
    },
  },
  '0002_minimum_has_currency': {
    // A minimum subtotal is an amount, and an amount has a currency: coupons made before that rule, with
    // a minimum but no currency, get the currency that amounts without one always defaulted to.
    async up(db) {
      await sql`update promotions.coupons set currency = 'USD' where currency is null and min_subtotal is not null`.execute(db);
    },
  },
};
