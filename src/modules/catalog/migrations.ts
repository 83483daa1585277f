import { sql } from 'kysely';
import type { Migrations } from '../../kernel/db/migrations.ts';

export const catalogMigrations: Migrations = {
  '0001_init': {
    async up(db) {
      // `path` holds the ids from the root down to the category itself, so "this category or any
      // below it" is one indexed `path @> array[id]` instead of a recursive walk per request.
      await sql`
        create table catalog.categories (
          id uuid primary key,
          name text not null,
          slug text not null unique,
          parent_id uuid references catalog.categories (id),
          path uuid[] not null,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index categories_path on catalog.categories using gin (path)`.execute(db);
      await sql`create index categories_parent on catalog.categories (parent_id)`.execute(db);

      // Sellers' storefront status as last announced by identity, so catalog decides on its own data.
      await sql`
        create table catalog.sellers (
          seller_id text primary key,
          active boolean not null,
          updated_at timestamptz not null default now()
        )`.execute(db);

      await sql`
        create table catalog.products (
          id uuid primary key,
          seller_id text not null,
          name text not null,
          description text not null,
          -- No foreign key: a category whose only products were deleted (kept as tombstones) may go.
          category_id uuid not null,
          brand text,
          attributes jsonb not null default '{}',
          status text not null check (status in ('draft', 'active', 'archived')),
          seller_active boolean not null default true,
          rating_average numeric(3, 2) not null default 0,
          rating_count integer not null default 0,
          deleted_at timestamptz,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`.execute(db);
      // The storefront list (newest first) reads this partial index and nothing else.
      await sql`
        create index products_storefront on catalog.products (id desc)
        where status = 'active' and seller_active and deleted_at is null`.execute(db);
      await sql`create index products_by_category on catalog.products (category_id, id desc) where deleted_at is null`.execute(db);
      await sql`create index products_by_seller on catalog.products (seller_id, id desc) where deleted_at is null`.execute(db);

      // Removed variants stay (orders and carts may still name them) but free their SKU.
      await sql`
        create table catalog.variants (
          id uuid primary key,
          product_id uuid not null references catalog.products (id),
          seller_id text not null,
          sku text not null,
          price_amount bigint not null check (price_amount >= 0),
          price_currency text not null,
          options jsonb not null default '{}',
          weight_grams integer check (weight_grams is null or weight_grams >= 0),
          position integer not null,
          removed_at timestamptz,
          created_at timestamptz not null default now()
        )`.execute(db);
      await sql`create unique index variants_sku_per_seller on catalog.variants (seller_id, sku) where removed_at is null`.execute(db);
      await sql`create index variants_by_product on catalog.variants (product_id, position) where removed_at is null`.execute(db);

      // `media_key` is the media-store key with `{size}` standing for the width of each rendition.
      await sql`
        create table catalog.images (
          id uuid primary key,
          product_id uuid not null references catalog.products (id),
          position integer not null,
          alt text not null default '',
          media_key text not null,
          created_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index images_by_product on catalog.images (product_id, position)`.execute(db);
    },
  },
};
