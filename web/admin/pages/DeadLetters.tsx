import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, describeError } from '../../shared/api.ts';
import { useApi } from '../../shared/session.tsx';
import type { DeadLetter } from '../../shared/types.ts';
import { Badge, Button, EmptyState, ErrorNotice, Notice, SelectField, Skeleton, formatDate, useDocumentTitle } from '../../shared/ui.tsx';

/**
 * Events a consumer gave up on after its retries. Replaying delivers the event to that consumer once
 * more; a consumer that fails again keeps the letter open and says why.
 */
export default function DeadLetters() {
  useDocumentTitle('Dead letters', 'Bazaar Admin');
  const api = useApi();
  const client = useQueryClient();
  const [status, setStatus] = useState<'open' | 'replayed' | 'all'>('open');
  const [message, setMessage] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);
  const letters = useInfiniteQuery({
    queryKey: ['dead-letters', status],
    queryFn: ({ pageParam }) => api.platform.deadLetters({ status, limit: 25, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const replay = useMutation({
    mutationFn: (letter: DeadLetter) => api.platform.replay(letter.id),
    onSuccess: (letter) => {
      setMessage({ tone: 'success', text: `Replayed ${letter.eventType} to ${letter.consumer}: it went through.` });
      void client.invalidateQueries({ queryKey: ['dead-letters'] });
      void client.invalidateQueries({ queryKey: ['dashboard'] });
    },
    onError: (error) => {
      const text = error instanceof ApiError && error.kind === 'replay-failed' ? `The consumer failed again: ${error.message}` : describeError(error);
      setMessage({ tone: 'error', text });
      void client.invalidateQueries({ queryKey: ['dead-letters'] });
    },
  });
  const items = letters.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>Dead letters</h1>
          <p className="muted">Events a module could not process after every retry. Fix the cause, then replay.</p>
        </div>
      </div>
      <div className="filters">
        <SelectField label="Show" value={status} onChange={(e) => setStatus(e.target.value as typeof status)}>
          <option value="open">Open</option>
          <option value="replayed">Replayed</option>
          <option value="all">All</option>
        </SelectField>
      </div>
      {message ? <Notice tone={message.tone}>{message.text}</Notice> : null}
      {letters.isPending ? <Skeleton lines={5} /> : null}
      {letters.isError ? <ErrorNotice error={letters.error} /> : null}
      {letters.isSuccess && items.length === 0 ? (
        <EmptyState title={status === 'open' ? 'Nothing is stuck' : 'No dead letters'}>Every event reached its consumers.</EmptyState>
      ) : null}
      <ul className="letters">
        {items.map((letter) => (
          <li key={letter.id} className="card letter">
            <div className="row row-between">
              <div>
                <strong className="mono">{letter.eventType}</strong> <span className="muted">→ {letter.consumer}</span>
                <div className="small muted">
                  {formatDate(letter.createdAt, true)} · {letter.attempts} attempt{letter.attempts === 1 ? '' : 's'}
                  {letter.replayedAt ? ` · replayed ${formatDate(letter.replayedAt, true)}` : ''}
                </div>
              </div>
              {letter.replayedAt ? (
                <Badge tone="success">replayed</Badge>
              ) : (
                <Button size="sm" busy={replay.isPending && replay.variables?.id === letter.id} onClick={() => replay.mutate(letter)}>
                  Replay
                </Button>
              )}
            </div>
            <p className="letter-error">{letter.error}</p>
            <details>
              <summary>Event</summary>
              <pre className="code">{JSON.stringify(letter.event, null, 2)}</pre>
            </details>
          </li>
        ))}
      </ul>
      {letters.hasNextPage ? (
        <Button variant="secondary" busy={letters.isFetchingNextPage} onClick={() => letters.fetchNextPage()}>
          More
        </Button>
      ) : null}
    </div>
  );
}
