import { Link } from 'react-router';
import type { ProductSummary } from '../../shared/types.ts';
import { ImageBox, Price, Skeleton, Stars } from '../../shared/ui.tsx';
import { productPath, summaryImage, summaryPrice } from '../catalog.ts';

export function ProductCard({ product, eager }: { product: ProductSummary; eager?: boolean }) {
  const { price, from } = summaryPrice(product);
  const soldOut = product.inStock === false || product.available === 0;
  return (
    <article className="product-card">
      <Link to={productPath(product.id)} className="product-card-link">
        {/* The name is the link's text right below: the picture adds nothing for a screen reader. */}
        <ImageBox src={summaryImage(product)} alt="" name={product.name} eager={eager} />
        <div className="product-card-body">
          {product.brand ? <p className="product-card-brand">{product.brand}</p> : null}
          <h3 className="product-card-name">{product.name}</h3>
          <Stars average={product.rating?.average} count={product.rating?.count} compact />
          <p className="product-card-price">
            {from ? <span className="muted small">from </span> : null}
            <Price money={price} />
            {soldOut ? <span className="badge badge-neutral sold-out">Sold out</span> : null}
          </p>
        </div>
      </Link>
    </article>
  );
}

export function ProductGrid({ items, eagerCount = 0 }: { items: ProductSummary[]; eagerCount?: number }) {
  return (
    <ul className="product-grid">
      {items.map((item, index) => (
        <li key={item.id}>
          <ProductCard product={item} eager={index < eagerCount} />
        </li>
      ))}
    </ul>
  );
}

export function ProductGridSkeleton({ count = 8 }: { count?: number }) {
  return (
    <ul className="product-grid" aria-hidden="true">
      {Array.from({ length: count }, (_, i) => (
        <li key={i}>
          <div className="product-card">
            <div className="image-box skeleton" style={{ aspectRatio: '1 / 1', height: 'auto' }} />
            <div className="product-card-body">
              <Skeleton lines={2} />
            </div>
          </div>
        </li>
      ))}
    </ul>
  );
}
