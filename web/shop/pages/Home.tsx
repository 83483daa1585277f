import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { useApi } from '../../shared/session.tsx';
import type { ProductSummary } from '../../shared/types.ts';
import { EmptyState, ErrorNotice, useDocumentTitle } from '../../shared/ui.tsx';
import { categoryPath, toSummary, useCategories } from '../catalog.ts';
import { ProductGrid, ProductGridSkeleton } from '../components/ProductCard.tsx';

const CATEGORY_HUES = [210, 160, 25, 280, 340, 190, 45, 120];

export function Home() {
  useDocumentTitle(undefined, 'Bazaar — independent sellers, one checkout');
  const categories = useCategories();
  const featured = useFeatured('rating', 8);
  const newest = useFeatured('newest', 4);

  return (
    <div className="home">
      <section className="hero">
        <div className="container hero-inner">
          <div className="hero-copy">
            <p className="hero-kicker">New season, new sellers</p>
            <h1>Good things from independent shops, delivered together.</h1>
            <p className="hero-lead">Browse thousands of products from sellers we trust. One cart, one checkout, free returns.</p>
            <div className="row">
              <Link to="/search" className="btn btn-primary btn-lg">
                Shop all products
              </Link>
              <a href="/admin/" className="btn btn-secondary btn-lg">
                Sell on Bazaar
              </a>
            </div>
          </div>
        </div>
      </section>

      <div className="container page stack-lg">
        <section aria-labelledby="categories-heading">
          <div className="section-head">
            <h2 id="categories-heading">Shop by category</h2>
          </div>
          {categories.isError ? <ErrorNotice error={categories.error} what="The category list" /> : null}
          <ul className="category-tiles">
            {(categories.data?.items ?? []).slice(0, 8).map((category, index) => (
              <li key={category.id}>
                <Link to={categoryPath(category)} className="category-tile" style={{ '--hue': CATEGORY_HUES[index % CATEGORY_HUES.length] } as React.CSSProperties}>
                  <span className="category-tile-name">{category.name}</span>
                  {category.children?.length ? (
                    <span className="category-tile-sub">{category.children.slice(0, 3).map((c) => c.name).join(' · ')}</span>
                  ) : null}
                </Link>
              </li>
            ))}
            {categories.isPending
              ? Array.from({ length: 4 }, (_, i) => (
                  <li key={i}>
                    <div className="category-tile skeleton" />
                  </li>
                ))
              : null}
          </ul>
        </section>

        <section aria-labelledby="featured-heading">
          <div className="section-head">
            <h2 id="featured-heading">Top rated</h2>
            <Link to="/search?sort=rating">See all</Link>
          </div>
          <ProductSection query={featured} eager={4} />
        </section>

        <section aria-labelledby="new-heading">
          <div className="section-head">
            <h2 id="new-heading">Just arrived</h2>
            <Link to="/search?sort=newest">See all</Link>
          </div>
          <ProductSection query={newest} />
        </section>
      </div>
    </div>
  );
}

function ProductSection({ query, eager = 0 }: { query: ReturnType<typeof useFeatured>; eager?: number }) {
  if (query.isPending) return <ProductGridSkeleton count={4} />;
  if (query.isError) return <ErrorNotice error={query.error} what="Product listings" />;
  if (query.data.length === 0) return <EmptyState title="No products yet">Sellers are stocking their shelves. Check back soon.</EmptyState>;
  return <ProductGrid items={query.data} eagerCount={eager} />;
}

/** Products for a home shelf: from search (it has ratings and prices), else straight from the catalog. */
function useFeatured(sort: 'rating' | 'newest', limit: number) {
  const api = useApi();
  return useQuery({
    queryKey: ['home', sort, limit],
    queryFn: async ({ signal }): Promise<ProductSummary[]> => {
      try {
        return (await api.search.query({ sort, limit }, signal)).items;
      } catch {
        return (await api.catalog.products({ limit }, signal)).items.filter((p) => p.status === 'active' || !p.status).map(toSummary);
      }
    },
  });
}
