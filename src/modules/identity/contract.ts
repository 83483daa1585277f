/**
 * The public face of identity: what other modules may import. Events it publishes, the port it
 * provides, and the fixed ids of demo accounts that other modules' demo data refers to.
 */

export const IdentityEvents = {
  UserRegistered: 'identity.user.registered',
  UserUpdated: 'identity.user.updated',
  UserRolesChanged: 'identity.user.roles_changed',
  UserDeleted: 'identity.user.deleted',
  SellerSuspended: 'identity.seller.suspended',
  SellerReinstated: 'identity.seller.reinstated',
} as const;

export interface UserRegistered {
  userId: string;
  email: string;
  name: string;
  roles: string[];
}

/** Payload of identity.user.updated: the profile fields after the change. */
export interface UserUpdated {
  userId: string;
  email: string;
  name: string;
}

export interface UserRolesChanged {
  userId: string;
  roles: string[];
  previousRoles: string[];
}

export interface SellerStatusChanged {
  sellerId: string;
  status: 'active' | 'suspended';
  reason?: string;
}

/** The user was anonymised (GDPR erasure): every module drops or anonymises what it holds about them. */
export interface UserDeleted {
  userId: string;
}

/** Port `identity.sellers`: lets catalog refuse writes from a suspended seller without reading identity tables. */
export interface SellerDirectory {
  isSellerActive(sellerId: string): Promise<boolean>;
}
export const SELLER_DIRECTORY_PORT = 'identity.sellers';

/** Port `identity.users`: lets another module refuse to act for an account that does not exist (an admin granting store credit). */
export interface UserDirectory {
  userExists(userId: string): Promise<boolean>;
}
export const USER_DIRECTORY_PORT = 'identity.users';

/**
 * Whether the account exists, asked through the port: undefined when no module in this process (nor
 * a client to a remote one) provides it, and the caller then takes the id as given. Ask before any
 * transaction: on PGlite a query outside the caller's transaction would wait for it.
 */
export async function accountExists(ports: { get<T>(name: string): T }, userId: string): Promise<boolean | undefined> {
  let directory: UserDirectory;
  try {
    directory = ports.get<UserDirectory>(USER_DIRECTORY_PORT);
  } catch {
    return undefined;
  }
  return directory.userExists(userId);
}

/** Demo accounts (DEMO_DATA on, empty database). Ids are fixed so other modules' demo data can refer to them. */
export const DEMO_ACCOUNTS = {
  admin: { id: '01900000-0000-7000-8000-000000000001', email: 'admin@bazaar.dev', password: 'demo-admin-2026', name: 'Ada Admin', roles: ['admin'] },
  customer: { id: '01900000-0000-7000-8000-000000000201', email: 'customer@bazaar.dev', password: 'demo-customer-2026', name: 'Casey Customer', roles: ['customer'] },
  warehouse: { id: '01900000-0000-7000-8000-000000000301', email: 'warehouse@bazaar.dev', password: 'demo-warehouse-2026', name: 'Wes Warehouse', roles: ['warehouse_staff'] },
  support: { id: '01900000-0000-7000-8000-000000000401', email: 'support@bazaar.dev', password: 'demo-support-2026', name: 'Sam Support', roles: ['support_agent'] },
} as const;

export const DEMO_SELLERS = [
  { id: '01900000-0000-7000-8000-000000000101', email: 'seller@bazaar.dev', password: 'demo-seller-2026', name: 'Nora Northwind', storeName: 'Northwind Goods' },
  { id: '01900000-0000-7000-8000-000000000102', email: 'seller2@bazaar.dev', password: 'demo-seller-2026', name: 'Arlo Acme', storeName: 'Acme Outfitters' },
  { id: '01900000-0000-7000-8000-000000000103', email: 'seller3@bazaar.dev', password: 'demo-seller-2026', name: 'Bea Blueharbor', storeName: 'Blue Harbor Electronics' },
] as const;
