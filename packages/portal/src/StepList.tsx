import { useEffect, useState } from 'react';
import type { WorkerPool } from '@longshore/client';
import { StepEditor } from './StepEditor.js';
import { emptyStep, type StepDraft } from './stepDraft.js';
import type { StepProblem } from './stepProblems.js';

/** The server's problems from a refused save, by the key of the step they were about (steps move after). */
export type ProblemsByStep = ReadonlyMap<string, StepProblem[]>;

export function problemsByStep(problems: StepProblem[], steps: StepDraft[]): ProblemsByStep {
  const byKey = new Map<string, StepProblem[]>();
  for (const problem of problems) {
    const key = steps[problem.step]?.key;
    if (key !== undefined) byKey.set(key, [...(byKey.get(key) ?? []), problem]);
  }
  return byKey;
}

/**
 * A process's steps in order, each in a step editor: add, remove, move up and down. A moved
 * step keeps the focus on the button that moved it, and the move is announced.
 */
export function StepList(props: {
  idPrefix: string;
  steps: StepDraft[];
  onChange: (steps: StepDraft[]) => void;
  pools: WorkerPool[];
  /** Package ids in the built-in feed, offered in each package's id field. */
  packageIds: string[];
  problems: ProblemsByStep;
}) {
  const { idPrefix, steps, onChange } = props;
  const [focusId, setFocusId] = useState<string | undefined>();
  const [announcement, setAnnouncement] = useState('');
  const feedListId = `${idPrefix}-feed`;
  const addId = `${idPrefix}-add-step`;

  useEffect(() => {
    if (focusId === undefined) return;
    document.getElementById(focusId)?.focus();
    setFocusId(undefined);
  }, [focusId]);

  const nameOf = (step: StepDraft, index: number) => step.name.trim() || `Step ${index + 1}`;
  const move = (index: number, delta: -1 | 1) => {
    const moved = [...steps];
    const [step] = moved.splice(index, 1);
    if (!step) return;
    moved.splice(index + delta, 0, step);
    onChange(moved);
    setFocusId(`${idPrefix}-${step.key}-${delta < 0 ? 'up' : 'down'}`);
    setAnnouncement(`${nameOf(step, index)} is now step ${index + delta + 1} of ${steps.length}.`);
  };
  const remove = (index: number) => {
    const left = steps.filter((_, i) => i !== index);
    onChange(left);
    const next = left[Math.min(index, left.length - 1)];
    setFocusId(next ? `${idPrefix}-${next.key}-remove` : addId);
    setAnnouncement(`${nameOf(steps[index]!, index)} removed.`);
  };
  const add = () => {
    const step = emptyStep();
    onChange([...steps, step]);
    setFocusId(`${idPrefix}-${step.key}-name`);
  };

  return (
    <>
      <datalist id={feedListId}>
        {props.packageIds.map((p) => (
          <option key={p} value={p} />
        ))}
      </datalist>
      {steps.length === 0 && <p className="empty">No steps yet: add the first one, a script that deploys.</p>}
      {steps.map((step, i) => (
        <StepEditor
          key={step.key}
          idPrefix={idPrefix}
          index={i}
          count={steps.length}
          draft={step}
          pools={props.pools}
          feedListId={feedListId}
          problems={props.problems.get(step.key) ?? []}
          onChange={(change) => onChange(steps.map((s) => (s.key === step.key ? { ...s, ...change } : s)))}
          onMove={(delta) => move(i, delta)}
          onRemove={() => remove(i)}
        />
      ))}
      <p role="status" className="visually-hidden">
        {announcement}
      </p>
      <button type="button" id={addId} onClick={add}>
        Add a step
      </button>
    </>
  );
}
