/**
 * Role-based access in one place. Routes ask for a permission, never for a role, so a new role is a
 * change to this table only. Ownership ("a seller edits only its own") is checked by the owning module
 * on top of the permission.
 */
export const ROLES = [
  'customer',
  'seller',
  'admin',
  'support_agent',
  'warehouse_staff',
  'pos_agent',
  'delivery_agent',
] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  'users:read-any': ['admin', 'support_agent'],
  'users:manage': ['admin'],
  'roles:manage': ['admin'],
  'sellers:manage': ['admin'],
  'sellers:edit-own-profile': ['seller'],
  'audit:read': ['admin'],
  'events:manage': ['admin'],
  'catalog:manage-categories': ['admin'],
  'catalog:write-own-products': ['seller', 'admin'],
  'catalog:write-any-product': ['admin'],
  'inventory:read': ['seller', 'warehouse_staff', 'admin'],
  'inventory:adjust': ['seller', 'warehouse_staff', 'admin'],
  'inventory:manage-locations': ['warehouse_staff', 'admin'],
  // Stock of any seller's variants; a seller holding only inventory:adjust touches its own.
  'inventory:manage-any-stock': ['warehouse_staff', 'admin'],
  'orders:read-any': ['admin', 'support_agent'],
  'orders:manage': ['admin'],
  // A seller ships (and, with SELLER_REFUNDS_ENABLED, refunds) only its own fulfilment group of an order.
  'orders:read-own-groups': ['seller'],
  'orders:ship': ['seller', 'admin'],
  'orders:deliver': ['delivery_agent', 'admin'],
  'tax:manage': ['admin'],
  'shipping:manage-own-rates': ['seller'],
  'payments:read-any': ['admin', 'support_agent'],
  'payments:refund': ['admin'],
  'payments:refund-own-group': ['seller'],
  'store-credit:grant': ['admin'],
  'promotions:manage': ['seller', 'admin'],
  'promotions:manage-any': ['admin'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

export function can(roles: readonly string[], permission: Permission): boolean {
  const allowed: readonly string[] = PERMISSIONS[permission];
  return roles.some((r) => allowed.includes(r));
}

/** Roles a user may pick for themselves at sign-up; every other role is granted by an admin. */
export const SELF_SERVICE_ROLES: readonly Role[] = ['customer', 'seller'];
