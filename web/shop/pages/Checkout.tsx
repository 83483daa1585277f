import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate } from 'react-router';
import { ApiError, describeError, isMissingEndpoint, newIdempotencyKey } from '../../shared/api.ts';
import { formatMoney } from '../../shared/money.ts';
import { useApi, useSession } from '../../shared/session.tsx';
import type { Address, PaymentInput, ShippingAddress } from '../../shared/types.ts';
import { Button, EmptyState, ErrorNotice, Notice, NotAvailable, Price, Skeleton, TextField, useDocumentTitle } from '../../shared/ui.tsx';
import { useCart } from '../cart.ts';
import { Totals } from './Cart.tsx';

/** Cards of the built-in test gateway, named as the well-known gateway names its test cards. */
export const TEST_CARDS = [
  { token: 'pm_card_visa', label: 'Visa ending 4242' },
  { token: 'pm_card_chargeDeclined', label: 'Visa ending 0002 (test: declined)' },
  { token: 'pm_card_insufficientFunds', label: 'Visa ending 9995 (test: insufficient funds)' },
] as const;

const EMPTY_ADDRESS: ShippingAddress = { name: '', line1: '', city: '', postalCode: '', country: 'US' };

export default function CheckoutPage() {
  useDocumentTitle('Checkout', 'Bazaar');
  const session = useSession();
  if (!session) return <Navigate to="/signin?next=/checkout" replace />;
  return <Checkout />;
}

