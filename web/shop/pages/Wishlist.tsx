import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, Navigate } from 'react-router';
import { isMissingEndpoint } from '../../shared/api.ts';
import { useApi, useSession } from '../../shared/session.tsx';
import type { ProductSummary, WishlistItem } from '../../shared/types.ts';
import { Button, EmptyState, ErrorNotice, NotAvailable, Skeleton, useDocumentTitle } from '../../shared/ui.tsx';
import { ProductCard } from '../components/ProductCard.tsx';

export default function WishlistPage() {
  useDocumentTitle('Wishlist', 'Bazaar');
  const session = useSession();
  const api = useApi();
  const client = useQueryClient();
  const wishlist = useQuery({
    queryKey: ['wishlist'],
    queryFn: async () => (await api.wishlist.get()).items,
    enabled: !!session,
    retry: false,
  });
  const remove = useMutation({
    mutationFn: (productId: string) => api.wishlist.remove(productId),
    onSuccess: () => client.invalidateQueries({ queryKey: ['wishlist'] }),
  });
  if (!session) return <Navigate to="/signin?next=/wishlist" replace />;
  return (
    <div className="container page">
      <h1>Your wishlist</h1>
      {wishlist.isPending ? <Skeleton lines={4} /> : null}
      {wishlist.isError ? isMissingEndpoint(wishlist.error) ? <NotAvailable what="The wishlist" /> : <ErrorNotice error={wishlist.error} /> : null}
      {wishlist.data && wishlist.data.length === 0 ? (
        <EmptyState title="Nothing saved yet" action={<Link to="/search" className="btn btn-primary">Find something you like</Link>}>
          Tap “Save to wishlist” on a product to keep it here.
        </EmptyState>
      ) : null}
      {wishlist.data?.length ? (
        <ul className="product-grid">
          {wishlist.data.map((item) => (
            <li key={item.productId} className="wish-item">
              <ProductCard product={summaryOf(item)} />
              <Button variant="ghost" size="sm" busy={remove.isPending && remove.variables === item.productId} onClick={() => remove.mutate(item.productId)} aria-label={`Remove ${summaryOf(item).name} from wishlist`}>
                Remove
              </Button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function summaryOf(item: WishlistItem): ProductSummary {
  return { id: item.productId, name: item.name, price: item.price ?? undefined, available: item.available, inStock: item.unavailable ? false : item.inStock };
}
