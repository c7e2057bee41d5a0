import type { ReactNode } from 'react';
import { ScrollRegion } from './ScrollRegion.js';

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
}

/**
 * A table of rows whose first column names the row (a row header, as screen readers announce
 * it), in a region that scrolls sideways at phone width.
 */
export function DataTable<T>(props: {
  labelledBy: string;
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
}) {
  const [first, ...rest] = props.columns;
  return (
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
          {props.rows.map((row) => (
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
  );
}
