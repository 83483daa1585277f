import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { describeError } from '../../shared/api.ts';
import { useApi } from '../../shared/session.tsx';
import type { Category } from '../../shared/types.ts';
import { Button, Card, EmptyState, ErrorNotice, Notice, SelectField, Skeleton, TextField, useDocumentTitle } from '../../shared/ui.tsx';

function descendants(node: Category): Set<string> {
  const ids = new Set<string>([node.id]);
  const visit = (n: Category) => n.children?.forEach((c) => (ids.add(c.id), visit(c)));
  visit(node);
  return ids;
}

function flat(nodes: Category[], depth = 0, out: { node: Category; depth: number }[] = []) {
  for (const node of nodes) {
    out.push({ node, depth });
    flat(node.children ?? [], depth + 1, out);
  }
  return out;
}

export default function Categories() {
  useDocumentTitle('Categories', 'Bazaar Admin');
  const api = useApi();
  const client = useQueryClient();
  const tree = useQuery({ queryKey: ['categories'], queryFn: () => api.catalog.categories() });
  const [message, setMessage] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);
  const refresh = () => client.invalidateQueries({ queryKey: ['categories'] });
  const done = (text: string) => {
    setMessage({ tone: 'success', text });
    void refresh();
  };
  const failed = (error: unknown) => setMessage({ tone: 'error', text: describeError(error) });

  const create = useMutation({
    mutationFn: (input: { name: string; parentId: string | null }) => api.catalog.createCategory(input),
    onSuccess: (c) => done(`Added ${c.name}.`),
    onError: failed,
  });
  const rename = useMutation({ mutationFn: (input: { id: string; name: string }) => api.catalog.updateCategory(input.id, { name: input.name }), onSuccess: (c) => done(`Renamed to ${c.name}.`), onError: failed });
  const move = useMutation({
    mutationFn: (input: { id: string; parentId: string | null }) => api.catalog.updateCategory(input.id, { parentId: input.parentId }),
    onSuccess: (c) => done(`Moved ${c.name}.`),
    onError: failed,
  });
  const remove = useMutation({ mutationFn: (c: Category) => api.catalog.deleteCategory(c.id), onSuccess: (_, c) => done(`Deleted ${c.name}.`), onError: failed });

  const [name, setName] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim()) create.mutate({ name: name.trim(), parentId: null }, { onSuccess: () => setName('') });
  };
  const all = flat(tree.data?.items ?? []);

  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>Categories</h1>
          <p className="muted">The storefront’s navigation. Products filed under a category also show under its parents.</p>
        </div>
      </div>
      {message ? <Notice tone={message.tone}>{message.text}</Notice> : null}
      <Card title="Add a top-level category">
        <form className="inline-form" onSubmit={submit}>
          <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
          <Button type="submit" busy={create.isPending && create.variables?.parentId === null}>
            Add
          </Button>
        </form>
      </Card>
      {tree.isPending ? <Skeleton lines={8} /> : null}
      {tree.isError ? <ErrorNotice error={tree.error} /> : null}
      {tree.data?.items.length === 0 ? <EmptyState title="No categories yet">Add the first one above.</EmptyState> : null}
      {all.length ? (
        <ul className="tree" aria-label="Category tree">
          {all.map(({ node, depth }) => (
            <CategoryRow
              key={node.id}
              node={node}
              depth={depth}
              parents={all.filter((c) => !descendants(node).has(c.node.id))}
              onRename={(n) => rename.mutate({ id: node.id, name: n })}
              onAddChild={(n) => create.mutate({ name: n, parentId: node.id })}
              onMove={(parentId) => move.mutate({ id: node.id, parentId })}
              onDelete={() => window.confirm(`Delete ${node.name}?`) && remove.mutate(node)}
            />
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function CategoryRow({
  node,
  depth,
  parents,
  onRename,
  onAddChild,
  onMove,
  onDelete,
}: {
  node: Category;
  depth: number;
  parents: { node: Category; depth: number }[];
  onRename: (name: string) => void;
  onAddChild: (name: string) => void;
  onMove: (parentId: string | null) => void;
  onDelete: () => void;
}) {
  const [mode, setMode] = useState<'view' | 'rename' | 'child' | 'move'>('view');
  const [text, setText] = useState('');
  const [parent, setParent] = useState(node.parentId ?? '');
  const close = () => {
    setMode('view');
    setText('');
  };
  return (
    <li className="tree-row" style={{ '--depth': depth } as React.CSSProperties}>
      <div className="tree-line">
        <span className="tree-name">
          {depth > 0 ? <span aria-hidden="true" className="tree-branch">└</span> : null}
          <strong>{node.name}</strong> <span className="small muted mono">/{node.slug}</span>
        </span>
        {mode === 'view' ? (
          <span className="tree-actions">
            <Button variant="ghost" size="sm" onClick={() => (setMode('rename'), setText(node.name))} aria-label={`Rename ${node.name}`}>
              Rename
            </Button>
            <Button variant="ghost" size="sm" onClick={() => setMode('child')} aria-label={`Add a subcategory to ${node.name}`}>
              Add sub
            </Button>
            <Button variant="ghost" size="sm" onClick={() => setMode('move')} aria-label={`Move ${node.name}`}>
              Move
            </Button>
            <Button variant="danger" size="sm" onClick={onDelete} aria-label={`Delete ${node.name}`}>
              Delete
            </Button>
          </span>
        ) : null}
      </div>
      {mode === 'rename' || mode === 'child' ? (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (!text.trim()) return;
            (mode === 'rename' ? onRename : onAddChild)(text.trim());
            close();
          }}
        >
          <TextField label={mode === 'rename' ? `New name for ${node.name}` : `Subcategory of ${node.name}`} value={text} onChange={(e) => setText(e.target.value)} autoFocus maxLength={200} />
          <Button type="submit" size="sm">
            {mode === 'rename' ? 'Rename' : 'Add'}
          </Button>
          <Button variant="ghost" size="sm" onClick={close}>
            Cancel
          </Button>
        </form>
      ) : null}
      {mode === 'move' ? (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            onMove(parent || null);
            close();
          }}
        >
          <SelectField label={`Move ${node.name} under`} value={parent} onChange={(e) => setParent(e.target.value)}>
            <option value="">(top level)</option>
            {parents.map(({ node: p, depth: d }) => (
              <option key={p.id} value={p.id}>
                {'\u2003'.repeat(d)}
                {p.name}
              </option>
            ))}
          </SelectField>
          <Button type="submit" size="sm">
            Move
          </Button>
          <Button variant="ghost" size="sm" onClick={close}>
            Cancel
          </Button>
        </form>
      ) : null}
    </li>
  );
}
