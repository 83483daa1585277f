import { useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useEffect, useRef, useState } from 'react';
import { Link, NavLink, Route, Routes, useLocation, useNavigate } from 'react-router';
import { useApi, useSession } from '../shared/session.tsx';
import { Spinner } from '../shared/ui.tsx';
import { categoryPath, useCategories } from './catalog.ts';
import { SearchBox } from './components/SearchBox.tsx';
import { useCart } from './cart.ts';
import { Home } from './pages/Home.tsx';

// The home page ships in the first bundle; every other page is fetched when first visited.
const SearchPage = lazy(() => import('./pages/Search.tsx'));
const CategoryPage = lazy(() => import('./pages/Category.tsx'));
const ProductPage = lazy(() => import('./pages/Product.tsx'));
const CartPage = lazy(() => import('./pages/Cart.tsx'));
const CheckoutPage = lazy(() => import('./pages/Checkout.tsx'));
const SignInPage = lazy(() => import('./pages/SignIn.tsx'));
const SignUpPage = lazy(() => import('./pages/SignUp.tsx'));
const OrdersPage = lazy(() => import('./pages/Orders.tsx'));
const OrderPage = lazy(() => import('./pages/Order.tsx'));
const WishlistPage = lazy(() => import('./pages/Wishlist.tsx'));
const NotFoundPage = lazy(() => import('./pages/NotFound.tsx'));

export function App() {
  const { pathname } = useLocation();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // A client-side navigation is a new page: start at the top, and move focus to the content so a
  // screen reader announces it (the first load keeps the browser's own focus).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    window.scrollTo(0, 0);
    main.current?.focus({ preventScroll: true });
  }, [pathname]);

  return (
    <div className="shop">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" ref={main} tabIndex={-1} className="shop-main">
        <Suspense
          fallback={
            <div className="container page">
              <Spinner />
            </div>
          }
        >
          <Routes>
            <Route path="/" element={<Home />} />
            <Route path="/search" element={<SearchPage />} />
            <Route path="/c/:slug" element={<CategoryPage />} />
            <Route path="/p/:id" element={<ProductPage />} />
            <Route path="/cart" element={<CartPage />} />
            <Route path="/checkout" element={<CheckoutPage />} />
            <Route path="/signin" element={<SignInPage />} />
            <Route path="/signup" element={<SignUpPage />} />
            <Route path="/account/orders" element={<OrdersPage />} />
            <Route path="/account/orders/:id" element={<OrderPage />} />
            <Route path="/wishlist" element={<WishlistPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        </Suspense>
      </main>
      <Footer />
    </div>
  );
}

function Header() {
  const session = useSession();
  const categories = useCategories();
  return (
    <header className="site-header">
      <div className="container header-bar">
        <Link to="/" className="logo" aria-label="Bazaar home">
          <svg viewBox="0 0 64 64" width="28" height="28" aria-hidden="true">
            <rect width="64" height="64" rx="14" fill="currentColor" />
            <path d="M18 24h28l-3 22a4 4 0 0 1-4 3.5H25a4 4 0 0 1-4-3.5z" fill="#fff" />
            <path d="M25 24v-3a7 7 0 0 1 14 0v3" fill="none" stroke="#fff" strokeWidth="4" strokeLinecap="round" />
          </svg>
          <span>Bazaar</span>
        </Link>
        <div className="header-search">
          <SearchBox />
        </div>
        <nav className="header-actions" aria-label="Account">
          {session ? <AccountMenu name={session.user.name} /> : <Link to="/signin" className="header-link">Sign in</Link>}
          <Link to="/wishlist" className="header-link hide-narrow">
            Wishlist
          </Link>
          <CartLink />
        </nav>
      </div>
      {categories.data && categories.data.items.length > 0 ? (
        <nav className="category-strip" aria-label="Categories">
          <ul className="container">
            {categories.data.items.map((category) => (
              <li key={category.id}>
                <NavLink to={categoryPath(category)}>{category.name}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
    </header>
  );
}

function CartLink() {
  const cart = useCart();
  const count = cart.data?.items.reduce((sum, item) => sum + item.quantity, 0) ?? 0;
  return (
    <Link to="/cart" className="header-link cart-link" aria-label={count ? `Cart, ${count} item${count === 1 ? '' : 's'}` : 'Cart'}>
      <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
        <circle cx="9" cy="20" r="1.5" />
        <circle cx="18" cy="20" r="1.5" />
        <path d="M2 3h3l2.6 12.4a2 2 0 0 0 2 1.6h8.2a2 2 0 0 0 2-1.5L22 7H6" />
      </svg>
      <span className="hide-narrow">Cart</span>
      {count > 0 ? (
        <span className="cart-count" data-testid="cart-count">
          {count}
        </span>
      ) : null}
    </Link>
  );
}

function AccountMenu({ name }: { name: string }) {
  const api = useApi();
  const client = useQueryClient();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const { pathname } = useLocation();
  useEffect(() => setOpen(false), [pathname]);
  useEffect(() => {
    if (!open) return;
    const close = (event: MouseEvent | KeyboardEvent) => {
      if (event instanceof KeyboardEvent ? event.key === 'Escape' : !ref.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);
  return (
    <div className="menu" ref={ref}>
      <button type="button" className="header-link menu-button" aria-expanded={open} aria-haspopup="true" onClick={() => setOpen(!open)}>
        <span className="avatar" aria-hidden="true">
          {name.slice(0, 1).toUpperCase()}
        </span>
        <span className="hide-narrow">{name.split(' ')[0]}</span>
      </button>
      {open ? (
        <ul className="menu-list">
          <li>
            <Link to="/account/orders">Orders</Link>
          </li>
          <li>
            <Link to="/wishlist">Wishlist</Link>
          </li>
          <li>
            <button
              type="button"
              onClick={async () => {
                await api.auth.logout();
                client.clear();
                navigate('/');
              }}
            >
              Sign out
            </button>
          </li>
        </ul>
      ) : null}
    </div>
  );
}

function Footer() {
  return (
    <footer className="site-footer">
      <div className="container footer-grid">
        <div>
          <p className="footer-brand">Bazaar</p>
          <p className="muted small">Independent sellers, one checkout. Open source.</p>
        </div>
        <nav aria-label="Footer">
          <ul>
            <li>
              <Link to="/search">All products</Link>
            </li>
            <li>
              <Link to="/account/orders">Your orders</Link>
            </li>
            <li>
              <a href="/admin/">Seller center</a>
            </li>
            <li>
              <a href="/docs">API</a>
            </li>
          </ul>
        </nav>
      </div>
    </footer>
  );
}
