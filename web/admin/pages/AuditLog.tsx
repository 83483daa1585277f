import { keepPreviousData, useInfiniteQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { useApi } from '../../shared/session.tsx';
import { Button, EmptyState, ErrorNotice, Skeleton, TextField, formatDate, useDebounced, useDocumentTitle } from '../../shared/ui.tsx';
import { roleLabel } from '../roles.ts';

const FILTERS = [
  ['action', 'Action', 'e.g. catalog.product.create'],
  ['targetType', 'Target type', 'e.g. product'],
  ['targetId', 'Target id', ''],
  ['actorId', 'Actor id', ''],
] as const;

/** Every admin and seller write: who did what to which target, newest first. */
export default function AuditLog() {
  useDocumentTitle('Audit log', 'Bazaar Admin');
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const filters = Object.fromEntries(FILTERS.map(([key]) => [key, params.get(key) ?? '']));
  const debounced = useDebounced(filters, 300);
  const log = useInfiniteQuery({
    queryKey: ['audit-log', debounced],
    queryFn: ({ pageParam }) =>
      api.platform.auditLog({ ...Object.fromEntries(Object.entries(debounced).map(([k, v]) => [k, v.trim() || undefined])), limit: 30, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    placeholderData: keepPreviousData,
  });
  const items = log.data?.pages.flatMap((p) => p.items) ?? [];
  const set = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>Audit log</h1>
          <p className="muted">Every change made by an admin or a seller, with who, when and from where.</p>
        </div>
      </div>
      <div className="filters">
        {FILTERS.map(([key, label, placeholder]) => (
          <TextField key={key} label={label} value={filters[key]} onChange={(e) => set(key, e.target.value)} placeholder={placeholder} />
        ))}
      </div>
      {log.isPending ? <Skeleton lines={8} /> : null}
      {log.isError ? <ErrorNotice error={log.error} /> : null}
      {log.isSuccess && items.length === 0 ? <EmptyState title="No entries match" /> : null}
      {items.length ? (
        <div className="table-wrap">
          <table className="table audit-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Actor</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id}>
                  <td className="small nowrap">{formatDate(e.at, true)}</td>
                  <td className="mono">{e.action}</td>
                  <td className="small">
                    {e.targetType}
                    {e.targetId ? (
                      <button type="button" className="link-button mono" onClick={() => set('targetId', e.targetId!)} title="Show only this target">
                        {e.targetId.slice(-8)}
                      </button>
                    ) : null}
                  </td>
                  <td className="small">
                    {e.actorId ? (
                      <button type="button" className="link-button mono" onClick={() => set('actorId', e.actorId!)} title="Show only this actor">
                        {e.actorId.slice(-8)}
                      </button>
                    ) : (
                      'system'
                    )}
                    <div className="muted">{e.actorRoles.map(roleLabel).join(', ')}</div>
                    {e.ip ? <div className="muted">{e.ip}</div> : null}
                  </td>
                  <td>
                    {Object.keys(e.details).length ? (
                      <details>
                        <summary className="small">{Object.keys(e.details).slice(0, 3).join(', ')}</summary>
                        <pre className="code">{JSON.stringify(e.details, null, 2)}</pre>
                      </details>
                    ) : (
                      <span className="muted small">—</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {log.hasNextPage ? (
        <Button variant="secondary" busy={log.isFetchingNextPage} onClick={() => log.fetchNextPage()}>
          Older entries
        </Button>
      ) : null}
    </div>
  );
}
