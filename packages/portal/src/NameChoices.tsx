import { useId } from 'react';

/** Ticks some of a list of names (teams, members, projects, environments), in the list's order. */
export function NameChoices(props: {
  legend: string;
  names: string[];
  chosen: string[];
  onChange: (chosen: string[]) => void;
  /** What ticking none means, when it means something (every project). */
  hint?: string;
  /** Shown instead of the boxes when there is nothing to tick. */
  empty?: string;
}) {
  const hintId = useId();
  const { names, chosen, onChange } = props;
  const toggle = (name: string, on: boolean) => onChange(names.filter((n) => (n === name ? on : chosen.includes(n))));
  return (
    <fieldset className="choices" aria-describedby={props.hint ? hintId : undefined}>
      <legend>{props.legend}</legend>
      {names.length === 0 && <span className="none">{props.empty ?? 'none yet'}</span>}
      {names.map((name) => (
        <label key={name} className="choice">
          <input type="checkbox" checked={chosen.includes(name)} onChange={(e) => toggle(name, e.target.checked)} />
          {name}
        </label>
      ))}
      {props.hint && (
        <p id={hintId} className="hint">
          {props.hint}
        </p>
      )}
    </fieldset>
  );
}
