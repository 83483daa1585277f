import { sql } from 'kysely';
import type { Migrations } from '../../kernel/db/migrations.ts';

/**
 * The search read model. Every row here is derived from catalog and inventory events, so the whole
 * schema can be dropped and rebuilt by replaying them. Indexes are partial on `visible`: shoppers
 * never see anything else, and the hidden rows are kept only so a re-activated product or seller
 * reappears with its stock and rating intact.
 */
export const searchMigrations: Migrations = {
  '0001_read_model': {
    async up(db) {
      await sql`
        create table search.documents (
          product_id text primary key,
          seller_id text not null,
          name text not null,
          brand text,
          brand_key text,
          description text not null,
          category_id text not null,
          category_path text[] not null,
          variant_ids text[] not null,
          min_price bigint not null,
          max_price bigint not null,
          currency text not null,
          image_url text,
          status text not null,
          seller_active boolean not null,
          visible boolean not null,
          total_available integer not null default 0,
          in_stock boolean not null default false,
          rating_average numeric(3, 2) not null default 0,
          rating_count integer not null default 0,
          created_at timestamptz not null,
          source_updated_at timestamptz not null,
          indexed_at timestamptz not null default now(),
          -- Maintained on write, so a query never tokenizes a row: name ranks above brand above description.
          search_vector tsvector generated always as (
            setweight(to_tsvector('english', name), 'A') ||
            setweight(to_tsvector('english', coalesce(brand, '')), 'B') ||
            setweight(to_tsvector('english', description), 'C')
          ) stored
        )
        -- Vacuum often: index-only scans (see documents_browse) skip the heap only on pages marked all-visible.
        with (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02)`.execute(db);
      // fastupdate off: a GIN pending list makes every search scan the not-yet-merged entries (measured:
      // 1 ms instead of 0.03 ms for a lookup at 10k products). Writes here are event-paced; reads are hot.
      await sql`
        create index documents_text on search.documents using gin (search_vector) with (fastupdate = off)
        where visible`.execute(db);
      await sql`
        create index documents_category on search.documents using gin (category_path) with (fastupdate = off)
        where visible`.execute(db);
      await sql`
        create index documents_name_trgm on search.documents using gin (name gin_trgm_ops) with (fastupdate = off)
        where visible`.execute(db);
      // Type-ahead: C collation lets one btree serve both `like 'ab%'` and the order of the names it returns.
      await sql`create index documents_name_prefix on search.documents ((lower(name) collate "C")) where visible`.execute(db);
      await sql`create index documents_brand on search.documents (brand_key) where visible`.execute(db);
      // One index per sort order, each ending in the id so keyset pagination walks it without a sort.
      await sql`create index documents_price on search.documents (min_price, product_id) where visible`.execute(db);
      // Newest first, and covering: browsing without text (facets over a whole category, or everything)
      // becomes an index-only scan over a few narrow columns instead of a scan of the wide rows (measured
      // at 10k products: 7 ms instead of 58 ms on a busy machine).
      await sql`
        create index documents_browse on search.documents (created_at desc, product_id desc)
        include (min_price, rating_average, rating_count, category_path, brand_key, brand, in_stock)
        where visible`.execute(db);
      await sql`
        create index documents_rating on search.documents (rating_average desc, rating_count desc, product_id desc)
        where visible`.execute(db);

      await sql`
        create table search.variant_stock (
          variant_id text primary key,
          product_id text not null,
          available integer not null,
          updated_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index variant_stock_product on search.variant_stock (product_id)`.execute(db);

      await sql`
        create table search.categories (
          id text primary key,
          name text not null,
          slug text not null,
          parent_id text,
          path text[] not null
        )`.execute(db);

      // The words of every indexed product: typo correction looks for the nearest of them.
      await sql`create table search.terms (term text primary key)`.execute(db);
      await sql`create index terms_trgm on search.terms using gist (term gist_trgm_ops)`.execute(db);

      await sql`
        create table search.queries (
          query text primary key,
          count bigint not null,
          last_searched_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index queries_prefix on search.queries (query text_pattern_ops)`.execute(db);

      // Bumped by every change a shopper could notice; part of every result-cache key. The epoch keeps a
      // rebuilt database from meeting cache entries a shared Redis still holds for an older one.
      await sql`
        create table search.state (
          id integer primary key check (id = 1),
          epoch text not null,
          generation bigint not null
        )`.execute(db);
      await sql`insert into search.state (id, epoch, generation) values (1, gen_random_uuid()::text, 0)`.execute(db);
    },
  },
  // The generation was one row every index write updated: each write held that row's lock until its
  // transaction committed, so under a stream of stock changes all of search's writers queued on it
  // (16 ms per stock change measured under the checkout bench) and held pooled connections while they
  // waited. A sequence is never locked by a transaction.
  '0002_generation_sequence': {
    async up(db) {
      await sql`create sequence search.generation`.execute(db);
      await sql`select setval('search.generation', (select generation + 1 from search.state where id = 1))`.execute(db);
      await sql`alter table search.state drop column generation`.execute(db);
    },
  },
};
