import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { ApiError, describeError } from '../../shared/api.ts';
import { useApi } from '../../shared/session.tsx';
import { Button, Notice, TextField, useDocumentTitle } from '../../shared/ui.tsx';
import { safeNext } from './SignIn.tsx';

const ADMIN_SESSION_KEY = 'bazaar.admin.session';

export default function SignUpPage() {
  useDocumentTitle('Create an account', 'Bazaar');
  const api = useApi();
  const client = useQueryClient();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [form, setForm] = useState({ name: '', email: '', password: '', storeName: '' });
  const [seller, setSeller] = useState(params.has('seller'));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const local: Record<string, string> = {};
    if (!form.name.trim()) local.name = 'Tell us your name';
    if (!/^\S+@\S+\.\S+$/.test(form.email.trim())) local.email = 'Enter an email address like name@example.com';
    if (form.password.length < 8 || !/\p{L}/u.test(form.password) || !/\d/.test(form.password)) local.password = 'Use at least 8 characters, with a letter and a digit';
    setErrors(local);
    if (Object.keys(local).length) return;
    setBusy(true);
    setError(null);
    try {
      if (seller) {
        await api.auth.signup({ name: form.name.trim(), email: form.email.trim(), password: form.password, role: 'seller', storeName: form.storeName.trim() || form.name.trim() });
        // A new seller works in the seller center: the session moves there (each app keeps its own).
        const session = api.session.get();
        api.session.set(null);
        localStorage.setItem(ADMIN_SESSION_KEY, JSON.stringify(session));
        window.location.assign('/admin/');
        return;
      }
      await api.auth.signup({ name: form.name.trim(), email: form.email.trim(), password: form.password });
      navigate(next, { replace: true });
      void client.invalidateQueries();
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) setErrors({ email: 'An account with this email already exists. Sign in instead?' });
      else if (e instanceof ApiError && e.status === 400) {
        const fields = e.fieldErrors();
        setErrors({ name: fields.name ?? '', email: fields.email ?? '', password: fields.password ?? (e.kind.includes('password') ? e.message : '') });
        if (!fields.name && !fields.email && !fields.password && !e.kind.includes('password')) setError(e.message);
      } else setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  const set = (key: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [key]: e.target.value });
  return (
    <div className="container page auth-page">
      <div className="card auth-card">
        <h1>Create your account</h1>
        <p className="muted">Track orders, save favourites, check out faster.</p>
        <form className="form" onSubmit={submit} noValidate>
          {error ? <Notice tone="error">{error}</Notice> : null}
          <TextField label="Full name" name="name" autoComplete="name" required value={form.name} onChange={set('name')} error={errors.name || null} />
          <TextField label="Email" type="email" name="email" autoComplete="email" required value={form.email} onChange={set('email')} error={errors.email || null} />
          <TextField
            label="Password"
            type="password"
            name="password"
            autoComplete="new-password"
            required
            value={form.password}
            onChange={set('password')}
            hint="At least 8 characters, with a letter and a digit."
            error={errors.password || null}
          />
          <label className="checkbox">
            <input type="checkbox" checked={seller} onChange={(e) => setSeller(e.target.checked)} /> I want to sell on Bazaar
          </label>
          {seller ? <TextField label="Store name" name="storeName" value={form.storeName} onChange={set('storeName')} hint="Shown to shoppers on your products" maxLength={100} /> : null}
          <Button type="submit" size="lg" busy={busy} className="btn-block">
            {seller ? 'Create seller account' : 'Create account'}
          </Button>
        </form>
        <p className="auth-switch">
          Already have an account? <Link to={`/signin${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`}>Sign in</Link>
        </p>
      </div>
    </div>
  );
}
