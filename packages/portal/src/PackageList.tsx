import { emptyPackage, type PackageDraft, type PackageKind } from './stepDraft.js';

/** A step's packages: each an id from the feed (or a Docker image) and an optional version. */
export function PackageList(props: {
  idPrefix: string;
  stepLabel: string;
  packages: PackageDraft[];
  /** The id of a datalist of the feed's package ids, to pick from. */
  feedListId: string;
  problem: string | undefined;
  onChange: (packages: PackageDraft[]) => void;
}) {
  const { idPrefix, stepLabel, packages, onChange } = props;
  const edit = (key: string, change: Partial<PackageDraft>) =>
    onChange(packages.map((p) => (p.key === key ? { ...p, ...change } : p)));
  const problemId = `${idPrefix}-packages-problem`;
  return (
    <fieldset className="packages" aria-describedby={props.problem ? problemId : undefined}>
      <legend>{stepLabel} packages</legend>
      {packages.length === 0 && <p className="hint">None: the script gets no files.</p>}
      {packages.map((p, i) => {
        const label = `${stepLabel} package ${i + 1}`;
        const id = `${idPrefix}-package-${p.key}`;
        return (
          <div className="package" key={p.key}>
            <div className="field">
              <label htmlFor={`${id}-id`}>
                {label} {p.kind === 'docker-image' ? 'image' : 'id'}
              </label>
              <input
                id={`${id}-id`}
                list={props.feedListId}
                value={p.packageId}
                onChange={(e) => edit(p.key, { packageId: e.target.value })}
              />
            </div>
            <div className="field">
              <label htmlFor={`${id}-version`}>{label} version</label>
              <input
                id={`${id}-version`}
                value={p.version}
                placeholder={p.kind === 'docker-image' ? 'a tag (required)' : 'the newest'}
                onChange={(e) => edit(p.key, { version: e.target.value })}
              />
            </div>
            <div className="field">
              <label htmlFor={`${id}-kind`}>{label} kind</label>
              <select
                id={`${id}-kind`}
                value={p.kind}
                onChange={(e) => edit(p.key, { kind: e.target.value as PackageKind })}
              >
                <option value="archive">archive from the feed</option>
                <option value="docker-image">Docker image (needs Docker)</option>
              </select>
            </div>
            <button type="button" onClick={() => onChange(packages.filter((q) => q.key !== p.key))}>
              Remove {label.toLowerCase()}
            </button>
          </div>
        );
      })}
      {props.problem && (
        <p id={problemId} className="field-problem">
          {props.problem}
        </p>
      )}
      <button type="button" onClick={() => onChange([...packages, emptyPackage()])}>
        Add a package to {stepLabel.toLowerCase()}
      </button>
    </fieldset>
  );
}
