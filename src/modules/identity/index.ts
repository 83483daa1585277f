import type { BazaarModule } from '../../kernel/module.ts';
import { createDemoAccounts, ensureConfiguredAdmin } from './accounts.ts';
import { DEMO_ACCOUNTS, DEMO_SELLERS, SELLER_DIRECTORY_PORT, USER_DIRECTORY_PORT, type UserDirectory } from './contract.ts';
import { identityMigrations } from './migrations.ts';
import { identityRoutes } from './routes.ts';
import { sellerDirectory } from './sellers.ts';
import { pruneExpiredRefreshTokens, userExists } from './store.ts';

/**
 * Identity: accounts, sign-in sessions with rotating refresh tokens, roles, seller profiles, saved
 * addresses and GDPR export/erasure. Other modules learn about users from its events and ask
 * whether a seller may sell through the SellerDirectory port.
 */
export const identityModule: BazaarModule = {
  name: 'identity',
  migrations: identityMigrations,
  routes: identityRoutes,
  providePorts(ctx) {
    ctx.ports.provide(SELLER_DIRECTORY_PORT, sellerDirectory(ctx));
    ctx.ports.provide<UserDirectory>(USER_DIRECTORY_PORT, { userExists: (userId) => userExists(ctx.db, userId) });
  },
  jobs: [
    { name: 'identity.prune-refresh-tokens', intervalMs: 6 * 3600_000, run: (ctx) => pruneExpiredRefreshTokens(ctx.db) },
  ],
  onStart: ensureConfiguredAdmin,
  async seedDemo(ctx) {
    await createDemoAccounts(ctx, [
      ...Object.values(DEMO_ACCOUNTS),
      ...DEMO_SELLERS.map((s) => ({ ...s, roles: ['seller'] as const })),
    ]);
  },
};
