import { useSearchParams } from 'react-router';
import { useDocumentTitle } from '../../shared/ui.tsx';
import { Results } from '../components/Results.tsx';

export default function SearchPage() {
  const [params] = useSearchParams();
  const q = params.get('q');
  useDocumentTitle(q ? `“${q}”` : 'All products', 'Bazaar');
  return (
    <div className="container page">
      <Results />
    </div>
  );
}
