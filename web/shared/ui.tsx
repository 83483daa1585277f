import {
  useEffect,
  useId,
  useState,
  type ButtonHTMLAttributes,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from 'react';
import { describeError, isMissingEndpoint } from './api.ts';
import { formatMoney, type Money } from './money.ts';

/** The small design system both apps are built from. Styles live in styles.css. */

type ButtonVariant = 'primary' | 'secondary' | 'ghost' | 'danger';

export function Button({
  variant = 'primary',
  size,
  busy,
  children,
  className,
  disabled,
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: ButtonVariant; size?: 'sm' | 'lg'; busy?: boolean }) {
  return (
    <button
      type="button"
      {...rest}
      className={cx('btn', `btn-${variant}`, size && `btn-${size}`, className)}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
    >
      {busy ? <span className="spinner" aria-hidden="true" /> : null}
      {children}
    </button>
  );
}

interface FieldChrome {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | null;
  /** Visually hide the label (it stays for screen readers). */
  hideLabel?: boolean;
}

function FieldFrame({ id, label, hint, error, hideLabel, children, className }: FieldChrome & { id: string; children: ReactNode; className?: string }) {
  return (
    <div className={cx('field', error && 'field-invalid', className)}>
      <label htmlFor={id} className={hideLabel ? 'visually-hidden' : undefined}>
        {label}
      </label>
      {children}
      {hint && !error ? (
        <p className="field-hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function describedBy(id: string, chrome: FieldChrome) {
  return chrome.error ? `${id}-error` : chrome.hint ? `${id}-hint` : undefined;
}

export function TextField({ label, hint, error, hideLabel, className, id: givenId, ...input }: FieldChrome & InputHTMLAttributes<HTMLInputElement>) {
  const autoId = useId();
  const id = givenId ?? autoId;
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error} hideLabel={hideLabel} className={className}>
      <input id={id} className="input" aria-invalid={error ? true : undefined} aria-describedby={describedBy(id, { label, hint, error })} {...input} />
    </FieldFrame>
  );
}

export function SelectField({
  label,
  hint,
  error,
  hideLabel,
  className,
  children,
  id: givenId,
  ...select
}: FieldChrome & SelectHTMLAttributes<HTMLSelectElement>) {
  const autoId = useId();
  const id = givenId ?? autoId;
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error} hideLabel={hideLabel} className={className}>
      <select id={id} className="input" aria-invalid={error ? true : undefined} aria-describedby={describedBy(id, { label, hint, error })} {...select}>
        {children}
      </select>
    </FieldFrame>
  );
}

export function TextAreaField({ label, hint, error, hideLabel, className, id: givenId, ...area }: FieldChrome & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const autoId = useId();
  const id = givenId ?? autoId;
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error} hideLabel={hideLabel} className={className}>
      <textarea id={id} className="input" aria-invalid={error ? true : undefined} aria-describedby={describedBy(id, { label, hint, error })} {...area} />
    </FieldFrame>
  );
}

export function Card({ title, actions, children, className }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <section className={cx('card', className)}>
      {title || actions ? (
        <header className="card-header">
          {title ? <h2 className="card-title">{title}</h2> : <span />}
          {actions}
        </header>
      ) : null}
      {children}
    </section>
  );
}

export function Notice({ tone = 'info', title, children }: { tone?: 'info' | 'error' | 'success' | 'warning'; title?: ReactNode; children?: ReactNode }) {
  return (
    <div className={cx('notice', `notice-${tone}`)} role={tone === 'error' ? 'alert' : 'status'}>
      {title ? <strong className="notice-title">{title}</strong> : null}
      {children ? <div>{children}</div> : null}
    </div>
  );
}

/** An error from a query or mutation, with the "not built yet" case told apart from a real failure. */
export function ErrorNotice({ error, what }: { error: unknown; what?: string }) {
  if (isMissingEndpoint(error)) return <NotAvailable what={what} />;
  return <Notice tone="error" title="That did not work">{describeError(error)}</Notice>;
}

export function NotAvailable({ what = 'This feature' }: { what?: string }) {
  return (
    <div className="empty" role="status">
      <p className="empty-title">{what} is not available yet</p>
      <p className="muted">This server does not offer it yet. Everything else keeps working.</p>
    </div>
  );
}

