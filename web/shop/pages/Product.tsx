import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { Link, useLocation, useParams } from 'react-router';
import { ApiError, describeError, isMissingEndpoint } from '../../shared/api.ts';
import { useApi, useSession } from '../../shared/session.tsx';
import type { Product, Variant } from '../../shared/types.ts';
import { Button, EmptyState, ErrorNotice, ImageBox, Notice, Price, SelectField, Skeleton, Stars, useDocumentTitle } from '../../shared/ui.tsx';
import { useCartMutation } from '../cart.ts';
import { ancestry, categoryPath, imageSrcSet, useCategories } from '../catalog.ts';

export default function ProductPage() {
  const { id = '' } = useParams();
  const api = useApi();
  const product = useQuery({ queryKey: ['product', id], queryFn: () => api.catalog.product(id) });
  useDocumentTitle(product.data?.name, 'Bazaar');

  if (product.isPending) {
    return (
      <div className="container page product-layout" aria-busy="true">
        <div className="image-box skeleton" style={{ aspectRatio: '1 / 1' }} />
        <Skeleton lines={6} />
      </div>
    );
  }
  if (product.isError) {
    if (product.error instanceof ApiError && product.error.status === 404 && !product.error.missingEndpoint) {
      return (
        <div className="container page">
          <EmptyState title="This product is no longer available" action={<Link to="/search" className="btn btn-primary">Keep shopping</Link>}>
            The seller may have removed it.
          </EmptyState>
        </div>
      );
    }
    return (
      <div className="container page">
        <ErrorNotice error={product.error} />
      </div>
    );
  }
  return <ProductView product={product.data} />;
}

function ProductView({ product }: { product: Product }) {
  const api = useApi();
  const categories = useCategories();
  const trail = ancestry(categories.data?.items, product.categoryId);
  const seller = useQuery({
    queryKey: ['seller', product.sellerId],
    queryFn: () => api.users.seller(product.sellerId),
    enabled: !product.sellerName,
    retry: false,
    staleTime: 300_000,
  });
  const sellerName = product.sellerName ?? seller.data?.storeName;
  const images = product.images ?? [];
  const [imageIndex, setImageIndex] = useState(0);
  const image = images[imageIndex];

  const [variant, setVariant] = useState<Variant | undefined>(() => product.variants.find((v) => v.available > 0) ?? product.variants[0]);
  useEffect(() => {
    setVariant((current) => product.variants.find((v) => v.id === current?.id) ?? product.variants.find((v) => v.available > 0) ?? product.variants[0]);
  }, [product]);

  const attributes = Object.entries(product.attributes ?? {}).filter(([, v]) => v !== null && v !== '' && typeof v !== 'object');

  return (
    <div className="container page">
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <ol>
          <li>
            <Link to="/">Home</Link>
          </li>
          {trail.map((c) => (
            <li key={c.id}>
              <Link to={categoryPath(c)}>{c.name}</Link>
            </li>
          ))}
          <li>
            <span aria-current="page">{product.name}</span>
          </li>
        </ol>
      </nav>
      <div className="product-layout">
        <section className="gallery" aria-label="Product images">
          <ImageBox src={image?.url} srcSet={imageSrcSet(image)} alt={image?.alt || product.name} name={product.name} eager sizes="(max-width: 900px) 100vw, 640px" />
          {images.length > 1 ? (
            <ul className="thumbs">
              {images.map((img, index) => (
                <li key={img.id}>
                  <button type="button" className={index === imageIndex ? 'thumb active' : 'thumb'} aria-label={`Show image ${index + 1} of ${images.length}`} aria-pressed={index === imageIndex} onClick={() => setImageIndex(index)}>
                    <ImageBox src={img.urls?.small ?? img.url} alt="" name={product.name} />
                  </button>
                </li>
              ))}
            </ul>
          ) : null}
        </section>

        <section className="buy-box" aria-labelledby="product-name">
          {product.brand ? <p className="product-brand">{product.brand}</p> : null}
          <h1 id="product-name">{product.name}</h1>
          <div className="row product-meta">
            <Stars average={product.rating?.average} count={product.rating?.count} />
            {sellerName ? <span className="muted small">Sold by {sellerName}</span> : null}
          </div>
          <p className="product-price">
            <Price money={variant?.price} />
            {variant?.compareAtPrice && variant.compareAtPrice.amount > variant.price.amount ? (
              <s className="muted compare-price">
                <Price money={variant.compareAtPrice} />
              </s>
            ) : null}
          </p>
          {product.variants.length > 1 ? <VariantPicker variants={product.variants} selected={variant} onSelect={setVariant} /> : null}
          <Availability variant={variant} />
          <AddToCart product={product} variant={variant} />
          <WishlistButton productId={product.id} />
          <div className="product-description">
            <h2>About this item</h2>
            {product.description.split(/\n{2,}/).map((paragraph, i) => (
              <p key={i}>{paragraph}</p>
            ))}
          </div>
          {attributes.length ? (
            <div>
              <h2>Details</h2>
              <dl className="dl">
                {attributes.map(([key, value]) => (
                  <div key={key} style={{ display: 'contents' }}>
                    <dt>{humanize(key)}</dt>
                    <dd>{String(value)}</dd>
                  </div>
                ))}
              </dl>
            </div>
          ) : null}
        </section>
      </div>
    </div>
  );
}

