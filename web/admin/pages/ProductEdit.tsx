import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { ApiError, describeError } from '../../shared/api.ts';
import { moneyInputValue, parseMoneyInput } from '../../shared/money.ts';
import { useApi } from '../../shared/session.tsx';
import type { Category, Product, ProductInput, ProductPatch, ProductStatus, VariantInput } from '../../shared/types.ts';
import { Button, Card, ErrorNotice, ImageBox, Notice, SelectField, Skeleton, TextAreaField, TextField, useDocumentTitle } from '../../shared/ui.tsx';
import { StatusTag } from './Products.tsx';

const CURRENCY = 'USD';
const SKU = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

interface VariantRow {
  key: string;
  id?: string;
  sku: string;
  price: string;
  /** Initial stock, for a variant not saved yet. */
  stock: string;
  options: Record<string, string>;
  available?: number;
}

interface Form {
  name: string;
  description: string;
  categoryId: string;
  brand: string;
  status: ProductStatus;
  optionNames: string;
  attributes: { key: string; value: string }[];
  variants: VariantRow[];
  removed: string[];
}

let rowSeq = 0;
const rowKey = () => `row-${++rowSeq}`;

function emptyForm(): Form {
  return {
    name: '',
    description: '',
    categoryId: '',
    brand: '',
    status: 'active',
    optionNames: '',
    attributes: [],
    variants: [{ key: rowKey(), sku: '', price: '', stock: '10', options: {} }],
    removed: [],
  };
}

function formOf(product: Product): Form {
  const names = [...new Set(product.variants.flatMap((v) => Object.keys(v.options ?? {})))];
  return {
    name: product.name,
    description: product.description,
    categoryId: product.categoryId,
    brand: product.brand ?? '',
    status: product.status,
    optionNames: names.join(', '),
    attributes: Object.entries(product.attributes ?? {}).map(([key, value]) => ({ key, value: String(value) })),
    variants: product.variants.map((v) => ({
      key: v.id,
      id: v.id,
      sku: v.sku,
      price: moneyInputValue(v.price.amount, v.price.currency),
      stock: '',
      options: { ...v.options },
      available: v.available,
    })),
    removed: [],
  };
}

function optionNamesOf(form: Form): string[] {
  return [...new Set(form.optionNames.split(',').map((n) => n.trim()).filter(Boolean))].slice(0, 10);
}

/** Checks what the server would refuse anyway, so the seller sees every problem at once, by its field. */
function validate(form: Form): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!form.name.trim()) errors.name = 'Give the product a name';
  if (!form.categoryId) errors.categoryId = 'Choose a category';
  const skus = new Set<string>();
  form.variants.forEach((v, i) => {
    if (!SKU.test(v.sku.trim())) errors[`variants.${i}.sku`] = 'Letters, digits and . _ / - only';
    else if (skus.has(v.sku.trim())) errors[`variants.${i}.sku`] = 'Each variant needs its own SKU';
    skus.add(v.sku.trim());
    if (parseMoneyInput(v.price, CURRENCY) === null) errors[`variants.${i}.price`] = 'A price like 19.99';
    if (!v.id && v.stock.trim() && !/^\d+$/.test(v.stock.trim())) errors[`variants.${i}.stock`] = 'A whole number';
  });
  if (form.variants.length === 0) errors.variants = 'A product needs at least one variant';
  return errors;
}

function variantBody(row: VariantRow, names: string[], isNew: boolean): VariantInput {
  const options = Object.fromEntries(names.map((n) => [n, (row.options[n] ?? '').trim()]).filter(([, v]) => v));
  return {
    ...(row.id ? { id: row.id } : {}),
    sku: row.sku.trim(),
    price: { amount: parseMoneyInput(row.price, CURRENCY)!, currency: CURRENCY },
    options,
    ...(isNew && row.stock.trim() ? { stock: Number(row.stock.trim()) } : {}),
  };
}

