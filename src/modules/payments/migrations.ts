import { sql } from 'kysely';
import type { Migrations } from '../../kernel/db/migrations.ts';

export const paymentsMigrations: Migrations = {
  '0001_payments': {
    async up(db) {
      await sql`
        create table payments.payments (
          id uuid primary key,
          order_id text not null,
          user_id text not null,
          method text not null check (method in ('card', 'cod', 'store_credit')),
          status text not null check (status in ('pending', 'processing', 'captured', 'failed', 'cancelled', 'refunded')),
          amount bigint not null check (amount >= 0),
          currency text not null,
          refunded_amount bigint not null default 0 check (refunded_amount >= 0 and refunded_amount <= amount),
          provider text,
          -- The gateway token to charge, sealed with AES-256-GCM; cleared once the payment is settled.
          card_token_enc text,
          card_brand text,
          card_last4 text,
          saved_method_id uuid,
          authorization_id text,
          charge_id text,
          decline_code text,
          failure_message text,
          -- Charge rounds started; a round is one claim of the payment by a worker.
          attempts integer not null default 0,
          locked_until timestamptz,
          -- The order was cancelled while a charge was under way: refund it once it lands.
          cancel_requested boolean not null default false,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          captured_at timestamptz
        )`.execute(db);
      await sql`create index payments_by_order on payments.payments (order_id, id)`.execute(db);
      await sql`create index payments_by_user on payments.payments (user_id, id desc)`.execute(db);
      await sql`create index payments_unfinished on payments.payments (locked_until) where status in ('pending', 'processing') and method = 'card'`.execute(db);

      await sql`
        create table payments.refunds (
          id uuid primary key,
          payment_id uuid not null references payments.payments (id),
          order_id text not null,
          user_id text not null,
          amount bigint not null check (amount > 0),
          currency text not null,
          reason text not null,
          to_store_credit boolean not null,
          status text not null check (status in ('pending', 'processing', 'succeeded', 'failed')),
          group_id text,
          actor_id text,
          provider_refund_id text,
          failure_message text,
          attempts integer not null default 0,
          locked_until timestamptz,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index refunds_by_payment on payments.refunds (payment_id)`.execute(db);
      await sql`create index refunds_by_user on payments.refunds (user_id, id desc)`.execute(db);
      await sql`create index refunds_unfinished on payments.refunds (locked_until) where status in ('pending', 'processing')`.execute(db);

      // The balance is the sum of the ledger; the row is what a debit locks and checks, so it never goes negative.
      await sql`
        create table payments.store_credit_balances (
          user_id text primary key,
          currency text not null,
          balance bigint not null check (balance >= 0),
          updated_at timestamptz not null default now()
        )`.execute(db);
      await sql`
        create table payments.store_credit_ledger (
          seq bigserial primary key,
          id uuid not null unique,
          user_id text not null,
          amount bigint not null check (amount <> 0),
          currency text not null,
          balance_after bigint not null check (balance_after >= 0),
          reason text not null,
          reference text not null,
          actor_id text,
          created_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index store_credit_ledger_by_user on payments.store_credit_ledger (user_id, seq desc)`.execute(db);

      await sql`
        create table payments.payment_methods (
          id uuid primary key,
          user_id text not null,
          provider text not null,
          token_enc text not null,
          brand text not null,
          last4 text not null,
          exp_month integer not null,
          exp_year integer not null,
          created_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index payment_methods_by_user on payments.payment_methods (user_id, id)`.execute(db);

      // Webhook deliveries already handled: a provider re-sends until it gets a 2xx.
      await sql`
        create table payments.webhook_events (
          id text primary key,
          type text not null,
          received_at timestamptz not null default now()
        )`.execute(db);
    },
  },
};