function humanize(key: string): string {
  const spaced = key.replace(/[_-]+/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/**
 * One row of buttons per option (Colour, Size, ...). A value that cannot be bought with the other
 * choices is marked sold out but stays selectable, so the shopper can still see its price.
 */
function VariantPicker({ variants, selected, onSelect }: { variants: Variant[]; selected?: Variant; onSelect: (v: Variant) => void }) {
  const names = useMemo(() => [...new Set(variants.flatMap((v) => Object.keys(v.options ?? {})))], [variants]);
  if (names.length === 0) {
    return (
      <SelectField label="Option" value={selected?.id} onChange={(e) => onSelect(variants.find((v) => v.id === e.target.value)!)}>
        {variants.map((v) => (
          <option key={v.id} value={v.id}>
            {v.sku}
            {v.available > 0 ? '' : ' (sold out)'}
          </option>
        ))}
      </SelectField>
    );
  }
  const choose = (name: string, value: string) => {
    const wanted = { ...(selected?.options ?? {}), [name]: value };
    const exact = variants.find((v) => names.every((n) => v.options?.[n] === wanted[n]));
    const withValue = variants.filter((v) => v.options?.[name] === value);
    const next = exact ?? withValue.find((v) => v.available > 0) ?? withValue[0];
    if (next) onSelect(next);
  };
  return (
    <div className="variant-picker">
      {names.map((name) => {
        const values = [...new Set(variants.map((v) => v.options?.[name]).filter((v): v is string => !!v))];
        return (
          <fieldset key={name} className="option-group">
            <legend>
              {humanize(name)}: <strong>{selected?.options?.[name] ?? '—'}</strong>
            </legend>
            <div className="option-values">
              {values.map((value) => {
                const candidates = variants.filter((v) => v.options?.[name] === value && names.every((n) => n === name || !selected?.options?.[n] || v.options?.[n] === selected.options[n]));
                const available = candidates.some((v) => v.available > 0);
                const checked = selected?.options?.[name] === value;
                return (
                  <label key={value} className={`option-value${checked ? ' checked' : ''}${available ? '' : ' unavailable'}`}>
                    <input type="radio" name={`option-${name}`} value={value} checked={checked} onChange={() => choose(name, value)} className="visually-hidden" />
                    <span>{value}</span>
                    {!available ? <span className="visually-hidden"> (sold out)</span> : null}
                  </label>
                );
              })}
            </div>
          </fieldset>
        );
      })}
    </div>
  );
}

function Availability({ variant }: { variant?: Variant }) {
  if (!variant) return null;
  if (variant.available <= 0) return <p className="availability out" data-testid="availability">Out of stock</p>;
  if (variant.available <= 5) return <p className="availability low" data-testid="availability">Only {variant.available} left</p>;
  return <p className="availability in" data-testid="availability">In stock</p>;
}

function AddToCart({ product, variant }: { product: Product; variant?: Variant }) {
  const api = useApi();
  const [quantity, setQuantity] = useState(1);
  const add = useCartMutation((input: { quantity: number }) => api.cart.add({ productId: product.id, variantId: variant?.id, quantity: input.quantity }));
  const max = Math.min(10, Math.max(1, variant?.available ?? 1));
  useEffect(() => add.reset(), [variant?.id]); // a new choice starts without the last result
  const soldOut = !variant || variant.available <= 0;
  const inactive = product.status !== 'active';
  return (
    <div className="add-to-cart">
      <div className="row">
        <SelectField label="Quantity" value={String(Math.min(quantity, max))} onChange={(e) => setQuantity(Number(e.target.value))} className="qty-field" disabled={soldOut}>
          {Array.from({ length: max }, (_, i) => (
            <option key={i + 1} value={i + 1}>
              {i + 1}
            </option>
          ))}
        </SelectField>
        <Button size="lg" className="add-button" busy={add.isPending} disabled={soldOut || inactive} onClick={() => add.mutate({ quantity: Math.min(quantity, max) })}>
          {soldOut ? 'Sold out' : 'Add to cart'}
        </Button>
      </div>
      {add.isSuccess ? (
        <Notice tone="success">
          Added to your cart. <Link to="/cart">View cart</Link>
        </Notice>
      ) : null}
      {add.isError ? (
        isMissingEndpoint(add.error) ? (
          <Notice tone="warning" title="The cart is not available yet">This server does not take orders yet.</Notice>
        ) : (
          <Notice tone="error">{add.error instanceof ApiError && add.error.kind === 'insufficient-stock' ? 'Not enough stock for that quantity.' : describeError(add.error)}</Notice>
        )
      ) : null}
    </div>
  );
}

function WishlistButton({ productId }: { productId: string }) {
  const api = useApi();
  const session = useSession();
  const location = useLocation();
  const save = useMutation({ mutationFn: () => api.wishlist.add(productId) });
  if (!session) {
    return (
      <p className="small">
        <Link to={`/signin?next=${encodeURIComponent(location.pathname)}`}>Sign in</Link> to save this to your wishlist.
      </p>
    );
  }
  return (
    <div>
      <Button variant="ghost" busy={save.isPending} disabled={save.isSuccess} onClick={() => save.mutate()}>
        {save.isSuccess ? '♥ Saved to wishlist' : '♡ Save to wishlist'}
      </Button>
      {save.isError ? <ErrorNotice error={save.error} what="The wishlist" /> : null}
    </div>
  );
}