export function EmptyState({ title, children, action }: { title: ReactNode; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children ? <div className="muted">{children}</div> : null}
      {action ? <div className="empty-action">{action}</div> : null}
    </div>
  );
}

export function Badge({ tone = 'neutral', children }: { tone?: 'neutral' | 'success' | 'warning' | 'danger' | 'info'; children: ReactNode }) {
  return <span className={cx('badge', `badge-${tone}`)}>{children}</span>;
}

export function Price({ money, className }: { money: Money | null | undefined; className?: string }) {
  return <span className={cx('price', className)}>{formatMoney(money)}</span>;
}

export function Stars({ average, count, compact }: { average: number | null | undefined; count?: number; compact?: boolean }) {
  if (!count || average === null || average === undefined) {
    return compact ? null : <span className="stars muted">No reviews yet</span>;
  }
  const rounded = Math.round(average * 2) / 2;
  const label = `Rated ${average.toFixed(1)} out of 5${count !== undefined ? ` from ${count} review${count === 1 ? '' : 's'}` : ''}`;
  return (
    <span className="stars" role="img" aria-label={label} title={label}>
      <span className="stars-track" aria-hidden="true">
        <span className="stars-fill" style={{ width: `${(rounded / 5) * 100}%` }}>
          ★★★★★
        </span>
        ★★★★★
      </span>
      <span className="stars-count" aria-hidden="true">
        {average.toFixed(1)}
        {count !== undefined ? ` (${count})` : ''}
      </span>
    </span>
  );
}

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return (
    <span className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      <span className="visually-hidden">{label}</span>
    </span>
  );
}

export function Skeleton({ lines = 3 }: { lines?: number }) {
  return (
    <div className="skeleton-block" aria-hidden="true">
      {Array.from({ length: lines }, (_, i) => (
        <div key={i} className="skeleton" style={{ width: `${90 - i * 12}%` }} />
      ))}
    </div>
  );
}

const PLACEHOLDER_HUES = [210, 160, 25, 280, 340, 190, 45, 120];

/**
 * A fixed-ratio image box: the space is reserved before the image arrives (no layout shift), the
 * image loads lazily, and a product without a photo gets a tinted monogram instead of a hole.
 */
export function ImageBox({
  src,
  srcSet,
  alt,
  ratio = '1 / 1',
  eager,
  name,
  sizes,
  className,
}: {
  src?: string | null;
  /** Renditions by width, e.g. `a.webp 200w, b.webp 600w`; the browser picks by `sizes`. */
  srcSet?: string;
  /** Empty for an image that only repeats text next to it (a product card's name). */
  alt: string;
  ratio?: string;
  eager?: boolean;
  name?: string;
  sizes?: string;
  className?: string;
}) {
  const [failed, setFailed] = useState(false);
  useEffect(() => setFailed(false), [src]);
  const label = name ?? alt;
  const hue = PLACEHOLDER_HUES[hash(label) % PLACEHOLDER_HUES.length];
  return (
    <div className={cx('image-box', className)} style={{ aspectRatio: ratio }}>
      {src && !failed ? (
        <img src={src} srcSet={srcSet} sizes={srcSet ? sizes : undefined} alt={alt} loading={eager ? 'eager' : 'lazy'} decoding="async" onError={() => setFailed(true)} />
      ) : (
        <div className="image-placeholder" style={{ '--hue': hue } as React.CSSProperties} {...(alt ? { role: 'img', 'aria-label': alt } : { 'aria-hidden': true })}>
          <span aria-hidden="true">{initials(label)}</span>
        </div>
      )}
    </div>
  );
}

function initials(text: string): string {
  const words = text.split(/\s+/).filter((w) => /[A-Za-z0-9]/.test(w[0] ?? ''));
  return (words.slice(0, 2).map((w) => w[0]!.toUpperCase()).join('') || '•').slice(0, 2);
}

function hash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) | 0;
  return Math.abs(h);
}

export function useDocumentTitle(title: string | undefined, suffix: string) {
  useEffect(() => {
    document.title = title ? `${title} · ${suffix}` : suffix;
  }, [title, suffix]);
}

/** A value that follows `value` after it has stopped changing for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

export function formatDate(iso: string | null | undefined, withTime = false): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, withTime ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' });
}

export function cx(...names: (string | false | null | undefined | 0)[]): string {
  return names.filter(Boolean).join(' ');
}
