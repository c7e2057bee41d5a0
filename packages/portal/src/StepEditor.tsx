import type { ReactNode } from 'react';
import type { WorkerPool } from '@longshore/client';
import { PackageList } from './PackageList.js';
import { ScriptEditor } from './ScriptEditor.js';
import type { StepField, StepProblem } from './stepProblems.js';
import { ownResources, type StepCondition, type StepDraft } from './stepDraft.js';
import './formLayout.css';
import './StepEditor.css';

const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;

/** What a step has that this editor does not change, said so that nobody wonders where it went. */
function keptSettings(draft: StepDraft): string[] {
  const step = draft.original;
  if (!step) return [];
  // Learning the requests (auto) replaces limits and ephemeral storage too: nothing of them is kept.
  const resources = draft.auto ? undefined : ownResources(step);
  const kept: string[] = [];
  if (step.runOn?.targetTags) kept.push(`runs once per target tagged ${step.runOn.targetTags.join(', ')}`);
  if (step.runOn?.maxParallelism) kept.push(`at most ${step.runOn.maxParallelism} at once`);
  if (step.container?.dockerfile) kept.push('builds its container from a Dockerfile');
  if (resources?.limits) kept.push('has resource limits');
  if (resources?.requests?.['ephemeral-storage']) kept.push('requests ephemeral storage');
  return kept;
}

/**
 * One step of a deployment process: its name, script, where and how it runs. The server's
 * problems with it are shown by the fields they name.
 */
