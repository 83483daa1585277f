import { sql } from 'kysely';
import type { Migrations } from '../../kernel/db/migrations.ts';
import { DEFAULT_LOCATION_ID } from './contract.ts';

export const inventoryMigrations: Migrations = {
  '0001_init': {
    async up(db) {
      await sql`
        create table inventory.locations (
          id uuid primary key,
          name text not null,
          type text not null check (type in ('warehouse', 'store')),
          sellable boolean not null,
          created_at timestamptz not null default now()
        )`.execute(db);
      // Every variant's stock lands here unless a location is named, so it must exist from the start.
      await sql`
        insert into inventory.locations (id, name, type, sellable)
        values (${DEFAULT_LOCATION_ID}, 'Main warehouse', 'warehouse', true)`.execute(db);

      // The owner of each variant, copied from catalog at registration: ownership checks stay local.
      await sql`
        create table inventory.variants (
          variant_id uuid primary key,
          product_id uuid not null,
          seller_id text not null,
          low_stock_threshold integer not null default 5 check (low_stock_threshold >= 0),
          created_at timestamptz not null default now()
        )`.execute(db);

      // The checks are the last line of defence: no code path may leave stock negative or over-reserved.
      await sql`
        create table inventory.stock_levels (
          variant_id uuid not null references inventory.variants (variant_id),
          location_id uuid not null references inventory.locations (id),
          on_hand integer not null default 0 check (on_hand >= 0),
          reserved integer not null default 0 check (reserved >= 0 and reserved <= on_hand),
          updated_at timestamptz not null default now(),
          primary key (variant_id, location_id)
        )`.execute(db);

      // Append-only: on_hand and reserved of a level always equal the sums of its deltas here.
      await sql`
        create table inventory.movements (
          seq bigserial primary key,
          id uuid not null unique,
          variant_id uuid not null,
          location_id uuid not null,
          type text not null check (type in ('receipt', 'adjustment', 'sale', 'return', 'transfer_in', 'transfer_out', 'reservation', 'release')),
          on_hand_delta integer not null,
          reserved_delta integer not null,
          reason text not null,
          reference text,
          actor_id text,
          created_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index movements_by_variant on inventory.movements (variant_id, seq desc)`.execute(db);

      await sql`
        create table inventory.reservations (
          id text primary key,
          reference text not null,
          status text not null check (status in ('active', 'committed', 'released', 'expired')),
          expires_at timestamptz not null,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index reservations_expiring on inventory.reservations (expires_at) where status = 'active'`.execute(db);
      await sql`
        create table inventory.reservation_lines (
          reservation_id text not null references inventory.reservations (id),
          variant_id uuid not null,
          location_id uuid not null,
          quantity integer not null check (quantity > 0),
          primary key (reservation_id, variant_id, location_id)
        )`.execute(db);
    },
  },
  // Catalog's product pages ask for the stock of all of a product's variants by product id.
  '0002_variants_by_product': {
    up: async (db) => {
      await sql`create index if not exists variants_by_product on inventory.variants (product_id)`.execute(db);
    },
  },
};
