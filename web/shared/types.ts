import type { Money } from './money.ts';

/**
 * The shapes the web apps read, written by hand from API.md and /openapi.json. Fields a page can live
 * without are optional, so an older or newer server degrades a page instead of breaking it.
 */

export type { Money };

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface SellerProfile {
  id: string;
  storeName: string;
  description?: string;
  status: 'active' | 'suspended';
  suspendedReason?: string | null;
  createdAt?: string;
}

export interface User {
  id: string;
  email: string;
  name: string;
  roles: string[];
  status?: 'active' | 'deleted';
  createdAt?: string;
  sellerProfile?: SellerProfile;
}

export interface AuthResult {
  user: User;
  accessToken: string;
  refreshToken: string;
  expiresIn?: number;
}

export interface Address {
  id: string;
  label?: string | null;
  name: string;
  line1: string;
  line2?: string | null;
  city: string;
  region?: string | null;
  postalCode: string;
  country: string;
  phone?: string | null;
  isDefault?: boolean;
}

export interface AddressInput {
  name: string;
  line1: string;
  line2?: string | null;
  city: string;
  postalCode: string;
  country: string;
  isDefault?: boolean;
}

export interface Category {
  id: string;
  name: string;
  slug: string;
  parentId: string | null;
  children: Category[];
  description?: string | null;
  position?: number;
}

export interface ProductImage {
  id: string;
  url: string;
  alt: string;
  /** Renditions: small (200 px), medium (600 px), large (1200 px). */
  urls?: { small: string; medium: string; large: string };
}

export interface Variant {
  id: string;
  sku: string;
  price: Money;
  compareAtPrice?: Money | null;
  options: Record<string, string>;
  weightGrams?: number | null;
  available: number;
}

export type ProductStatus = 'draft' | 'active' | 'archived';

export interface Product {
  id: string;
  sellerId: string;
  sellerName?: string | null;
  name: string;
  slug?: string;
  description: string;
  categoryId: string;
  categoryPath?: string[];
  brand: string | null;
  attributes: Record<string, unknown>;
  status: ProductStatus;
  variants: Variant[];
  images?: ProductImage[];
  rating?: { average: number | null; count: number };
  createdAt: string;
  updatedAt: string;
}

export interface VariantInput {
  /** Set to edit an existing variant (PATCH); leave out to add one. */
  id?: string;
  sku?: string;
  price?: Money;
  /** Initial stock at the default warehouse, for a new variant. */
  stock?: number;
  options?: Record<string, string>;
  weightGrams?: number | null;
}

export interface ProductInput {
  name: string;
  description: string;
  categoryId: string;
  brand?: string | null;
  attributes?: Record<string, string | number | boolean>;
  status?: ProductStatus;
  variants: VariantInput[];
}

export type ProductPatch = Partial<ProductInput> & { removeVariantIds?: string[] };

/** One search hit. The search read model may send either a flat price or a price range. */
export interface ProductSummary {
  id: string;
  name: string;
  brand?: string | null;
  categoryId?: string;
  sellerId?: string;
  price?: Money;
  minPrice?: Money;
  maxPrice?: Money;
  image?: ProductImage | string | null;
  imageUrl?: string | null;
  images?: ProductImage[];
  rating?: { average: number | null; count: number };
  available?: number;
  inStock?: boolean;
}

export interface FacetValue {
  value: string;
  count: number;
  label?: string;
  /** Price buckets: the bounds to send back as filters, in minor units. */
  minPrice?: number;
  maxPrice?: number;
}

export interface SearchResult {
  items: ProductSummary[];
  total: number;
  facets: Record<string, FacetValue[] | undefined>;
  nextCursor: string | null;
  /** Words of q the index does not know, and the known words searched for instead (typo tolerance). */
  corrections?: Record<string, string[]>;
}

export interface Suggestion {
  text: string;
  productId?: string;
}

export interface Location {
  id: string;
  name: string;
  type: 'warehouse' | 'store';
  sellable: boolean;
  createdAt?: string;
}

export interface StockLevel {
  variantId: string;
  onHand: number;
  available: number;
  reserved: number;
  lowStockThreshold?: number;
  locations: { locationId: string; name: string; sellable?: boolean; onHand: number; reserved: number; available: number }[];
}

export interface Movement {
  id: string;
  variantId: string;
  locationId: string;
  /** adjustment | transfer_in | transfer_out | reservation | sale | ... */
  type: string;
  onHandDelta: number;
  reservedDelta: number;
  reason: string;
  reference: string | null;
  actorId: string | null;
  createdAt: string;
}

export interface DeadLetter {
  id: string;
  consumer: string;
  eventId: string;
  eventType: string;
  event: unknown;
  error: string;
  attempts: number;
  createdAt: string;
  replayedAt: string | null;
}

