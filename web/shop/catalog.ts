import { useQuery } from '@tanstack/react-query';
import { useApi } from '../shared/session.tsx';
import type { Category, Money, Product, ProductImage, ProductSummary } from '../shared/types.ts';

/** Category tree lookups and product-summary reading shared by the storefront's pages. */

export function useCategories() {
  const api = useApi();
  return useQuery({ queryKey: ['categories'], queryFn: () => api.catalog.categories(), staleTime: 300_000 });
}

export function flatten(tree: Category[] | undefined): Category[] {
  const out: Category[] = [];
  const visit = (nodes: Category[]) => {
    for (const node of nodes) {
      out.push(node);
      visit(node.children ?? []);
    }
  };
  visit(tree ?? []);
  return out;
}

/** Root-to-node chain of a category, for breadcrumbs. */
export function ancestry(tree: Category[] | undefined, id: string | undefined): Category[] {
  if (!id) return [];
  const byId = new Map(flatten(tree).map((c) => [c.id, c]));
  const chain: Category[] = [];
  let current = byId.get(id);
  while (current && chain.length < 20) {
    chain.unshift(current);
    current = current.parentId ? byId.get(current.parentId) : undefined;
  }
  return chain;
}

export function imageUrl(image: ProductImage | string | null | undefined): string | null {
  if (!image) return null;
  return typeof image === 'string' ? image : image.url;
}

export function summaryImage(item: ProductSummary): string | null {
  return imageUrl(item.image) ?? item.imageUrl ?? imageUrl(item.images?.[0]);
}

export function summaryPrice(item: ProductSummary): { price?: Money; from: boolean } {
  if (item.price) return { price: item.price, from: false };
  if (item.minPrice) return { price: item.minPrice, from: !!item.maxPrice && item.maxPrice.amount !== item.minPrice.amount };
  return { from: false };
}

export function toSummary(product: Product): ProductSummary {
  const prices = product.variants.map((v) => v.price).sort((a, b) => a.amount - b.amount);
  return {
    id: product.id,
    name: product.name,
    brand: product.brand,
    categoryId: product.categoryId,
    minPrice: prices[0],
    maxPrice: prices[prices.length - 1],
    images: product.images,
    rating: product.rating,
    available: product.variants.reduce((sum, v) => sum + (v.available ?? 0), 0),
  };
}

export function productPath(id: string): string {
  return `/p/${encodeURIComponent(id)}`;
}

export function categoryPath(category: Pick<Category, 'slug'>): string {
  return `/c/${encodeURIComponent(category.slug)}`;
}

/** The renditions of a catalog image for `srcset`, when the server made them. */
export function imageSrcSet(image: ProductImage | undefined): string | undefined {
  if (!image?.urls) return undefined;
  return `${image.urls.small} 200w, ${image.urls.medium} 600w, ${image.urls.large} 1200w`;
}
