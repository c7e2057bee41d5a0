import type { Process, ScriptStep } from '@longshore/client';

const CONDITIONS: Record<NonNullable<ScriptStep['condition']>, string> = {
  success: 'when the steps before it succeeded',
  always: 'always',
  failure: 'when a step before it failed',
};

/** What a step says besides its name and script, as short phrases. */
function settingsOf(step: ScriptStep): string[] {
  const auto = step.resources === 'auto';
  const requests = step.resources === 'auto' ? undefined : step.resources?.requests;
  return [
    `on ${step.runOn?.pool ? `pool ${step.runOn.pool}` : 'the default pool'}`,
    step.runOn?.targetTags && `once per target tagged ${step.runOn.targetTags.join(', ')}`,
    `runs ${CONDITIONS[step.condition ?? 'success']}`,
    step.timeoutSeconds !== undefined && `times out after ${step.timeoutSeconds} s`,
    step.container?.image && `in image ${step.container.image}`,
    auto && 'requests what its measured runs recommend (auto)',
    requests?.cpu && `requests ${requests.cpu} CPU`,
    requests?.memory && `requests ${requests.memory} memory`,
    step.packages?.length &&
      `packages ${step.packages.map((p) => `${p.packageId}${p.version ? ` ${p.version}` : ''}`).join(', ')}`,
  ].filter((s): s is string => typeof s === 'string' && s !== '');
}

/** The deployment process, read-only: for whoever may see a project but not change its process. */
export function ProcessView({ process }: { process: Process }) {
  return (
    <section className="card" aria-labelledby="process-heading">
      <h2 id="process-heading">Deployment process</h2>
      {process.steps.length === 0 ? (
        <p className="empty">No steps yet.</p>
      ) : (
        <ol className="process-view">
          {process.steps.map((step) => (
            <li key={step.name}>
              <h3>{step.name}</h3>
              <p>{settingsOf(step).join(' · ')}</p>
              {/* Focusable: a long line scrolls sideways, by keyboard too. */}
              <pre className="log" tabIndex={0} role="region" aria-label={`${step.name} script`}>
                {step.script.body}
              </pre>
            </li>
          ))}
        </ol>
      )}
      <p className="hint">Changing the process needs permission process:edit.</p>
    </section>
  );
}
