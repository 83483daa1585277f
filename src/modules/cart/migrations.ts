import { sql } from 'kysely';
import type { Migrations } from '../../kernel/db/migrations.ts';

export const cartMigrations: Migrations = {
  '0001_carts': {
    async up(db) {
      // A cart belongs to a user or to a guest's token (only its SHA-256 is kept), never both.
      await sql`
        create table cart.carts (
          id uuid primary key,
          user_id text unique,
          guest_token_hash text unique,
          currency text not null default 'USD',
          coupon_code text,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          abandoned_at timestamptz,
          check ((user_id is null) <> (guest_token_hash is null))
        )`.execute(db);
      await sql`create index carts_idle on cart.carts (updated_at) where abandoned_at is null`.execute(db);
      // name, sku and options are kept from when the line was added so a deleted product still reads as something.
      await sql`
        create table cart.items (
          id uuid primary key,
          cart_id uuid not null references cart.carts (id) on delete cascade,
          product_id uuid not null,
          variant_id uuid not null,
          quantity integer not null check (quantity > 0),
          seen_unit_price bigint not null,
          seen_currency text not null,
          name text not null,
          sku text not null,
          options jsonb not null default '{}',
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          unique (cart_id, variant_id)
        )`.execute(db);
      await sql`
        create table cart.wishlist_items (
          user_id text not null,
          product_id uuid not null,
          name text not null,
          created_at timestamptz not null default now(),
          primary key (user_id, product_id)
        )`.execute(db);
      await sql`create index wishlist_by_product on cart.wishlist_items (product_id)`.execute(db);
      await sql`create index wishlist_by_user_recent on cart.wishlist_items (user_id, created_at desc, product_id desc)`.execute(db);
      // Last availability seen per variant, from inventory.stock.changed: how a "back in stock" is noticed.
      await sql`
        create table cart.stock_seen (
          variant_id uuid primary key,
          product_id uuid not null,
          available integer not null,
          updated_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index stock_seen_by_product on cart.stock_seen (product_id)`.execute(db);
    },
  },
  // Every change to a cart updates its row (its activity time, and the version checkout relies on).
  // With `updated_at` indexed for the abandonment job, no such update could be HOT: each wrote new
  // entries in all four indexes, and a cart filled quickly left hundreds of dead versions that every
  // read by user walked through (measured: 11,227 updates, none HOT, over 32 carts in the checkout
  // bench, and checkouts after it at half speed). The job now finds idle carts by `active_at`, which
  // moves at most every five minutes, so the updates in between change no indexed column.
  '0002_hot_cart_updates': {
    async up(db) {
      await sql`alter table cart.carts add column active_at timestamptz not null default now()`.execute(db);
      await sql`update cart.carts set active_at = updated_at`.execute(db);
      await sql`create index carts_idle_since on cart.carts (active_at) where abandoned_at is null`.execute(db);
      await sql`drop index cart.carts_idle`.execute(db);
      // Room on each page for the new version of a row, which HOT needs.
      await sql`alter table cart.carts set (fillfactor = 80)`.execute(db);
    },
  },
};
