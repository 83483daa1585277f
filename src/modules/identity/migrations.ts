import { sql } from 'kysely';
import type { Migrations } from '../../kernel/db/migrations.ts';

export const identityMigrations: Migrations = {
  '0001_init': {
    async up(db) {
      await sql`
        create table identity.users (
          id uuid primary key,
          email text not null,
          name text not null,
          password_hash text not null,
          roles text[] not null default '{}',
          status text not null default 'active' check (status in ('active', 'deleted')),
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          deleted_at timestamptz
        )`.execute(db);
      // Emails are unique whatever their case: Ann@x.io and ann@x.io are one mailbox in practice.
      await sql`create unique index users_email_lower on identity.users (lower(email))`.execute(db);

      await sql`
        create table identity.seller_profiles (
          user_id uuid primary key references identity.users (id),
          store_name text not null,
          description text not null default '',
          status text not null default 'active' check (status in ('active', 'suspended')),
          suspended_reason text,
          suspended_at timestamptz,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`.execute(db);

      // A session is one sign-in on one device: the family of refresh tokens rotated from its first one.
      await sql`
        create table identity.sessions (
          id uuid primary key,
          user_id uuid not null references identity.users (id),
          created_at timestamptz not null default now(),
          last_used_at timestamptz not null default now(),
          revoked_at timestamptz,
          revoked_reason text,
          user_agent text,
          ip text
        )`.execute(db);
      await sql`create index sessions_user on identity.sessions (user_id) where revoked_at is null`.execute(db);

      // Only the SHA-256 of a refresh token is kept: a leaked table cannot be replayed.
      await sql`
        create table identity.refresh_tokens (
          token_hash text primary key,
          session_id uuid not null references identity.sessions (id),
          issued_at timestamptz not null default now(),
          expires_at timestamptz not null,
          rotated_at timestamptz
        )`.execute(db);
      await sql`create index refresh_tokens_session on identity.refresh_tokens (session_id)`.execute(db);

      await sql`
        create table identity.addresses (
          id uuid primary key,
          user_id uuid not null references identity.users (id),
          label text,
          name text not null,
          line1_sealed text not null,
          line2_sealed text,
          city text not null,
          region text,
          postal_code text not null,
          country text not null,
          phone_sealed text,
          is_default boolean not null default false,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index addresses_user on identity.addresses (user_id, id)`.execute(db);
      await sql`create unique index addresses_one_default on identity.addresses (user_id) where is_default`.execute(db);
    },
  },
};
