import { useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useEffect, useRef, useState, type ReactNode } from 'react';
import { Navigate, NavLink, Route, Routes, useLocation } from 'react-router';
import type { Permission } from '../../src/kernel/auth/permissions.ts';
import { useApi, useCan, useSession } from '../shared/session.tsx';
import { Button, Spinner } from '../shared/ui.tsx';
import { SignIn } from './pages/SignIn.tsx';
import { roleLabel } from './roles.ts';

const Dashboard = lazy(() => import('./pages/Dashboard.tsx'));
const Products = lazy(() => import('./pages/Products.tsx'));
const ProductEdit = lazy(() => import('./pages/ProductEdit.tsx'));
const Categories = lazy(() => import('./pages/Categories.tsx'));
const Inventory = lazy(() => import('./pages/Inventory.tsx'));
const Orders = lazy(() => import('./pages/Orders.tsx'));
const OrderDetail = lazy(() => import('./pages/OrderDetail.tsx'));
const Users = lazy(() => import('./pages/Users.tsx'));
const Coupons = lazy(() => import('./pages/Coupons.tsx'));
const DeadLetters = lazy(() => import('./pages/DeadLetters.tsx'));
const AuditLog = lazy(() => import('./pages/AuditLog.tsx'));

interface Section {
  to: string;
  label: string;
  /** Shown when the signed-in roles hold one of these (the server enforces the same table). */
  anyOf: Permission[];
  element: ReactNode;
  icon: string;
}

const SECTIONS: Section[] = [
  { to: '/products', label: 'Products', anyOf: ['catalog:write-own-products'], element: <Products />, icon: 'M4 7l8-4 8 4v10l-8 4-8-4z M4 7l8 4 8-4 M12 11v10' },
  { to: '/categories', label: 'Categories', anyOf: ['catalog:manage-categories'], element: <Categories />, icon: 'M4 5h6v6H4z M14 5h6v6h-6z M4 15h6v6H4z M14 15h6v6h-6z' },
  { to: '/inventory', label: 'Inventory', anyOf: ['inventory:read'], element: <Inventory />, icon: 'M3 9l9-6 9 6v12H3z M8 21v-7h8v7' },
  { to: '/orders', label: 'Orders', anyOf: ['orders:read-any', 'orders:read-own-groups'], element: <Orders />, icon: 'M6 3h12l2 4v14H4V7z M4 7h16 M9 11h6' },
  { to: '/coupons', label: 'Coupons', anyOf: ['promotions:manage'], element: <Coupons />, icon: 'M3 8a2 2 0 0 0 0 4v5h18v-5a2 2 0 0 0 0-4V3H3z M14 3v18' },
  { to: '/users', label: 'Users & roles', anyOf: ['users:read-any'], element: <Users />, icon: 'M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z M2 21a7 7 0 0 1 14 0 M17 11a3 3 0 1 0 0-6 M22 21a6 6 0 0 0-4-5.6' },
  { to: '/dead-letters', label: 'Dead letters', anyOf: ['events:manage'], element: <DeadLetters />, icon: 'M3 5h18v14H3z M3 5l9 7 9-7' },
  { to: '/audit-log', label: 'Audit log', anyOf: ['audit:read'], element: <AuditLog />, icon: 'M6 3h9l5 5v13H6z M14 3v6h6 M9 13h8 M9 17h8' },
];

export function App() {
  const session = useSession();
  if (!session) return <SignIn />;
  if (session.user.roles.every((r) => r === 'customer')) return <NoAccess />;
  return <Shell />;
}

function Shell() {
  const session = useSession()!;
  const can = useCan();
  const api = useApi();
  const client = useQueryClient();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const main = useRef<HTMLElement>(null);
  const visible = SECTIONS.filter((s) => s.anyOf.some(can));

  useEffect(() => {
    setMenuOpen(false);
    main.current?.focus({ preventScroll: true });
  }, [location.pathname]);

  return (
    <div className="admin">
      <a className="skip-link" href="#admin-main">
        Skip to content
      </a>
      <header className="admin-topbar">
        <button type="button" className="btn btn-ghost nav-toggle" aria-expanded={menuOpen} aria-controls="admin-nav" onClick={() => setMenuOpen(!menuOpen)}>
          <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round">
            <path d="M4 7h16M4 12h16M4 17h16" />
          </svg>
          <span className="visually-hidden">Menu</span>
        </button>
        <NavLink to="/" className="admin-brand">
          Bazaar <span>{session.user.roles.includes('admin') ? 'Admin' : session.user.roles.includes('seller') ? 'Seller center' : 'Back office'}</span>
        </NavLink>
        <div className="admin-user">
          <span className="admin-user-name">
            {session.user.name}
            <span className="admin-user-roles">{session.user.roles.map(roleLabel).join(', ')}</span>
          </span>
          <Button
            variant="secondary"
            size="sm"
            onClick={async () => {
              await api.auth.logout();
              client.clear();
            }}
          >
            Sign out
          </Button>
        </div>
      </header>
      <div className="admin-body">
        <nav id="admin-nav" className={menuOpen ? 'admin-nav open' : 'admin-nav'} aria-label="Sections">
          <ul>
            <li>
              <NavLink to="/" end>
                <NavIcon d="M3 12l9-8 9 8 M5 10v10h14V10" /> Dashboard
              </NavLink>
            </li>
            {visible.map((s) => (
              <li key={s.to}>
                <NavLink to={s.to}>
                  <NavIcon d={s.icon} /> {s.label}
                </NavLink>
              </li>
            ))}
          </ul>
          <p className="admin-nav-foot">
            <a href="/">View storefront ↗</a>
          </p>
        </nav>
        <main id="admin-main" ref={main} tabIndex={-1} className="admin-main">
          <Suspense fallback={<Spinner />}>
            <Routes>
              <Route path="/" element={<Dashboard />} />
              {visible.map((s) => (
                <Route key={s.to} path={s.to} element={s.element} />
              ))}
              {can('catalog:write-own-products') ? (
                <>
                  <Route path="/products/new" element={<ProductEdit />} />
                  <Route path="/products/:id" element={<ProductEdit />} />
                </>
              ) : null}
              {visible.some((s) => s.to === '/orders') ? <Route path="/orders/:id" element={<OrderDetail />} /> : null}
              <Route path="/signin" element={<Navigate to="/" replace />} />
              <Route path="*" element={<NotFound />} />
            </Routes>
          </Suspense>
        </main>
      </div>
    </div>
  );
}

function NavIcon({ d }: { d: string }) {
  return (
    <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round">
      <path d={d} />
    </svg>
  );
}

function NotFound() {
  return (
    <div className="empty">
      <p className="empty-title">This page does not exist, or your role cannot open it</p>
      <NavLink to="/">Back to the dashboard</NavLink>
    </div>
  );
}

function NoAccess() {
  const api = useApi();
  const session = useSession();
  return (
    <div className="admin-auth">
      <div className="card auth-card">
        <h1>No access</h1>
        <p>
          {session?.user.email} is a customer account. The admin portal is for sellers, staff and admins.
        </p>
        <div className="row">
          <a className="btn btn-primary" href="/">
            Go to the storefront
          </a>
          <Button variant="secondary" onClick={() => api.auth.logout()}>
            Sign in as someone else
          </Button>
        </div>
      </div>
    </div>
  );
}
