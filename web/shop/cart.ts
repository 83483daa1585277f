import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSyncExternalStore } from 'react';
import { useApi, useSession } from '../shared/session.tsx';
import type { Cart } from '../shared/types.ts';

/** The cart of whoever is shopping: the signed-in account's, or the guest cart behind the stored token. */
export function useCart() {
  const api = useApi();
  const session = useSession();
  const guestToken = useSyncExternalStore(api.cartToken.subscribe, api.cartToken.get, () => null);
  return useQuery({
    queryKey: ['cart', session?.user.id ?? 'guest'],
    queryFn: () => api.cart.get(),
    // A guest without a token has no cart yet; asking would only create an empty one.
    enabled: !!session || !!guestToken,
    retry: false,
  });
}

export function useCartMutation<T>(change: (input: T) => Promise<Cart>) {
  const client = useQueryClient();
  const api = useApi();
  return useMutation({
    mutationFn: change,
    onSuccess: (cart) => {
      const owner = api.session.get()?.user.id ?? 'guest';
      if (cart && typeof cart === 'object' && 'items' in cart) client.setQueryData(['cart', owner], cart);
      else void client.invalidateQueries({ queryKey: ['cart'] });
    },
  });
}
