import { useQuery } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useLocation, useNavigate, useSearchParams } from 'react-router';
import { useApi } from '../../shared/session.tsx';
import { useDebounced } from '../../shared/ui.tsx';
import { productPath } from '../catalog.ts';

/**
 * The header search: an ARIA 1.2 combobox. Suggestions come from /suggest as the shopper types
 * (debounced, so a fast typist sends one request, not one per key); arrows move through them,
 * Enter opens the highlighted one or searches for the text.
 */
export function SearchBox() {
  const api = useApi();
  const navigate = useNavigate();
  const location = useLocation();
  const [params] = useSearchParams();
  const onSearchPage = location.pathname === '/search';
  const [text, setText] = useState(onSearchPage ? (params.get('q') ?? '') : '');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const listId = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const prefix = useDebounced(text.trim(), 150);

  useEffect(() => {
    if (onSearchPage) setText(params.get('q') ?? '');
    setOpen(false);
  }, [location.key]); // eslint-disable-line react-hooks/exhaustive-deps

  const suggestions = useQuery({
    queryKey: ['suggest', prefix],
    queryFn: ({ signal }) => api.search.suggest(prefix, signal),
    enabled: open && prefix.length >= 2,
    staleTime: 60_000,
    retry: false,
    placeholderData: (previous) => previous,
  });
  const items = prefix.length >= 2 ? (suggestions.data?.suggestions ?? []).slice(0, 8) : [];
  const expanded = open && items.length > 0;

  function go(index: number) {
    const choice = items[index];
    setOpen(false);
    if (!choice) return;
    if (choice.productId) navigate(productPath(choice.productId));
    else search(choice.text);
  }

  function search(query: string) {
    setText(query);
    setOpen(false);
    const next = new URLSearchParams(onSearchPage ? params : undefined);
    next.delete('cursor');
    if (query.trim()) next.set('q', query.trim());
    else next.delete('q');
    navigate(`/search?${next.toString()}`);
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (expanded && active >= 0) go(active);
    else search(text);
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      setOpen(true);
      setActive((i) => (items.length ? (i + 1) % items.length : -1));
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      setActive((i) => (items.length ? (i <= 0 ? items.length - 1 : i - 1) : -1));
    } else if (event.key === 'Escape') {
      if (expanded) {
        event.preventDefault();
        setOpen(false);
        setActive(-1);
      }
    }
  }

  return (
    <form role="search" className="search-box" onSubmit={onSubmit}>
      <label htmlFor={`${listId}-input`} className="visually-hidden">
        Search products
      </label>
      <input
        ref={inputRef}
        id={`${listId}-input`}
        className="search-input"
        type="search"
        name="q"
        placeholder="Search products and brands"
        autoComplete="off"
        spellCheck={false}
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={expanded}
        aria-controls={listId}
        aria-activedescendant={expanded && active >= 0 ? `${listId}-${active}` : undefined}
        value={text}
        onChange={(event) => {
          setText(event.target.value);
          setOpen(true);
          setActive(-1);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setTimeout(() => setOpen(false), 120)}
        onKeyDown={onKeyDown}
      />
      <button type="submit" className="search-submit" aria-label="Search">
        <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2.2" strokeLinecap="round">
          <circle cx="11" cy="11" r="7" />
          <path d="m20 20-3.5-3.5" />
        </svg>
      </button>
      <ul id={listId} role="listbox" aria-label="Suggestions" className="suggestions" hidden={!expanded}>
        {items.map((item, index) => (
          <li
            key={`${item.text}-${item.productId ?? ''}`}
            id={`${listId}-${index}`}
            role="option"
            aria-selected={index === active}
            className={index === active ? 'active' : undefined}
            onMouseDown={(event) => {
              event.preventDefault();
              go(index);
            }}
            onMouseEnter={() => setActive(index)}
          >
            <Highlight text={item.text} query={prefix} />
            {item.productId ? <span className="suggestion-kind">Product</span> : null}
          </li>
        ))}
      </ul>
    </form>
  );
}

function Highlight({ text, query }: { text: string; query: string }) {
  const at = text.toLowerCase().indexOf(query.toLowerCase());
  if (!query || at < 0) return <span>{text}</span>;
  return (
    <span>
      {text.slice(0, at)}
      <mark>{text.slice(at, at + query.length)}</mark>
      {text.slice(at + query.length)}
    </span>
  );
}
