import { useMemo, useRef } from 'react';
import { shellTokens } from './shellHighlighting.js';
import './ScriptEditor.css';

const MIN_ROWS = 4;
const MAX_ROWS = 24;

/**
 * A shell script's editor with syntax highlighting: a plain textarea (so typing, selecting,
 * undo, spell-check off and screen readers all work as everywhere else) whose text is
 * transparent over a highlighted copy drawn beneath it, scrolled with it.
 */
export function ScriptEditor(props: {
  id: string;
  value: string;
  onChange: (value: string) => void;
  describedBy?: string | undefined;
  invalid?: boolean;
}) {
  const highlight = useRef<HTMLPreElement>(null);
  const tokens = useMemo(() => shellTokens(props.value), [props.value]);
  const lines = props.value.split('\n').length;
  return (
    <div className="script-editor">
      <pre ref={highlight} className="script-highlight" aria-hidden="true">
        {tokens.map((t, i) =>
          t.kind === 'plain' ? (
            t.text
          ) : (
            <span key={i} className={`sh-${t.kind}`}>
              {t.text}
            </span>
          ),
        )}
        {/* A line more than the text: a trailing empty line counts, and the copy scrolls as far as the textarea. */}
        {'\n '}
      </pre>
      <textarea
        id={props.id}
        className="script-input"
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        onScroll={(e) => {
          if (!highlight.current) return;
          highlight.current.scrollTop = e.currentTarget.scrollTop;
          highlight.current.scrollLeft = e.currentTarget.scrollLeft;
        }}
        rows={Math.min(Math.max(lines + 1, MIN_ROWS), MAX_ROWS)}
        wrap="off"
        spellCheck={false}
        autoCapitalize="off"
        autoComplete="off"
        autoCorrect="off"
        aria-describedby={props.describedBy}
        aria-invalid={props.invalid || undefined}
      />
    </div>
  );
}