export default function ProductEdit() {
  const { id } = useParams();
  const api = useApi();
  const product = useQuery({ queryKey: ['product', id], queryFn: () => api.catalog.product(id!), enabled: !!id });
  useDocumentTitle(id ? (product.data?.name ?? 'Product') : 'New product', 'Bazaar Admin');
  if (id && product.isPending) return <Skeleton lines={10} />;
  if (id && product.isError) return <ErrorNotice error={product.error} />;
  return <Editor key={product.data?.id ?? 'new'} product={product.data} />;
}

function Editor({ product }: { product?: Product }) {
  const api = useApi();
  const client = useQueryClient();
  const navigate = useNavigate();
  const location = useLocation();
  const justCreated = (location.state as { created?: boolean } | null)?.created;
  const categories = useQuery({ queryKey: ['categories'], queryFn: () => api.catalog.categories(), staleTime: 300_000 });
  const [form, setForm] = useState<Form>(() => (product ? formOf(product) : emptyForm()));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  const names = optionNamesOf(form);

  const save = useMutation({
    mutationFn: async (): Promise<Product> => {
      const attributes = Object.fromEntries(form.attributes.filter((a) => a.key.trim()).map((a) => [a.key.trim(), a.value]));
      const common = {
        name: form.name.trim(),
        description: form.description,
        categoryId: form.categoryId,
        brand: form.brand.trim() || null,
        attributes,
      };
      if (!product) {
        const body: ProductInput = {
          ...common,
          status: form.status === 'archived' ? 'draft' : form.status,
          variants: form.variants.map((v) => variantBody(v, names, true)),
        };
        return api.catalog.createProduct(body);
      }
      const patch: ProductPatch = {
        ...common,
        status: form.status,
        variants: form.variants.map((v) => variantBody(v, names, !v.id)),
        ...(form.removed.length ? { removeVariantIds: form.removed } : {}),
      };
      return api.catalog.updateProduct(product.id, patch);
    },
    onSuccess: (saved) => {
      client.setQueryData(['product', saved.id], saved);
      void client.invalidateQueries({ queryKey: ['admin-products'] });
      void client.invalidateQueries({ queryKey: ['dashboard'] });
      if (!product) navigate(`/products/${saved.id}`, { replace: true, state: { created: true } });
      else {
        setForm(formOf(saved));
        setSaved(true);
      }
    },
    onError: (error) => {
      if (error instanceof ApiError) setErrors(error.fieldErrors());
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    const found = validate(form);
    setErrors(found);
    if (Object.keys(found).length === 0) save.mutate();
  }

  const update = (patch: Partial<Form>) => {
    setSaved(false);
    setForm((f) => ({ ...f, ...patch }));
  };
  const updateVariant = (key: string, patch: Partial<VariantRow>) =>
    update({ variants: form.variants.map((v) => (v.key === key ? { ...v, ...patch } : v)) });

  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <p className="small muted">
            <Link to="/products">Products</Link> /
          </p>
          <h1>{product ? product.name : 'New product'}</h1>
          {product ? (
            <p className="row">
              <StatusTag status={product.status} />
              {product.status === 'active' ? (
                <a href={`/p/${product.id}`} target="_blank" rel="noreferrer">
                  View in the store ↗
                </a>
              ) : null}
            </p>
          ) : null}
        </div>
      </div>
      {justCreated && !saved ? <Notice tone="success" title="Product created">Add photos below; it is searchable on the storefront in a moment.</Notice> : null}
      {saved ? <Notice tone="success">Saved.</Notice> : null}

      <form className="editor" onSubmit={submit} noValidate>
        <div className="stack">
          <Card title="Details">
            <div className="form">
              <TextField label="Name" name="name" value={form.name} onChange={(e) => update({ name: e.target.value })} error={errors.name} required maxLength={200} />
              <TextAreaField label="Description" name="description" rows={5} value={form.description} onChange={(e) => update({ description: e.target.value })} error={errors.description} />
              <div className="form-row">
                <SelectField label="Category" name="categoryId" value={form.categoryId} onChange={(e) => update({ categoryId: e.target.value })} error={errors.categoryId} required>
                  <option value="">Choose…</option>
                  {flattenOptions(categories.data?.items ?? []).map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.label}
                    </option>
                  ))}
                </SelectField>
                <TextField label="Brand" name="brand" value={form.brand} onChange={(e) => update({ brand: e.target.value })} error={errors.brand} maxLength={100} />
                <SelectField label="Status" name="status" value={form.status} onChange={(e) => update({ status: e.target.value as ProductStatus })} hint="Only active products are on sale">
                  <option value="active">Active</option>
                  <option value="draft">Draft</option>
                  {product ? <option value="archived">Archived</option> : null}
                </SelectField>
              </div>
            </div>
          </Card>

          <Card title="Variants">
            <div className="form">
              <TextField
                label="Options"
                hint="What tells variants apart, separated by commas, e.g. size, colour. Leave empty for a single variant."
                value={form.optionNames}
                onChange={(e) => update({ optionNames: e.target.value })}
              />
              {errors.variants ? <p className="field-error">{errors.variants}</p> : null}
              <div className="variant-rows">
                {form.variants.map((v, i) => (
                  <fieldset key={v.key} className="variant-row">
                    <legend>
                      Variant {i + 1}
                      {v.id ? (
                        <span className="small muted">
                          {' '}
                          · {v.available ?? 0} available ·{' '}
                          <Link to={`/inventory?product=${product?.id}&variant=${v.id}`}>stock</Link>
                        </span>
                      ) : null}
                    </legend>
                    <TextField label="SKU" value={v.sku} onChange={(e) => updateVariant(v.key, { sku: e.target.value })} error={errors[`variants.${i}.sku`]} maxLength={64} />
                    <TextField label="Price (USD)" inputMode="decimal" value={v.price} onChange={(e) => updateVariant(v.key, { price: e.target.value })} error={errors[`variants.${i}.price`]} placeholder="19.99" />
                    {!v.id ? (
                      <TextField label="Initial stock" inputMode="numeric" value={v.stock} onChange={(e) => updateVariant(v.key, { stock: e.target.value })} error={errors[`variants.${i}.stock`]} />
                    ) : null}
                    {names.map((n) => (
                      <TextField key={n} label={n.charAt(0).toUpperCase() + n.slice(1)} value={v.options[n] ?? ''} onChange={(e) => updateVariant(v.key, { options: { ...v.options, [n]: e.target.value } })} maxLength={100} />
                    ))}
                    {form.variants.length > 1 ? (
                      <Button
                        variant="ghost"
                        size="sm"
                        className="variant-remove"
                        onClick={() => update({ variants: form.variants.filter((x) => x.key !== v.key), removed: v.id ? [...form.removed, v.id] : form.removed })}
                      >
                        Remove variant {i + 1}
                      </Button>
                    ) : null}
                  </fieldset>
                ))}
              </div>
              <div>
                <Button variant="secondary" size="sm" onClick={() => update({ variants: [...form.variants, { key: rowKey(), sku: '', price: form.variants[0]?.price ?? '', stock: '0', options: {} }] })}>
                  Add a variant
                </Button>
              </div>
            </div>
          </Card>

          <Card title="Details shoppers can filter by">
            <div className="form">
              {form.attributes.map((a, i) => (
                <div key={i} className="attribute-row">
                  <TextField label="Attribute" value={a.key} onChange={(e) => update({ attributes: form.attributes.map((x, j) => (j === i ? { ...x, key: e.target.value } : x)) })} placeholder="material" />
                  <TextField label="Value" value={a.value} onChange={(e) => update({ attributes: form.attributes.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)) })} placeholder="cotton" />
                  <Button variant="ghost" size="sm" onClick={() => update({ attributes: form.attributes.filter((_, j) => j !== i) })} aria-label={`Remove attribute ${a.key || i + 1}`}>
                    Remove
                  </Button>
                </div>
              ))}
              <div>
                <Button variant="secondary" size="sm" onClick={() => update({ attributes: [...form.attributes, { key: '', value: '' }] })}>
                  Add an attribute
                </Button>
              </div>
            </div>
          </Card>
        </div>

        <aside className="stack editor-side">
          <Card>
            {save.isError ? (
              <div className="stack">
                <ErrorNotice error={save.error} />
                {save.error instanceof ApiError && save.error.problem.errors?.length ? (
                  <ul className="small error-list">
                    {save.error.problem.errors.map((e) => (
                      <li key={e.path + e.message}>
                        <span className="mono">{e.path}</span> {e.message}
                      </li>
                    ))}
                  </ul>
                ) : null}
              </div>
            ) : null}
            {Object.keys(errors).length && !save.isError ? <Notice tone="error">Fix the highlighted fields.</Notice> : null}
            <Button type="submit" size="lg" className="btn-block" busy={save.isPending}>
              {product ? 'Save changes' : 'Create product'}
            </Button>
          </Card>
          {product ? <Images product={product} /> : <Card title="Photos"><p className="muted small">Save the product first, then add photos.</p></Card>}
        </aside>
      </form>
    </div>
  );
}

