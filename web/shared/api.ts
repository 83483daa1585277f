import { endpoints, fillPath, type Endpoint } from './endpoints.ts';
import type {
  Address,
  AddressInput,
  AuditEntry,
  AuthResult,
  Cart,
  Category,
  Coupon,
  CouponInput,
  DeadLetter,
  Location,
  Money,
  Movement,
  Order,
  Page,
  PaymentInput,
  Payment,
  Product,
  ProductImage,
  ProductInput,
  ProductPatch,
  SearchResult,
  SellerProfile,
  ShippingAddress,
  StockLevel,
  Suggestion,
  User,
  WishlistItem,
} from './types.ts';

const API_BASE = '/api/v1';

/** An RFC 9457 problem as the server sends it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: { path: string; message: string }[];
  [extra: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail || problem.title || `Request failed (${status})`);
  }

  /** The server has no such route (a module not built or not deployed), as opposed to a missing record. */
  get missingEndpoint(): boolean {
    return this.status === 404 && (this.problem.detail ?? '').startsWith('No route ');
  }

  /** The last segment of the problem type, e.g. `insufficient-stock`. */
  get kind(): string {
    return this.problem.type.split('/').pop() ?? '';
  }

  /** Field errors keyed by the field name (`/variants/0/sku` -> `variants.0.sku`). */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.problem.errors ?? []) {
      const key = e.path.replace(/^[a-z]+:/, '').replace(/^\//, '').replaceAll('/', '.');
      out[key || '_'] ??= e.message;
    }
    return out;
  }
}

export function isMissingEndpoint(error: unknown): boolean {
  return error instanceof ApiError && error.missingEndpoint;
}

/** A message a person can act on, for any error a call can throw. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return 'Cannot reach the server. Check your connection and try again.';
    if (error.status === 429) return 'Too many attempts. Wait a minute and try again.';
    if (error.status >= 500) return 'Something went wrong on our side. Please try again.';
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  user: User;
}

type Listener = () => void;

/** A value kept in localStorage, observable by React (useSyncExternalStore) and synced across tabs. */
export class StoredValue<T> {
  private listeners = new Set<Listener>();
  private cache: { raw: string | null; value: T | null } | undefined;

  constructor(readonly key: string) {
    if (typeof window !== 'undefined') {
      window.addEventListener('storage', (event) => {
        if (event.key === key) {
          this.cache = undefined;
          this.emit();
        }
      });
    }
  }

  get = (): T | null => {
    let raw: string | null = null;
    try {
      raw = localStorage.getItem(this.key);
    } catch {
      // Storage can be disabled (private mode, policy): behave as signed out.
    }
    if (this.cache && this.cache.raw === raw) return this.cache.value;
    let value: T | null = null;
    try {
      value = raw === null ? null : (JSON.parse(raw) as T);
    } catch {
      value = null;
    }
    this.cache = { raw, value };
    return value;
  };

  set(value: T | null) {
    try {
      if (value === null) localStorage.removeItem(this.key);
      else localStorage.setItem(this.key, JSON.stringify(value));
    } catch {
      // Not persisted; the in-memory cache below still carries it for this page.
    }
    this.cache = { raw: value === null ? null : JSON.stringify(value), value };
    this.emit();
  }

  subscribe = (listener: Listener) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private emit() {
    for (const listener of this.listeners) listener();
  }
}

export type Query = Record<string, string | number | boolean | null | undefined | readonly string[]>;

export interface CallOptions {
  params?: Record<string, string>;
  query?: Query;
  body?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  idempotencyKey?: string;
}

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const v of value) search.append(key, v);
    else search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

/**
 * The Bazaar API client both apps use. It attaches the bearer token, refreshes an expired access
 * token once (concurrent 401s share one refresh), keeps the guest cart token and hands it over at
 * sign-in so the server merges the guest cart, and turns problem+json into ApiError.
 */
