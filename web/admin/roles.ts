const ROLE_LABELS: Record<string, string> = {
  admin: 'Admin',
  seller: 'Seller',
  warehouse_staff: 'Warehouse',
  support_agent: 'Support',
  pos_agent: 'Point of sale',
  delivery_agent: 'Delivery',
  customer: 'Customer',
};

export function roleLabel(role: string): string {
  return ROLE_LABELS[role] ?? role;
}
