import { describe, expect, it } from 'vitest';
import { attemptColumns, requestColumns } from '../../src/observability/request-log/log-schema.js';
import { insertBatchSql, postgresSchemaSql, toPositional } from '../../src/observability/request-log/postgres-schema.js';

describe('the request log schema in PostgreSQL', () => {
  it('creates every column the shared record fills (a column missing there would refuse every write)', () => {
    const created = postgresSchemaSql.join('\n');
    for (const column of [...requestColumns, ...attemptColumns]) expect(created).toMatch(new RegExp(`\\b${column}\\b`));
  });

  it('inserts a batch in multi-row statements of at most 500 rows, NUL in text replaced (Postgres TEXT cannot hold it)', () => {
    const row = requestColumns.map((column) => (column === 'request_id' ? 'id\0x' : null));
    const records = Array.from({ length: 1001 }, () => ({ row, children: [attemptColumns.slice(1).map(() => 1)] }));
    const statements = insertBatchSql(records, records.map((_, index) => index + 1));
    const requestInserts = statements.filter((statement) => statement.text.startsWith('INSERT INTO requests'));
    expect(requestInserts.map((statement) => statement.values.length / (requestColumns.length + 1))).toEqual([500, 500, 1]);
    expect(requestInserts[0]?.values[1]).toBe('id\uFFFDx');
    expect(statements.filter((statement) => statement.text.startsWith('INSERT INTO attempts')).map((statement) => statement.values.length / attemptColumns.length)).toEqual([500, 500, 1]);
  });

  it('numbers placeholders for Postgres', () => {
    expect(toPositional('SELECT * FROM requests WHERE route = ? AND seq < ? LIMIT ?')).toBe('SELECT * FROM requests WHERE route = $1 AND seq < $2 LIMIT $3');
  });
});