export interface AuditEntry {
  id: string;
  at: string;
  actorId: string | null;
  actorRoles: string[];
  action: string;
  targetType: string;
  targetId: string | null;
  details: Record<string, unknown>;
  requestId: string | null;
  ip: string | null;
}

export interface CartItem {
  id: string;
  productId: string;
  variantId: string;
  sellerId?: string | null;
  name: string;
  sku?: string;
  options?: Record<string, string>;
  quantity: number;
  unitPrice: Money;
  lineTotal: Money;
  /** Sellable stock of the variant now. */
  available?: number;
  priceChanged?: boolean;
  previousUnitPrice?: Money;
  /** The product can no longer be bought; the line is not counted in the totals. */
  unavailable?: boolean;
  image?: ProductImage | string | null;
}

export interface CartCoupon {
  code: string;
  kind: 'percentage' | 'fixed' | 'free_shipping' | null;
  valid: boolean;
  reason?: string;
  detail?: string;
  discount: Money;
  freeShipping: boolean;
}

export interface Cart {
  id: string;
  currency?: string;
  items: CartItem[];
  itemCount?: number;
  subtotal: Money;
  discount: Money;
  total: Money;
  coupon: CartCoupon | null;
}

export interface WishlistItem {
  productId: string;
  variantId?: string | null;
  name: string;
  price: Money | null;
  available?: number;
  inStock?: boolean;
  unavailable?: boolean;
  addedAt?: string;
}

export type PaymentInput = { method: 'card'; token: string } | { method: 'cod' } | { method: 'store_credit' };

export type OrderStatus =
  | 'pending'
  | 'payment_failed'
  | 'paid'
  | 'processing'
  | 'shipped'
  | 'delivered'
  | 'cancelled'
  | 'refunded'
  | (string & {});

export interface OrderItem {
  id: string;
  groupId?: string;
  productId: string;
  variantId: string;
  sellerId?: string;
  name: string;
  sku?: string;
  options?: Record<string, string>;
  quantity: number;
  unitPrice: Money;
  discount?: Money;
  lineTotal: Money;
}

/** One seller's parcel of an order. */
export interface FulfilmentGroup {
  id: string;
  sellerId: string;
  status: 'pending' | 'shipped' | 'delivered' | 'cancelled';
  itemIds: string[];
  total: Money;
  trackingNumber: string | null;
  carrier: string | null;
  shippedAt: string | null;
  deliveredAt: string | null;
}

export interface OrderHistoryEntry {
  from: OrderStatus | null;
  to: OrderStatus;
  at: string;
  actorId?: string | null;
  reason?: string | null;
  groupId?: string | null;
}

export interface ShippingAddress {
  name: string;
  line1: string;
  line2?: string;
  city: string;
  region?: string;
  postalCode: string;
  country: string;
  phone?: string;
}

export interface Order {
  id: string;
  userId: string;
  status: OrderStatus;
  items: OrderItem[];
  groups?: FulfilmentGroup[];
  subtotal: Money;
  discount: Money;
  shipping: Money;
  tax?: Money;
  total: Money;
  currency?: string;
  couponCode?: string | null;
  shippingAddress: ShippingAddress;
  payment: { id: string | null; method: 'card' | 'cod' | 'store_credit'; status: string };
  /** Until when the stock is held for payment (pending and payment_failed orders). */
  paymentDueAt?: string | null;
  history: OrderHistoryEntry[];
  /** A seller's view: the figures are that seller's part only. */
  sellerView?: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface Payment {
  id: string;
  orderId: string;
  userId?: string;
  method: 'card' | 'cod' | 'store_credit';
  /** pending | processing | captured | failed | cancelled | refunded */
  status: string;
  amount: Money;
  refunded: Money;
  card?: { brand: string | null; last4: string | null } | null;
  /** Why a card was declined, in the gateway's words (card_declined, insufficient_funds). */
  declineCode?: string | null;
  failureMessage?: string | null;
  createdAt: string;
}

export type CouponKind = 'percentage' | 'fixed' | 'free_shipping';

export interface Coupon {
  id: string;
  code: string;
  kind: CouponKind;
  /** A percentage coupon's percent (1..100); null for the other kinds. */
  percentOff: number | null;
  /** A fixed coupon's amount off; null for the other kinds. */
  amountOff: Money | null;
  currency: string | null;
  minSubtotal: Money | null;
  startsAt: string | null;
  endsAt: string | null;
  usageLimit: number | null;
  perCustomerLimit: number | null;
  sellerId: string | null;
  active: boolean;
  usedCount: number;
  createdAt: string;
  updatedAt?: string;
}

export interface CouponInput {
  code: string;
  kind: CouponKind;
  value?: number;
  currency?: string;
  minSubtotal?: number;
  startsAt?: string;
  endsAt?: string;
  usageLimit?: number;
  perCustomerLimit?: number;
}
