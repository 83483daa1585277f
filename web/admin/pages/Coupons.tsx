import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ApiError, describeError, isMissingEndpoint } from '../../shared/api.ts';
import { formatMoney, moneyInputValue, parseMoneyInput } from '../../shared/money.ts';
import { useApi } from '../../shared/session.tsx';
import type { Coupon, CouponInput, CouponKind } from '../../shared/types.ts';
import { Badge, Button, Card, EmptyState, ErrorNotice, Notice, NotAvailable, SelectField, Skeleton, TextField, formatDate, useDocumentTitle } from '../../shared/ui.tsx';

const CURRENCY = 'USD';

function describeCoupon(c: Coupon): string {
  if (c.kind === 'percentage') return `${c.percentOff}% off`;
  if (c.kind === 'fixed' && c.amountOff) return `${formatMoney(c.amountOff)} off`;
  return 'Free shipping';
}

export default function Coupons() {
  useDocumentTitle('Coupons', 'Bazaar Admin');
  const api = useApi();
  const client = useQueryClient();
  const coupons = useInfiniteQuery({
    queryKey: ['coupons'],
    queryFn: ({ pageParam }) => api.promotions.list({ limit: 25, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    retry: false,
  });
  const toggle = useMutation({
    mutationFn: (c: Coupon) => api.promotions.update(c.id, { active: !c.active }),
    onSuccess: () => client.invalidateQueries({ queryKey: ['coupons'] }),
  });
  const items = coupons.data?.pages.flatMap((p) => p.items) ?? [];
  if (coupons.isError && isMissingEndpoint(coupons.error)) return <NotAvailable what="Coupons" />;
  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>Coupons</h1>
          <p className="muted">Codes shoppers enter in the cart. A seller’s coupons discount its own items only.</p>
        </div>
      </div>
      <NewCoupon />
      {coupons.isPending ? <Skeleton lines={5} /> : null}
      {coupons.isError ? <ErrorNotice error={coupons.error} /> : null}
      {coupons.isSuccess && items.length === 0 ? <EmptyState title="No coupons yet">Create one above.</EmptyState> : null}
      {items.length ? (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Code</th>
                <th scope="col">Discount</th>
                <th scope="col">Valid</th>
                <th scope="col" className="num">
                  Used
                </th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr key={c.id}>
                  <td className="mono">{c.code}</td>
                  <td>
                    {describeCoupon(c)}
                    {c.minSubtotal ? <div className="small muted">orders from {formatMoney(c.minSubtotal)}</div> : null}
                  </td>
                  <td className="small">
                    {c.startsAt || c.endsAt ? `${c.startsAt ? formatDate(c.startsAt) : 'now'} – ${c.endsAt ? formatDate(c.endsAt) : 'open'}` : 'Always'}
                  </td>
                  <td className="num">
                    {c.usedCount}
                    {c.usageLimit ? ` / ${c.usageLimit}` : ''}
                  </td>
                  <td>{c.active ? <Badge tone="success">active</Badge> : <Badge>paused</Badge>}</td>
                  <td>
                    <Button size="sm" variant="secondary" busy={toggle.isPending && toggle.variables?.id === c.id} onClick={() => toggle.mutate(c)}>
                      {c.active ? 'Pause' : 'Resume'}
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {toggle.isError ? <Notice tone="error">{describeError(toggle.error)}</Notice> : null}
      {coupons.hasNextPage ? (
        <Button variant="secondary" busy={coupons.isFetchingNextPage} onClick={() => coupons.fetchNextPage()}>
          More
        </Button>
      ) : null}
    </div>
  );
}

function NewCoupon() {
  const api = useApi();
  const client = useQueryClient();
  const [form, setForm] = useState({ code: '', kind: 'percentage' as CouponKind, value: '', minSubtotal: '', endsAt: '', usageLimit: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const create = useMutation({
    mutationFn: (body: CouponInput) => api.promotions.create(body),
    onSuccess: () => {
      setForm({ code: '', kind: form.kind, value: '', minSubtotal: '', endsAt: '', usageLimit: '' });
      void client.invalidateQueries({ queryKey: ['coupons'] });
    },
    onError: (error) => error instanceof ApiError && setErrors(error.fieldErrors()),
  });
  const set = (key: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setForm({ ...form, [key]: e.target.value });

  function submit(event: FormEvent) {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{2,39}$/.test(form.code.trim())) found.code = '3 to 40 letters, digits, - or _';
    let value: number | undefined;
    if (form.kind === 'percentage') {
      value = Number(form.value);
      if (!/^\d+$/.test(form.value.trim()) || value < 1 || value > 100) found.value = 'A whole percentage from 1 to 100';
    } else if (form.kind === 'fixed') {
      value = parseMoneyInput(form.value, CURRENCY) ?? undefined;
      if (!value) found.value = 'An amount like 5 or 4.99';
    }
    const minSubtotal = form.minSubtotal.trim() ? parseMoneyInput(form.minSubtotal, CURRENCY) : undefined;
    if (minSubtotal === null) found.minSubtotal = 'An amount like 50';
    if (form.usageLimit.trim() && !/^\d+$/.test(form.usageLimit.trim())) found.usageLimit = 'A whole number';
    setErrors(found);
    if (Object.keys(found).length) return;
    create.mutate({
      code: form.code.trim(),
      kind: form.kind,
      ...(value !== undefined ? { value } : {}),
      ...(form.kind === 'fixed' ? { currency: CURRENCY } : {}),
      ...(minSubtotal ? { minSubtotal } : {}),
      ...(form.endsAt ? { endsAt: new Date(`${form.endsAt}T23:59:59`).toISOString() } : {}),
      ...(form.usageLimit.trim() ? { usageLimit: Number(form.usageLimit) } : {}),
    });
  }

  return (
    <Card title="New coupon">
      <form className="coupon-editor" onSubmit={submit} noValidate>
        <TextField label="Code" value={form.code} onChange={(e) => setForm({ ...form, code: e.target.value.toUpperCase() })} error={errors.code} placeholder="SPRING10" />
        <SelectField label="Kind" value={form.kind} onChange={set('kind')}>
          <option value="percentage">Percent off</option>
          <option value="fixed">Amount off</option>
          <option value="free_shipping">Free shipping</option>
        </SelectField>
        {form.kind !== 'free_shipping' ? (
          <TextField label={form.kind === 'percentage' ? 'Percent' : 'Amount (USD)'} inputMode="decimal" value={form.value} onChange={set('value')} error={errors.value} />
        ) : null}
        <TextField label="Minimum order (USD)" inputMode="decimal" value={form.minSubtotal} onChange={set('minSubtotal')} error={errors.minSubtotal} placeholder={moneyInputValue(0, CURRENCY)} />
        <TextField label="Ends on" type="date" value={form.endsAt} onChange={set('endsAt')} error={errors.endsAt} />
        <TextField label="Total uses" inputMode="numeric" value={form.usageLimit} onChange={set('usageLimit')} error={errors.usageLimit} placeholder="unlimited" />
        <div className="coupon-editor-submit">
          <Button type="submit" busy={create.isPending}>
            Create coupon
          </Button>
        </div>
      </form>
      {create.isError ? <ErrorNotice error={create.error} /> : null}
      {create.isSuccess ? <Notice tone="success">Coupon {create.data.code} created.</Notice> : null}
    </Card>
  );
}