export function createApi(options: { sessionKey: string; cartTokenKey?: string }) {
  const session = new StoredValue<Session>(options.sessionKey);
  const cartToken = new StoredValue<string>(options.cartTokenKey ?? 'bazaar.cartToken');
  let refreshing: Promise<boolean> | null = null;

  async function send(endpoint: Endpoint, opts: CallOptions, token: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
    const carriesCart = endpoint.area === 'cart' || endpoint === endpoints.login || endpoint === endpoints.signup;
    const guestCart = cartToken.get();
    if (carriesCart && guestCart) headers['x-cart-token'] = guestCart;
    let body: BodyInit | undefined;
    if (opts.form) body = opts.form;
    else if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const url = `${API_BASE}${fillPath(endpoint.path, opts.params)}${queryString(opts.query)}`;
    try {
      return await fetch(url, { method: endpoint.method, headers, body, signal: opts.signal, credentials: 'same-origin' });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new ApiError(0, { type: 'network', title: 'Network error', status: 0, detail: (error as Error).message });
    }
  }

  async function refreshSession(): Promise<boolean> {
    const current = session.get();
    if (!current) return false;
    refreshing ??= (async () => {
      try {
        const response = await send(endpoints.refresh, { body: { refreshToken: current.refreshToken } }, undefined);
        if (!response.ok) {
          // The refresh token was used up or revoked: the person must sign in again.
          if (session.get()?.refreshToken === current.refreshToken) session.set(null);
          return false;
        }
        const next = (await response.json()) as Partial<AuthResult>;
        if (!next.accessToken || !next.refreshToken) return false;
        session.set({ accessToken: next.accessToken, refreshToken: next.refreshToken, user: next.user ?? current.user });
        return true;
      } catch {
        return false;
      } finally {
        setTimeout(() => (refreshing = null), 0);
      }
    })();
    return refreshing;
  }

  async function call<T>(endpoint: Endpoint, opts: CallOptions = {}): Promise<T> {
    const isAuthCall = endpoint.path.startsWith('/auth/');
    let response = await send(endpoint, opts, isAuthCall ? undefined : session.get()?.accessToken);
    if (response.status === 401 && !isAuthCall && session.get()) {
      if (await refreshSession()) response = await send(endpoint, opts, session.get()?.accessToken);
    }
    if (endpoint.area === 'cart' && response.ok) {
      const issued = response.headers.get('x-cart-token');
      if (session.get()) {
        // A signed-in cart call that carried the guest token merged it; the token is spent.
        if (cartToken.get()) cartToken.set(null);
      } else if (issued && issued !== cartToken.get()) {
        cartToken.set(issued);
      }
    }
    if (response.status === 204) return undefined as T;
    const type = response.headers.get('content-type') ?? '';
    const payload: unknown = type.includes('json') ? await response.json().catch(() => null) : await response.text();
    if (!response.ok) {
      const problem =
        payload && typeof payload === 'object' && 'status' in payload
          ? (payload as Problem)
          : { type: 'about:blank', title: response.statusText || 'Request failed', status: response.status, detail: typeof payload === 'string' ? payload.slice(0, 200) : undefined };
      throw new ApiError(response.status, problem);
    }
    return payload as T;
  }

  async function authenticate(endpoint: Endpoint, body: unknown): Promise<User> {
    const result = await call<AuthResult>(endpoint, { body });
    session.set({ accessToken: result.accessToken, refreshToken: result.refreshToken, user: result.user });
    // The server merged the guest cart into the account's cart; the guest token no longer works.
    cartToken.set(null);
    return result.user;
  }

  const get = <T>(endpoint: Endpoint, opts?: CallOptions) => call<T>(endpoint, opts);

  return {
    session,
    cartToken,
    call,
    auth: {
      login: (email: string, password: string) => authenticate(endpoints.login, { email, password }),
      signup: (input: { email: string; password: string; name: string; role?: 'customer' | 'seller'; storeName?: string }) =>
        authenticate(endpoints.signup, input),
      async logout() {
        const current = session.get();
        session.set(null);
        if (!current) return;
        // Ends the session on the server too, so the refresh token cannot be used again.
        const headers = { authorization: `Bearer ${current.accessToken}` };
        await call(endpoints.logout, { body: { refreshToken: current.refreshToken }, headers }).catch(() => undefined);
      },
      async refreshUser() {
        const user = await get<User>(endpoints.me);
        const current = session.get();
        if (current) session.set({ ...current, user });
        return user;
      },
    },
    users: {
      list: (query: Query) => get<Page<User>>(endpoints.listUsers, { query }),
      update: (id: string, body: Partial<Pick<User, 'name' | 'email'>>) => call<User>(endpoints.updateUser, { params: { id }, body }),
      setRoles: (id: string, roles: string[]) => call<User>(endpoints.setRoles, { params: { id }, body: { roles } }),
      addresses: () => get<Page<Address> | { items: Address[] }>(endpoints.listAddresses),
      createAddress: (body: AddressInput) => call<Address>(endpoints.createAddress, { body }),
      seller: (id: string) => get<SellerProfile>(endpoints.getSeller, { params: { id } }),
      suspendSeller: (id: string, reason: string) => call<SellerProfile>(endpoints.suspendSeller, { params: { id }, body: { reason } }),
      reinstateSeller: (id: string) => call<SellerProfile>(endpoints.reinstateSeller, { params: { id } }),
    },
    catalog: {
      categories: () => get<{ items: Category[] }>(endpoints.listCategories),
      createCategory: (body: { name: string; parentId?: string | null }) => call<Category>(endpoints.createCategory, { body }),
      updateCategory: (id: string, body: { name?: string; parentId?: string | null }) => call<Category>(endpoints.updateCategory, { params: { id }, body }),
      deleteCategory: (id: string) => call<void>(endpoints.deleteCategory, { params: { id } }),
      products: (query: Query, signal?: AbortSignal) => get<Page<Product>>(endpoints.listProducts, { query, signal }),
      product: (id: string) => get<Product>(endpoints.getProduct, { params: { id } }),
      createProduct: (body: ProductInput) => call<Product>(endpoints.createProduct, { body }),
      updateProduct: (id: string, body: ProductPatch) => call<Product>(endpoints.updateProduct, { params: { id }, body }),
      deleteProduct: (id: string) => call<void>(endpoints.deleteProduct, { params: { id } }),
      uploadImage: (id: string, file: File, alt: string) => {
        const form = new FormData();
        form.set('alt', alt);
        form.set('file', file);
        return call<ProductImage>(endpoints.uploadProductImage, { params: { id }, form });
      },
      deleteImage: (id: string, imageId: string) => call<void>(endpoints.deleteProductImage, { params: { id, imageId } }),
    },
    inventory: {
      stock: (variantId: string) => get<StockLevel>(endpoints.getStock, { params: { variantId } }),
      adjust: (body: { variantId: string; delta: number; reason: string; locationId?: string }) => call<StockLevel>(endpoints.adjustStock, { body }),
      transfer: (body: { variantId: string; fromLocationId: string; toLocationId: string; quantity: number; reason?: string }) =>
        call<StockLevel>(endpoints.transferStock, { body }),
      setLowStockThreshold: (variantId: string, lowStockThreshold: number) =>
        call<StockLevel>(endpoints.setLowStockThreshold, { params: { variantId }, body: { lowStockThreshold } }),
      movements: (variantId: string, query: Query) => get<Page<Movement>>(endpoints.listMovements, { params: { variantId }, query }),
      locations: () => get<{ items: Location[] }>(endpoints.listLocations),
      createLocation: (body: { name: string; type: 'warehouse' | 'store'; sellable?: boolean }) => call<Location>(endpoints.createLocation, { body }),
    },
    search: {
      query: (query: Query, signal?: AbortSignal) => get<SearchResult>(endpoints.search, { query, signal }),
      suggest: (prefix: string, signal?: AbortSignal) => get<{ suggestions: Suggestion[] }>(endpoints.suggest, { query: { prefix }, signal }),
    },
    platform: {
      deadLetters: (query: Query) => get<Page<DeadLetter>>(endpoints.listDeadLetters, { query }),
      replay: (id: string) => call<DeadLetter>(endpoints.replayDeadLetter, { params: { id } }),
      auditLog: (query: Query) => get<Page<AuditEntry>>(endpoints.auditLog, { query }),
    },
    cart: {
      get: () => get<Cart>(endpoints.getCart),
      add: (body: { productId: string; variantId?: string; quantity: number }) => call<Cart>(endpoints.addCartItem, { body }),
      update: (itemId: string, quantity: number) => call<Cart>(endpoints.updateCartItem, { params: { itemId }, body: { quantity } }),
      remove: (itemId: string) => call<Cart>(endpoints.removeCartItem, { params: { itemId } }),
      applyCoupon: (code: string) => call<Cart>(endpoints.applyCoupon, { body: { code } }),
      removeCoupon: () => call<Cart>(endpoints.removeCoupon),
    },
    wishlist: {
      get: (query: Query = {}) => get<Page<WishlistItem>>(endpoints.getWishlist, { query }),
      add: (productId: string) => call<unknown>(endpoints.addToWishlist, { body: { productId } }),
      remove: (productId: string) => call<unknown>(endpoints.removeFromWishlist, { params: { productId } }),
    },
    orders: {
      place: (
        body: { items?: { productId: string; variantId?: string; quantity: number }[]; shippingAddress: ShippingAddress; payment: PaymentInput; couponCode?: string },
        idempotencyKey: string,
      ) => call<Order>(endpoints.placeOrder, { body, idempotencyKey }),
      list: (query: Query) => get<Page<Order>>(endpoints.listOrders, { query }),
      /** With `waitWhileStatus`, the server answers when the order leaves that status (or after 20 s). */
      get: (id: string, waitWhileStatus?: string, signal?: AbortSignal) =>
        get<Order>(endpoints.getOrder, { params: { id }, ...(waitWhileStatus ? { query: { waitWhileStatus, waitSeconds: 20 } } : {}), signal }),
      cancel: (id: string, reason?: string) => call<Order>(endpoints.cancelOrder, { params: { id }, body: reason ? { reason } : {} }),
      ship: (id: string, body: { trackingNumber: string; carrier?: string; groupId?: string }) => call<Order>(endpoints.shipOrder, { params: { id }, body }),
      deliver: (id: string, groupId?: string) => call<Order>(endpoints.deliverOrder, { params: { id }, body: groupId ? { groupId } : {} }),
      listAll: (query: Query) => get<Page<Order>>(endpoints.listAllOrders, { query }),
      listForSeller: (query: Query) => get<Page<Order>>(endpoints.listSellerOrders, { query }),
    },
    payments: {
      list: (query: Query) => get<Page<Payment>>(endpoints.listPayments, { query }),
      pay: (orderId: string, payment: PaymentInput, idempotencyKey: string) => call<Payment>(endpoints.payOrder, { body: { orderId, payment }, idempotencyKey }),
      refund: (paymentId: string, body: { amount?: Money; reason: string; toStoreCredit?: boolean }, idempotencyKey: string) =>
        call<unknown>(endpoints.refundPayment, { params: { id: paymentId }, body, idempotencyKey }),
      storeCredit: () => get<{ balance: Money }>(endpoints.storeCredit, { query: { limit: 1 } }),
    },
    promotions: {
      list: (query: Query) => get<Page<Coupon>>(endpoints.listCoupons, { query }),
      create: (body: CouponInput) => call<Coupon>(endpoints.createCoupon, { body }),
      update: (id: string, body: Partial<Pick<Coupon, 'active' | 'startsAt' | 'endsAt' | 'usageLimit' | 'perCustomerLimit' | 'minSubtotal'>>) =>
        call<Coupon>(endpoints.updateCoupon, { params: { id }, body }),
    },
  };
}

export type BazaarApi = ReturnType<typeof createApi>;
