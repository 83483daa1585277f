import { sql } from 'kysely';
import type { Migrations } from './db/migrations.ts';

/**
 * The kernel's own tables, in schema `kernel`: the transactional outbox, consumers' inboxes, dead
 * letters, job leases, idempotency records and the audit log. They belong to the platform, not to
 * any module; a module writes its rows here only through kernel APIs, inside its own transaction.
 */
export const kernelMigrations: Migrations = {
  '0001_events': {
    async up(db) {
      await sql`
        create table kernel.outbox (
          seq bigserial primary key,
          id uuid not null unique,
          module text not null,
          type text not null,
          version integer not null,
          aggregate_id text not null,
          correlation_id text not null,
          causation_id text,
          occurred_at timestamptz not null,
          data jsonb not null,
          published_at timestamptz
        )`.execute(db);
      // The relay scans only what is left to publish; a partial index keeps that scan tiny.
      await sql`create index outbox_unpublished on kernel.outbox (seq) where published_at is null`.execute(db);
      await sql`
        create table kernel.inbox (
          consumer text not null,
          event_id uuid not null,
          processed_at timestamptz not null default now(),
          primary key (consumer, event_id)
        )`.execute(db);
      await sql`
        create table kernel.dead_letters (
          id uuid primary key,
          consumer text not null,
          event_id uuid not null,
          event_type text not null,
          event jsonb not null,
          error text not null,
          attempts integer not null,
          created_at timestamptz not null default now(),
          replayed_at timestamptz,
          unique (consumer, event_id)
        )`.execute(db);
    },
  },
  '0002_jobs': {
    async up(db) {
      await sql`
        create table kernel.job_leases (
          name text primary key,
          owner text not null,
          expires_at timestamptz not null,
          last_started_at timestamptz,
          last_finished_at timestamptz,
          last_error text
        )`.execute(db);
    },
  },
  '0003_audit_and_idempotency': {
    async up(db) {
      await sql`
        create table kernel.audit_log (
          id uuid primary key,
          at timestamptz not null default now(),
          actor_id text,
          actor_roles text[] not null default '{}',
          action text not null,
          target_type text not null,
          target_id text,
          details jsonb not null default '{}',
          request_id text,
          ip text
        )`.execute(db);
      await sql`create index audit_log_target on kernel.audit_log (target_type, target_id, id desc)`.execute(db);
      await sql`create index audit_log_actor on kernel.audit_log (actor_id, id desc)`.execute(db);
      await sql`
        create table kernel.idempotency_keys (
          scope text not null,
          key text not null,
          request_hash text not null,
          status_code integer,
          response jsonb,
          created_at timestamptz not null default now(),
          primary key (scope, key)
        )`.execute(db);
      await sql`create index idempotency_keys_created on kernel.idempotency_keys (created_at)`.execute(db);
    },
  },
  '0004_extensions': {
    async up(db) {
      // Trigram similarity for typo-tolerant search; PGlite ships it as a contrib extension.
      await sql`create extension if not exists pg_trgm`.execute(db);
    },
  },
  '0005_no_statistics_on_payloads': {
    async up(db) {
      // Payloads are stored and read back, never searched: an ANALYZE need not sample and compare them
      // (on the outbox, detoasting event payloads made most of an ANALYZE's 0.5-1 s).
      await sql`alter table kernel.outbox alter column data set statistics 0`.execute(db);
      await sql`alter table kernel.dead_letters alter column event set statistics 0`.execute(db);
      await sql`alter table kernel.audit_log alter column details set statistics 0`.execute(db);
      await sql`alter table kernel.idempotency_keys alter column response set statistics 0`.execute(db);
    },
  },
};
