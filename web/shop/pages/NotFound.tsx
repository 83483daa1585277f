import { Link } from 'react-router';
import { EmptyState, useDocumentTitle } from '../../shared/ui.tsx';

export default function NotFoundPage() {
  useDocumentTitle('Page not found', 'Bazaar');
  return (
    <div className="container page">
      <EmptyState title="We could not find that page" action={<Link to="/" className="btn btn-primary">Back to the shop</Link>}>
        The link may be old, or the page has moved.
      </EmptyState>
    </div>
  );
}