export function StepEditor(props: {
  idPrefix: string;
  index: number;
  count: number;
  draft: StepDraft;
  pools: WorkerPool[];
  feedListId: string;
  problems: StepProblem[];
  onChange: (change: Partial<StepDraft>) => void;
  onMove: (delta: -1 | 1) => void;
  onRemove: () => void;
}) {
  const { draft, index, problems, onChange } = props;
  const step = `Step ${index + 1}`;
  const id = (field: string) => `${props.idPrefix}-${draft.key}-${field}`;
  const problemOf = (field: StepField) =>
    problems
      .filter((p) => p.field === field)
      .map((p) => p.message)
      .join('; ') || undefined;
  /** The field's problem (and hint), tied to it so that a screen reader reads them with the field. */
  const checked = (field: StepField, hintId?: string) => {
    const problem = problemOf(field);
    const describedBy = [problem ? id(`${field}-problem`) : undefined, hintId].filter(Boolean).join(' ');
    return { 'aria-invalid': problem ? true : undefined, 'aria-describedby': describedBy || undefined };
  };
  const problemText = (field: StepField): ReactNode => {
    const problem = problemOf(field);
    return problem ? (
      <p id={id(`${field}-problem`)} className="field-problem">
        {problem}
      </p>
    ) : null;
  };
  const kept = keptSettings(draft);
  const own = ownResources(draft.original);
  const replacesOwn = draft.auto && (own?.limits !== undefined || own?.requests?.['ephemeral-storage'] !== undefined);

  return (
    <fieldset className="step" aria-invalid={problems.length > 0 || undefined}>
      <legend>
        {step}
        {draft.name.trim() ? `: ${draft.name.trim()}` : ''}
      </legend>
      <div className="step-tools">
        <button
          type="button"
          id={id('up')}
          aria-disabled={index === 0 || undefined}
          onClick={() => index > 0 && props.onMove(-1)}
        >
          Move {step.toLowerCase()} up
        </button>
        <button
          type="button"
          id={id('down')}
          aria-disabled={index === props.count - 1 || undefined}
          onClick={() => index < props.count - 1 && props.onMove(1)}
        >
          Move {step.toLowerCase()} down
        </button>
        <button type="button" id={id('remove')} onClick={props.onRemove}>
          Remove {step.toLowerCase()}
        </button>
      </div>
      {problemText('step')}
      <div className="field">
        <label htmlFor={id('name')}>{step} name</label>
        <input
          id={id('name')}
          value={draft.name}
          onChange={(e) => onChange({ name: e.target.value })}
          {...checked('name')}
        />
        {problemText('name')}
      </div>
      <div className="field">
        <label htmlFor={id('script')}>{step} script</label>
        <ScriptEditor
          id={id('script')}
          value={draft.body}
          onChange={(body) => onChange({ body })}
          describedBy={checked('script')['aria-describedby']}
          invalid={problemOf('script') !== undefined}
        />
        {problemText('script')}
      </div>
      <div className="step-grid">
        <div className="field">
          <label htmlFor={id('syntax')}>{step} shell</label>
          <select
            id={id('syntax')}
            value={draft.syntax}
            onChange={(e) => onChange({ syntax: e.target.value as StepDraft['syntax'] })}
          >
            <option value="">sh (the default)</option>
            <option value="sh">sh</option>
            <option value="bash">bash</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={id('pool')}>{step} worker pool</label>
          <select
            id={id('pool')}
            value={draft.pool}
            onChange={(e) => onChange({ pool: e.target.value })}
            {...checked('pool')}
          >
            <option value="">the default pool</option>
            {props.pools.map((p) => (
              <option key={p.id} value={p.name}>
                {p.name}
              </option>
            ))}
            {draft.pool && !props.pools.some((p) => p.name === draft.pool) && (
              <option value={draft.pool}>{draft.pool}</option>
            )}
          </select>
          {problemText('pool')}
        </div>
        <div className="field">
          <label htmlFor={id('condition')}>{step} runs</label>
          <select
            id={id('condition')}
            value={draft.condition}
            onChange={(e) => onChange({ condition: e.target.value as StepCondition | '' })}
            {...checked('condition')}
          >
            <option value="">after success (default)</option>
            <option value="always">always</option>
            <option value="failure">only after a failure</option>
          </select>
          {problemText('condition')}
        </div>
        <div className="field">
          <label htmlFor={id('timeout')}>{step} timeout (seconds)</label>
          <input
            id={id('timeout')}
            type="number"
            inputMode="numeric"
            min={1}
            max={MAX_TIMEOUT_SECONDS}
            placeholder="3600"
            value={draft.timeout}
            onChange={(e) => onChange({ timeout: e.target.value })}
            {...checked('timeout')}
          />
          {problemText('timeout')}
        </div>
        <div className="field wide">
          <label htmlFor={id('image')}>{step} container image</label>
          <input
            id={id('image')}
            value={draft.image}
            placeholder="e.g. alpine:3.20"
            onChange={(e) => onChange({ image: e.target.value })}
            {...checked('image', id('image-hint'))}
          />
          <span id={id('image-hint')} className="hint">
            Kubernetes workers only; none: the worker&apos;s script image.
          </span>
          {problemText('image')}
        </div>
        <div className="field">
          <label htmlFor={id('cpu')}>{step} CPU request</label>
          <input
            id={id('cpu')}
            value={draft.cpu}
            placeholder="e.g. 500m"
            disabled={draft.auto}
            onChange={(e) => onChange({ cpu: e.target.value })}
            {...checked('cpu')}
          />
          {problemText('cpu')}
        </div>
        <div className="field">
          <label htmlFor={id('memory')}>{step} memory request</label>
          <input
            id={id('memory')}
            value={draft.memory}
            placeholder="e.g. 512Mi"
            disabled={draft.auto}
            onChange={(e) => onChange({ memory: e.target.value })}
            {...checked('memory')}
          />
          {problemText('memory')}
        </div>
        <div className="field wide">
          <label className="choice">
            <input
              type="checkbox"
              checked={draft.auto}
              aria-describedby={id('auto-hint')}
              onChange={(e) => onChange({ auto: e.target.checked })}
            />
            <span>
              <span className="visually-hidden">{step} CPU and memory requests: </span>Learn them (auto)
            </span>
          </label>
          <span id={id('auto-hint')} className="hint">
            Kubernetes workers only: the requests the step&apos;s measured runs recommend, the pool default until enough
            runs are in.{replacesOwn ? ' This replaces its resource limits and ephemeral storage too.' : ''}
          </span>
        </div>
      </div>
      <PackageList
        idPrefix={id('packages')}
        stepLabel={step}
        packages={draft.packages}
        feedListId={props.feedListId}
        problem={problemOf('packages')}
        onChange={(packages) => onChange({ packages })}
      />
      {kept.length > 0 && (
        <p className="hint">Also, from configuration as code, kept as it is: this step {kept.join('; ')}.</p>
      )}
    </fieldset>
  );
}
