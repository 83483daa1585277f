import { sql } from 'kysely';
import type { Migrations } from '../../kernel/db/migrations.ts';

export const shippingMigrations: Migrations = {
  '0001_rates': {
    async up(db) {
      // One rate per seller; a seller without a row ships for free.
      await sql`
        create table shipping.rates (
          seller_id text primary key,
          kind text not null check (kind in ('flat', 'weight')),
          amount bigint check (amount >= 0),
          base_amount bigint check (base_amount >= 0),
          per_kg_amount bigint check (per_kg_amount >= 0),
          currency text not null,
          updated_at timestamptz not null default now(),
          updated_by text,
          check ((kind = 'flat' and amount is not null) or (kind = 'weight' and base_amount is not null and per_kg_amount is not null))
        )`.execute(db);
    },
  },
};
