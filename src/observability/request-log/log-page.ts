import { attemptsQuery, buildPageQuery, encodeCursor, foldedAttemptOf, toLoggedAttempt, toLoggedRequest, type LoggedAttempt, type RequestFilter } from './log-query.js';
import type { RequestLogPage } from './request-log-store.js';
import type { SqlValue } from './sqlite-worker.js';

/** Runs one query with `?` placeholders and returns its rows; each store supplies its own. */
export type RowReader = (sql: string, params: SqlValue[]) => Promise<Array<Record<string, unknown>>>;

/** A page of the request log with its attempts: the same two queries on every store. */
export async function readPage(filter: RequestFilter, read: RowReader): Promise<RequestLogPage> {
  const page = buildPageQuery(filter);
  const rows = await read(page.sql, page.params);
  const hasMore = rows.length > filter.limit;
  const shown = rows.slice(0, filter.limit);
  const seqs = shown.map((row) => Number(row.seq));
  const attempts = new Map<number, LoggedAttempt[]>();
  if (seqs.length > 0) {
    const query = attemptsQuery(seqs);
    for (const row of await read(query.sql, query.params)) {
      const seq = Number(row.request_seq);
      const list = attempts.get(seq) ?? [];
      list.push(toLoggedAttempt(row));
      attempts.set(seq, list);
    }
  }
  const last = seqs[seqs.length - 1];
  return {
    data: shown.map((row, index) => {
      const folded = foldedAttemptOf(row);
      return toLoggedRequest(row, attempts.get(seqs[index] ?? -1) ?? (folded ? [folded] : []));
    }),
    next_cursor: hasMore && last !== undefined ? encodeCursor(last) : null,
  };
}
