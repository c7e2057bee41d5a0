import { useId } from 'react';
import './TablePager.css';

/**
 * Previous and Next for a paged table, and which rows are in view ("Rows 26–50 of 130"),
 * announced as it changes. A button at the end of the list is marked disabled but keeps its
 * focus: a disabled button would drop the keyboard's place to the top of the page.
 */
export function TablePager(props: {
  /** The id of the table's heading: the group is named by it and the rows shown. */
  labelledBy: string;
  first: number;
  last: number;
  total: number;
  onPrevious: (() => void) | undefined;
  onNext: (() => void) | undefined;
}) {
  const rowsId = useId();
  return (
    <div className="pager" role="group" aria-labelledby={`${props.labelledBy} ${rowsId}`}>
      <PagerButton onClick={props.onPrevious}>Previous</PagerButton>
      <span id={rowsId} aria-live="polite">
        Rows {props.first}–{props.last} of {props.total}
      </span>
      <PagerButton onClick={props.onNext}>Next</PagerButton>
    </div>
  );
}

function PagerButton({ onClick, children }: { onClick: (() => void) | undefined; children: string }) {
  return (
    <button type="button" aria-disabled={onClick === undefined} onClick={onClick}>
      {children}
    </button>
  );
}
