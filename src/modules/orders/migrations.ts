import { sql } from 'kysely';
import type { Migrations } from '../../kernel/db/migrations.ts';

export const ordersMigrations: Migrations = {
  '0001_orders': {
    async up(db) {
      await sql`
        create table orders.orders (
          id uuid primary key,
          user_id text not null,
          status text not null check (status in ('pending', 'payment_failed', 'paid', 'processing', 'shipped', 'delivered', 'cancelled', 'refunded')),
          currency text not null,
          subtotal bigint not null check (subtotal >= 0),
          discount bigint not null check (discount >= 0 and discount <= subtotal),
          shipping bigint not null check (shipping >= 0),
          tax bigint not null check (tax >= 0),
          total bigint not null check (total = subtotal - discount + shipping + tax),
          tax_rate_bps integer not null,
          coupon_id text,
          coupon_code text,
          shipping_address jsonb not null,
          payment_method text not null check (payment_method in ('card', 'cod', 'store_credit')),
          payment_id uuid,
          payment_status text not null,
          -- The stock hold behind the order: held (reserved), committed (sold), released, or restocked.
          reservation_id text not null,
          reservation_state text not null check (reservation_state in ('held', 'committed', 'released', 'restocked')),
          reservation_count integer not null default 1,
          payment_due_at timestamptz not null,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index orders_by_user on orders.orders (user_id, id desc)`.execute(db);
      await sql`create index orders_by_status on orders.orders (status, id desc)`.execute(db);
      // The expiry job's scan: only unpaid orders are in this index.
      await sql`create index orders_awaiting_payment on orders.orders (payment_due_at) where status in ('pending', 'payment_failed')`.execute(db);

      // One group per seller: what that seller ships, and its share of the order's totals.
      await sql`
        create table orders.fulfilment_groups (
          id uuid primary key,
          order_id uuid not null references orders.orders (id),
          seller_id text not null,
          position integer not null,
          status text not null check (status in ('pending', 'shipped', 'delivered', 'cancelled')),
          subtotal bigint not null,
          discount bigint not null,
          shipping bigint not null,
          tax bigint not null,
          total bigint not null,
          tracking_number text,
          carrier text,
          shipped_at timestamptz,
          delivered_at timestamptz,
          unique (order_id, seller_id)
        )`.execute(db);
      await sql`create index fulfilment_groups_by_seller on orders.fulfilment_groups (seller_id, order_id desc)`.execute(db);

      await sql`
        create table orders.order_lines (
          id uuid primary key,
          order_id uuid not null references orders.orders (id),
          group_id uuid not null references orders.fulfilment_groups (id),
          position integer not null,
          product_id text not null,
          variant_id text not null,
          seller_id text not null,
          name text not null,
          sku text not null,
          options jsonb not null default '{}',
          quantity integer not null check (quantity > 0),
          unit_price bigint not null check (unit_price >= 0),
          discount bigint not null check (discount >= 0),
          line_total bigint not null check (line_total = unit_price * quantity - discount),
          weight_grams integer
        )`.execute(db);
      await sql`create index order_lines_by_order on orders.order_lines (order_id, position)`.execute(db);

      // Append-only: every status change with who made it, when and why.
      await sql`
        create table orders.status_history (
          seq bigserial primary key,
          order_id uuid not null references orders.orders (id),
          from_status text,
          to_status text not null,
          actor_id text,
          reason text,
          group_id uuid,
          at timestamptz not null default now()
        )`.execute(db);
      await sql`create index status_history_by_order on orders.status_history (order_id, seq)`.execute(db);

      await sql`
        create table orders.tax_rates (
          country text primary key check (country ~ '^[A-Z]{2}$'),
          rate_bps integer not null check (rate_bps between 0 and 10000),
          updated_at timestamptz not null default now(),
          updated_by text
        )`.execute(db);
    },
  },
};
