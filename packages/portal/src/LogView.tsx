import { useEffect, useRef, useState } from 'react';
import type { TaskLogLine } from '@longshore/client';

/** Every line is one row of this height (long lines scroll sideways), so which rows show is arithmetic. */
const ROW_PX = 18;
const MAX_ROWS_SHOWN = 30;
const OVERSCAN = 20;

/**
 * A log of any length that draws only the rows in view (a deployment's step may write 100,000
 * lines and the page must stay smooth), following the end as lines arrive unless the reader
 * scrolled up to read.
 */
export function LogView({ lines, label }: { lines: readonly TaskLogLine[]; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const following = useRef(true);
  /** Scrolls this view makes itself (following the end) are not the reader scrolling away. */
  const ownScroll = useRef(false);
  const height = Math.min(lines.length, MAX_ROWS_SHOWN) * ROW_PX + 8;

  useEffect(() => {
    const el = box.current;
    if (!el || !following.current) return;
    ownScroll.current = true;
    el.scrollTop = el.scrollHeight;
  }, [lines.length]);

  const first = Math.max(0, Math.floor(top / ROW_PX) - OVERSCAN);
  const last = Math.min(lines.length, Math.ceil((top + height) / ROW_PX) + OVERSCAN);
  return (
    <div
      ref={box}
      className="log"
      role="log"
      aria-label={label}
      tabIndex={0}
      style={{ height, overflow: 'auto' }}
      onScroll={(e) => {
        const el = e.currentTarget;
        setTop(el.scrollTop);
        if (ownScroll.current) ownScroll.current = false;
        else following.current = el.scrollTop + el.clientHeight >= el.scrollHeight - ROW_PX;
      }}
    >
      <div style={{ height: lines.length * ROW_PX, position: 'relative' }}>
        {lines.slice(first, last).map((l, i) => (
          <div
            key={first + i}
            className={`line line-${l.stream}`}
            style={{ position: 'absolute', top: (first + i) * ROW_PX, height: ROW_PX, lineHeight: `${ROW_PX}px` }}
          >
            {l.text}
          </div>
        ))}
      </div>
    </div>
  );
}
