import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createContext, useContext, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import { can, type Permission } from '../../src/kernel/auth/permissions.ts';
import { ApiError, type BazaarApi, type Session } from './api.ts';

const ApiContext = createContext<BazaarApi | null>(null);

export function useApi(): BazaarApi {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside <ApiProvider>');
  return api;
}

export function useSession(): Session | null {
  const api = useApi();
  return useSyncExternalStore(api.session.subscribe, api.session.get, () => null);
}

/** What the signed-in person may do, from the same permission table the server enforces. */
export function useCan(): (permission: Permission) => boolean {
  const session = useSession();
  const roles = session?.user.roles;
  return useMemo(() => (permission: Permission) => can(roles ?? [], permission), [roles]);
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 20_000,
        refetchOnWindowFocus: false,
        // A 4xx will answer the same again; only retry what may be passing trouble.
        retry: (count, error) => count < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
      },
      mutations: { retry: false },
    },
  });
}

export function ApiProvider({ api, client, children }: { api: BazaarApi; client: QueryClient; children: ReactNode }) {
  return (
    <ApiContext.Provider value={api}>
      <QueryClientProvider client={client}>{children}</QueryClientProvider>
    </ApiContext.Provider>
  );
}
