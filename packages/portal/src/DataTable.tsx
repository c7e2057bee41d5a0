import { useState, type ReactNode } from 'react';
import { ScrollRegion } from './ScrollRegion.js';
import { TablePager } from './TablePager.js';

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
}

/** Rows per page: a long list stays quick to draw and to scan, and fits a phone's screen a few times over. */
const PAGE_SIZE = 25;

/**
 * A table of rows whose first column names the row (a row header, as screen readers announce
 * it), in a region that scrolls sideways at phone width. A list longer than a page is paged;
 * the page stays where it is when the rows are read again, and moves back when they shrink.
 */
export function DataTable<T>(props: {
  labelledBy: string;
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  pageSize?: number;
}) {
  const { rows, pageSize = PAGE_SIZE } = props;
  const [page, setPage] = useState(0);
  const pages = Math.max(1, Math.ceil(rows.length / pageSize));
  const current = Math.min(page, pages - 1);
  const start = current * pageSize;
  const shown = rows.slice(start, start + pageSize);
  const [first, ...rest] = props.columns;
  return (
    <>
      <ScrollRegion labelledBy={props.labelledBy}>
        <table>
          <thead>
            <tr>
              {props.columns.map((c) => (
                <th scope="col" key={c.header}>
                  {c.header}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((row) => (
              <tr key={props.rowKey(row)}>
                {first && <th scope="row">{first.cell(row)}</th>}
                {rest.map((c) => (
                  <td key={c.header}>{c.cell(row)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollRegion>
      {pages > 1 && (
        <TablePager
          labelledBy={props.labelledBy}
          first={start + 1}
          last={start + shown.length}
          total={rows.length}
          onPrevious={current > 0 ? () => setPage(current - 1) : undefined}
          onNext={current < pages - 1 ? () => setPage(current + 1) : undefined}
        />
      )}
    </>
  );
}
