import { Link, useParams } from 'react-router';
import { EmptyState, ErrorNotice, Spinner, useDocumentTitle } from '../../shared/ui.tsx';
import { ancestry, categoryPath, flatten, useCategories } from '../catalog.ts';
import { Results } from '../components/Results.tsx';

export default function CategoryPage() {
  const { slug } = useParams();
  const categories = useCategories();
  const category = flatten(categories.data?.items).find((c) => c.slug === slug);
  useDocumentTitle(category?.name, 'Bazaar');

  if (categories.isPending) return <div className="container page"><Spinner /></div>;
  if (categories.isError) return <div className="container page"><ErrorNotice error={categories.error} /></div>;
  if (!category) {
    return (
      <div className="container page">
        <EmptyState title="We could not find that category" action={<Link to="/search" className="btn btn-primary">Browse all products</Link>} />
      </div>
    );
  }
  const trail = ancestry(categories.data.items, category.id);
  return (
    <div className="container page">
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <ol>
          <li>
            <Link to="/">Home</Link>
          </li>
          {trail.map((c) => (
            <li key={c.id}>{c.id === category.id ? <span aria-current="page">{c.name}</span> : <Link to={categoryPath(c)}>{c.name}</Link>}</li>
          ))}
        </ol>
      </nav>
      {category.children?.length ? (
        <nav aria-label="Subcategories" className="chips">
          {category.children.map((child) => (
            <Link key={child.id} to={categoryPath(child)} className="chip">
              {child.name}
            </Link>
          ))}
        </nav>
      ) : null}
      <Results key={category.id} categoryId={category.id} title={category.name} />
    </div>
  );
}