function Checkout() {
  const api = useApi();
  const client = useQueryClient();
  const navigate = useNavigate();
  const cart = useCart();
  const addresses = useQuery({
    queryKey: ['addresses'],
    queryFn: async () => (await api.users.addresses()).items,
    retry: false,
  });

  const [addressId, setAddressId] = useState<string | 'new'>('new');
  const [address, setAddress] = useState<ShippingAddress>({ ...EMPTY_ADDRESS, name: api.session.get()?.user.name ?? '' });
  const [saveAddress, setSaveAddress] = useState(true);
  const [method, setMethod] = useState<PaymentInput['method']>('card');
  const [card, setCard] = useState<string>(TEST_CARDS[0].token);
  const [errors, setErrors] = useState<Record<string, string>>({});
  // One key per distinct order attempt: a double click or a retry after a timeout cannot order twice.
  const attempt = useRef<{ body: string; key: string } | null>(null);

  useEffect(() => {
    const saved = addresses.data ?? [];
    if (saved.length && addressId === 'new') setAddressId((saved.find((a) => a.isDefault) ?? saved[0]!).id);
  }, [addresses.data]); // eslint-disable-line react-hooks/exhaustive-deps

  const place = useMutation({
    mutationFn: async () => {
      const chosen: ShippingAddress | undefined =
        addressId === 'new' ? address : toInput(addresses.data?.find((a) => a.id === addressId));
      if (!chosen) throw new Error('Choose a delivery address');
      if (addressId === 'new' && saveAddress) {
        await api.users.createAddress({ ...chosen, isDefault: !(addresses.data?.length ?? 0) }).catch(() => undefined);
      }
      const payment: PaymentInput = method === 'card' ? { method: 'card', token: card } : { method };
      const body = { shippingAddress: chosen, payment };
      const text = JSON.stringify(body);
      if (attempt.current?.body !== text) attempt.current = { body: text, key: newIdempotencyKey() };
      return api.orders.place(body, attempt.current.key);
    },
    onSuccess: (order) => {
      void client.invalidateQueries({ queryKey: ['cart'] });
      void client.invalidateQueries({ queryKey: ['orders'] });
      client.setQueryData(['order', order.id], order);
      navigate(`/account/orders/${encodeURIComponent(order.id)}?placed=1`);
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    if (addressId === 'new') {
      const missing: Record<string, string> = {};
      if (!address.name.trim()) missing.name = 'Enter the recipient’s name';
      if (!address.line1.trim()) missing.line1 = 'Enter the street address';
      if (!address.city.trim()) missing.city = 'Enter the city';
      if (!address.postalCode.trim()) missing.postalCode = 'Enter the postal code';
      if (!/^[A-Za-z]{2}$/.test(address.country.trim())) missing.country = 'Use a two-letter country code, like US or DE';
      setErrors(missing);
      if (Object.keys(missing).length) return;
    }
    place.mutate();
  }

  if (cart.isPending && cart.fetchStatus !== 'idle') return <div className="container page"><Skeleton lines={6} /></div>;
  if (cart.isError) {
    return <div className="container page">{isMissingEndpoint(cart.error) ? <NotAvailable what="Checkout" /> : <ErrorNotice error={cart.error} />}</div>;
  }
  if (!cart.data || cart.data.items.length === 0) {
    return (
      <div className="container page">
        <EmptyState title="Your cart is empty" action={<Link to="/search" className="btn btn-primary">Start shopping</Link>} />
      </div>
    );
  }

  const set = (key: keyof ShippingAddress) => (e: React.ChangeEvent<HTMLInputElement>) => setAddress({ ...address, [key]: e.target.value });
  const saved = addresses.data ?? [];
  return (
    <div className="container page">
      <h1>Checkout</h1>
      <form className="checkout-layout" onSubmit={submit} noValidate>
        <div className="stack">
          <fieldset className="card">
            <legend>Delivery address</legend>
            <div className="form">
              {saved.length ? (
                <div className="choices" role="radiogroup" aria-label="Saved addresses">
                  {saved.map((a) => (
                    <label key={a.id} className="choice">
                      <input type="radio" name="address" value={a.id} checked={addressId === a.id} onChange={() => setAddressId(a.id)} />
                      <span>
                        <strong>{a.name}</strong>
                        <br />
                        <span className="small muted">
                          {a.line1}, {a.postalCode} {a.city}, {a.country}
                        </span>
                      </span>
                    </label>
                  ))}
                  <label className="choice">
                    <input type="radio" name="address" value="new" checked={addressId === 'new'} onChange={() => setAddressId('new')} />
                    <span>A new address</span>
                  </label>
                </div>
              ) : null}
              {addressId === 'new' ? (
                <>
                  <TextField label="Full name" autoComplete="shipping name" value={address.name} onChange={set('name')} error={errors.name} />
                  <TextField label="Street address" autoComplete="shipping address-line1" value={address.line1} onChange={set('line1')} error={errors.line1} />
                  <div className="form-row">
                    <TextField label="Postal code" autoComplete="shipping postal-code" value={address.postalCode} onChange={set('postalCode')} error={errors.postalCode} />
                    <TextField label="City" autoComplete="shipping address-level2" value={address.city} onChange={set('city')} error={errors.city} />
                    <TextField label="Country" hint="Two letters, e.g. US" autoComplete="shipping country" maxLength={2} value={address.country} onChange={(e) => setAddress({ ...address, country: e.target.value.toUpperCase() })} error={errors.country} />
                  </div>
                  {!addresses.isError ? (
                    <label className="checkbox">
                      <input type="checkbox" checked={saveAddress} onChange={(e) => setSaveAddress(e.target.checked)} /> Save this address for next time
                    </label>
                  ) : null}
                </>
              ) : null}
            </div>
          </fieldset>

          <fieldset className="card">
            <legend>Payment</legend>
            <div className="choices" role="radiogroup" aria-label="Payment method">
              <label className="choice">
                <input type="radio" name="payment" value="card" checked={method === 'card'} onChange={() => setMethod('card')} />
                <span>
                  <strong>Card</strong>
                  <br />
                  <span className="small muted">Charged when the order is confirmed</span>
                </span>
              </label>
              {method === 'card' ? (
                <div className="choice-detail">
                  <label className="label" htmlFor="card">
                    Card
                  </label>
                  <select id="card" className="input" value={card} onChange={(e) => setCard(e.target.value)}>
                    {TEST_CARDS.map((c) => (
                      <option key={c.token} value={c.token}>
                        {c.label}
                      </option>
                    ))}
                  </select>
                  <p className="field-hint">This store runs on the test payment gateway: no real money moves.</p>
                </div>
              ) : null}
              <label className="choice">
                <input type="radio" name="payment" value="cod" checked={method === 'cod'} onChange={() => setMethod('cod')} />
                <span>
                  <strong>Cash on delivery</strong>
                  <br />
                  <span className="small muted">Pay the courier when your parcel arrives</span>
                </span>
              </label>
              <label className="choice">
                <input type="radio" name="payment" value="store_credit" checked={method === 'store_credit'} onChange={() => setMethod('store_credit')} />
                <span>
                  <strong>Store credit</strong>
                  <br />
                  <StoreCreditBalance />
                </span>
              </label>
            </div>
          </fieldset>
        </div>

        <aside className="card order-summary" aria-label="Order summary">
          <h2>Your order</h2>
          <ul className="summary-lines">
            {cart.data.items.map((item) => (
              <li key={item.id}>
                <span>
                  {item.quantity} × {item.name}
                </span>
                <Price money={item.lineTotal} />
              </li>
            ))}
          </ul>
          <Totals cart={cart.data} />
          {place.isError ? <PlaceOrderError error={place.error} /> : null}
          <Button type="submit" size="lg" className="btn-block" busy={place.isPending}>
            Place order · {formatMoney(cart.data.total)}
          </Button>
        </aside>
      </form>
    </div>
  );
}

function StoreCreditBalance() {
  const api = useApi();
  const credit = useQuery({ queryKey: ['store-credit'], queryFn: () => api.payments.storeCredit(), retry: false });
  if (credit.data) return <span className="small muted">Balance: {formatMoney(credit.data.balance)}</span>;
  return <span className="small muted">Use the balance from refunds and gift cards</span>;
}

function PlaceOrderError({ error }: { error: unknown }) {
  if (isMissingEndpoint(error)) return <Notice tone="warning" title="Ordering is not available yet">This server does not take orders yet.</Notice>;
  if (error instanceof ApiError && error.kind === 'insufficient-stock') {
    return (
      <Notice tone="error" title="Some items just sold out">
        Reduce the quantities in <Link to="/cart">your cart</Link> and try again.
      </Notice>
    );
  }
  return <Notice tone="error" title="We could not place your order">{describeError(error)}</Notice>;
}

/** A saved address as an order's shipping address: its empty optional parts left out, not sent as null. */
function toInput(address: Address | undefined): ShippingAddress | undefined {
  if (!address) return undefined;
  const { name, line1, line2, city, region, postalCode, country, phone } = address;
  return { name, line1, ...(line2 ? { line2 } : {}), city, ...(region ? { region } : {}), postalCode, country, ...(phone ? { phone } : {}) };
}
