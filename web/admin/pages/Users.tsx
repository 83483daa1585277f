import { keepPreviousData, useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ROLES } from '../../../src/kernel/auth/permissions.ts';
import { describeError } from '../../shared/api.ts';
import { useApi, useCan, useSession } from '../../shared/session.tsx';
import type { User } from '../../shared/types.ts';
import { Badge, Button, EmptyState, ErrorNotice, Notice, Skeleton, TextField, formatDate, useDebounced, useDocumentTitle } from '../../shared/ui.tsx';
import { roleLabel } from '../roles.ts';

export default function Users() {
  useDocumentTitle('Users & roles', 'Bazaar Admin');
  const api = useApi();
  const [q, setQ] = useState('');
  const search = useDebounced(q.trim(), 250);
  const users = useInfiniteQuery({
    queryKey: ['users', search],
    queryFn: ({ pageParam }) => api.users.list({ q: search || undefined, limit: 25, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    placeholderData: keepPreviousData,
  });
  const items = users.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>Users &amp; roles</h1>
          <p className="muted">Everyone with an account. Roles decide what each person may do here and in the API.</p>
        </div>
      </div>
      <div className="filters">
        <TextField label="Search" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Email, name or store" />
      </div>
      {users.isPending ? <Skeleton lines={6} /> : null}
      {users.isError ? <ErrorNotice error={users.error} /> : null}
      {users.isSuccess && items.length === 0 ? <EmptyState title="No users match" /> : null}
      {items.length ? (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Roles</th>
                <th scope="col">Joined</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((u) => (
                <UserRow key={u.id} user={u} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {users.hasNextPage ? (
        <Button variant="secondary" busy={users.isFetchingNextPage} onClick={() => users.fetchNextPage()}>
          More users
        </Button>
      ) : null}
    </div>
  );
}

function UserRow({ user }: { user: User }) {
  const api = useApi();
  const can = useCan();
  const me = useSession()!.user.id === user.id;
  const client = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [roles, setRoles] = useState<string[]>(user.roles);
  const [reason, setReason] = useState('');
  const refresh = () => client.invalidateQueries({ queryKey: ['users'] });
  const save = useMutation({
    mutationFn: () => api.users.setRoles(user.id, roles),
    onSuccess: () => {
      setEditing(false);
      void refresh();
    },
  });
  const suspend = useMutation({ mutationFn: () => api.users.suspendSeller(user.id, reason.trim()), onSuccess: refresh });
  const reinstate = useMutation({ mutationFn: () => api.users.reinstateSeller(user.id), onSuccess: refresh });
  const seller = user.sellerProfile;
  return (
    <tr>
      <td>
        <strong>{user.name}</strong>
        {me ? <span className="small muted"> (you)</span> : null}
        <div className="small muted">{user.email}</div>
        {seller ? (
          <div className="small">
            Store: {seller.storeName} {seller.status === 'suspended' ? <Badge tone="danger">suspended</Badge> : null}
          </div>
        ) : null}
        {user.status === 'deleted' ? <Badge>erased</Badge> : null}
      </td>
      <td>
        {editing ? (
          <fieldset className="role-picker">
            <legend className="visually-hidden">Roles of {user.name}</legend>
            {ROLES.map((role) => (
              <label key={role} className="checkbox">
                <input type="checkbox" checked={roles.includes(role)} onChange={(e) => setRoles(e.target.checked ? [...roles, role] : roles.filter((r) => r !== role))} />
                {roleLabel(role)}
              </label>
            ))}
          </fieldset>
        ) : (
          <span className="row">
            {user.roles.map((r) => (
              <Badge key={r} tone={r === 'admin' ? 'danger' : r === 'seller' ? 'info' : r === 'customer' ? 'neutral' : 'warning'}>
                {roleLabel(r)}
              </Badge>
            ))}
          </span>
        )}
        {save.isError ? <Notice tone="error">{describeError(save.error)}</Notice> : null}
      </td>
      <td className="small">{formatDate(user.createdAt)}</td>
      <td className="actions-cell">
        {can('roles:manage') && user.status !== 'deleted' ? (
          editing ? (
            <span className="row">
              <Button size="sm" busy={save.isPending} disabled={roles.length === 0} onClick={() => save.mutate()}>
                Save roles
              </Button>
              <Button
                size="sm"
                variant="ghost"
                onClick={() => {
                  setRoles(user.roles);
                  setEditing(false);
                }}
              >
                Cancel
              </Button>
            </span>
          ) : (
            <Button size="sm" variant="secondary" onClick={() => setEditing(true)} aria-label={`Edit roles of ${user.name}`}>
              Edit roles
            </Button>
          )
        ) : null}
        {seller && can('sellers:manage') ? (
          seller.status === 'active' ? (
            <span className="row suspend">
              <TextField label={`Why suspend ${seller.storeName}?`} hideLabel placeholder="Reason to suspend" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} />
              <Button size="sm" variant="danger" disabled={!reason.trim()} busy={suspend.isPending} onClick={() => suspend.mutate()}>
                Suspend store
              </Button>
            </span>
          ) : (
            <Button size="sm" variant="secondary" busy={reinstate.isPending} onClick={() => reinstate.mutate()}>
              Reinstate store
            </Button>
          )
        ) : null}
        {suspend.isError || reinstate.isError ? <Notice tone="error">{describeError(suspend.error ?? reinstate.error)}</Notice> : null}
      </td>
    </tr>
  );
}
