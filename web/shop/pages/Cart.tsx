import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { ApiError, describeError, isMissingEndpoint } from '../../shared/api.ts';
import { useApi, useSession } from '../../shared/session.tsx';
import type { Cart, CartItem } from '../../shared/types.ts';
import { Button, EmptyState, ErrorNotice, ImageBox, Notice, NotAvailable, Price, Skeleton, TextField, useDocumentTitle } from '../../shared/ui.tsx';
import { useCart, useCartMutation } from '../cart.ts';
import { imageUrl, productPath } from '../catalog.ts';

export default function CartPage() {
  useDocumentTitle('Your cart', 'Bazaar');
  const cart = useCart();
  const session = useSession();
  const navigate = useNavigate();

  let body;
  if (cart.fetchStatus === 'idle' && cart.isPending) {
    body = <EmptyCart />;
  } else if (cart.isPending) {
    body = <Skeleton lines={5} />;
  } else if (cart.isError) {
    body = isMissingEndpoint(cart.error) ? <NotAvailable what="The cart" /> : <ErrorNotice error={cart.error} />;
  } else if (cart.data.items.length === 0) {
    body = <EmptyCart />;
  } else {
    const data = cart.data;
    body = (
      <div className="cart-layout">
        <ul className="cart-lines" aria-label="Items in your cart">
          {data.items.map((item) => (
            <CartLine key={item.id} item={item} />
          ))}
        </ul>
        <aside className="card order-summary" aria-label="Order summary">
          <h2>Order summary</h2>
          <Totals cart={data} />
          <CouponForm cart={data} />
          <Button size="lg" className="btn-block" onClick={() => navigate(session ? '/checkout' : '/signin?next=/checkout')}>
            {session ? 'Check out' : 'Sign in to check out'}
          </Button>
          {!session ? (
            <p className="small muted center">
              New here? <Link to="/signup?next=/checkout">Create an account</Link> — your cart comes with you.
            </p>
          ) : null}
        </aside>
      </div>
    );
  }
  return (
    <div className="container page">
      <h1>Your cart</h1>
      {body}
    </div>
  );
}

function EmptyCart() {
  return (
    <EmptyState title="Your cart is empty" action={<Link to="/search" className="btn btn-primary">Start shopping</Link>}>
      Find something you love and it will wait for you here.
    </EmptyState>
  );
}

export function Totals({ cart }: { cart: Pick<Cart, 'subtotal' | 'discount' | 'total'> & { shipping?: Cart['total'] } }) {
  return (
    <dl className="totals">
      <dt>Subtotal</dt>
      <dd>
        <Price money={cart.subtotal} />
      </dd>
      {cart.discount && cart.discount.amount > 0 ? (
        <>
          <dt>Discount</dt>
          <dd className="discount">
            −<Price money={cart.discount} />
          </dd>
        </>
      ) : null}
      {cart.shipping ? (
        <>
          <dt>Shipping</dt>
          <dd>{cart.shipping.amount === 0 ? 'Free' : <Price money={cart.shipping} />}</dd>
        </>
      ) : null}
      <dt className="total">Total</dt>
      <dd className="total" data-testid="cart-total">
        <Price money={cart.total} />
      </dd>
    </dl>
  );
}

function CartLine({ item }: { item: CartItem }) {
  const api = useApi();
  const update = useCartMutation((quantity: number) => api.cart.update(item.id, quantity));
  const remove = useCartMutation(() => api.cart.remove(item.id));
  const options = Object.values(item.options ?? {}).join(' · ');
  const max = Math.max(item.quantity, Math.min(20, item.available ?? 20));
  return (
    <li className="cart-line">
      <Link to={productPath(item.productId)} className="cart-line-image" tabIndex={-1} aria-hidden="true">
        <ImageBox src={imageUrl(item.image)} alt="" name={item.name} />
      </Link>
      <div className="cart-line-info">
        <Link to={productPath(item.productId)} className="cart-line-name">
          {item.name}
        </Link>
        {options ? <p className="small muted">{options}</p> : null}
        {item.unavailable ? <p className="small danger-text">No longer available: it will not be ordered.</p> : null}
        {item.priceChanged && item.previousUnitPrice ? (
          <p className="small warning-text">
            Price changed from <Price money={item.previousUnitPrice} />
          </p>
        ) : null}
        <p className="small muted">
          <Price money={item.unitPrice} /> each
        </p>
        <div className="row">
          <label className="visually-hidden" htmlFor={`qty-${item.id}`}>
            Quantity of {item.name}
          </label>
          <select id={`qty-${item.id}`} className="input qty-select" value={item.quantity} disabled={update.isPending} onChange={(e) => update.mutate(Number(e.target.value))}>
            {Array.from({ length: max }, (_, i) => (
              <option key={i + 1} value={i + 1}>
                {i + 1}
              </option>
            ))}
          </select>
          <Button variant="ghost" size="sm" busy={remove.isPending} onClick={() => remove.mutate(undefined)} aria-label={`Remove ${item.name}`}>
            Remove
          </Button>
        </div>
        {update.isError || remove.isError ? (
          <Notice tone="error">
            {update.error instanceof ApiError && update.error.kind === 'insufficient-stock' ? 'Not enough stock for that quantity.' : describeError(update.error ?? remove.error)}
          </Notice>
        ) : null}
      </div>
      <p className="cart-line-total">
        <Price money={item.lineTotal} />
      </p>
    </li>
  );
}

function CouponForm({ cart }: { cart: Cart }) {
  const api = useApi();
  const [code, setCode] = useState('');
  const apply = useCartMutation((value: string) => api.cart.applyCoupon(value));
  const remove = useCartMutation(() => api.cart.removeCoupon());
  const coupon = cart.coupon;

  if (coupon) {
    return (
      <div className={coupon.valid ? 'coupon-applied' : 'coupon-applied coupon-invalid'}>
        <span>
          Coupon <strong>{coupon.code}</strong> {coupon.valid ? 'applied' : `does not apply${coupon.detail ? `: ${coupon.detail}` : ''}`}
        </span>
        <Button variant="ghost" size="sm" busy={remove.isPending} onClick={() => remove.mutate(undefined)}>
          Remove
        </Button>
      </div>
    );
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (code.trim()) apply.mutate(code.trim());
  };
  return (
    <form className="coupon-form" onSubmit={submit}>
      <TextField label="Coupon code" value={code} onChange={(e) => setCode(e.target.value.toUpperCase())} autoComplete="off" error={apply.isError && !isMissingEndpoint(apply.error) ? describeError(apply.error) : null} />
      <Button type="submit" variant="secondary" busy={apply.isPending}>
        Apply
      </Button>
      {apply.isError && isMissingEndpoint(apply.error) ? <p className="small muted">Coupons are not available yet.</p> : null}
    </form>
  );
}