function flattenOptions(nodes: Category[], depth = 0, out: { id: string; label: string }[] = []) {
  for (const node of nodes) {
    out.push({ id: node.id, label: `${'\u2003'.repeat(depth)}${node.name}` });
    flattenOptions(node.children ?? [], depth + 1, out);
  }
  return out;
}

function Images({ product }: { product: Product }) {
  const api = useApi();
  const client = useQueryClient();
  const fileRef = useRef<HTMLInputElement>(null);
  const [alt, setAlt] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const refresh = () => client.invalidateQueries({ queryKey: ['product', product.id] });
  const upload = useMutation({
    mutationFn: () => api.catalog.uploadImage(product.id, file!, alt.trim() || product.name),
    onSuccess: () => {
      setAlt('');
      setFile(null);
      if (fileRef.current) fileRef.current.value = '';
      void refresh();
    },
  });
  const remove = useMutation({ mutationFn: (imageId: string) => api.catalog.deleteImage(product.id, imageId), onSuccess: refresh });
  useEffect(() => upload.reset(), [file]); // a new file starts without the last error
  const images = product.images ?? [];
  return (
    <Card title="Photos">
      {images.length ? (
        <ul className="image-grid">
          {images.map((img) => (
            <li key={img.id}>
              <ImageBox src={img.urls?.small ?? img.url} alt={img.alt} name={product.name} />
              <Button variant="ghost" size="sm" busy={remove.isPending && remove.variables === img.id} onClick={() => remove.mutate(img.id)} aria-label={`Delete photo ${img.alt}`}>
                Delete
              </Button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">No photos yet. Shoppers see a coloured placeholder.</p>
      )}
      <div className="form">
        <div className="field">
          <label htmlFor="image-file">Add a photo</label>
          <input id="image-file" ref={fileRef} className="input" type="file" accept="image/jpeg,image/png,image/webp" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
          <p className="field-hint">JPEG, PNG or WebP, up to 5 MB.</p>
        </div>
        <TextField label="Describe the photo" hint="Read aloud to shoppers who cannot see it" value={alt} onChange={(e) => setAlt(e.target.value)} maxLength={300} />
        <Button variant="secondary" disabled={!file} busy={upload.isPending} onClick={() => upload.mutate()}>
          Upload photo
        </Button>
        {upload.isError ? <Notice tone="error">{describeError(upload.error)}</Notice> : null}
        {remove.isError ? <Notice tone="error">{describeError(remove.error)}</Notice> : null}
      </div>
    </Card>
  );
}
