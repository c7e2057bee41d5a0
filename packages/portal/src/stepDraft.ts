import type { ScriptStep } from '@longshore/client';

export type StepCondition = NonNullable<ScriptStep['condition']>;
type PackageReference = NonNullable<ScriptStep['packages']>[number];
export type PackageKind = NonNullable<PackageReference['kind']>;
/** A step's own requests and limits, as opposed to `auto`. */
export type OwnResources = Exclude<ScriptStep['resources'], 'auto' | undefined>;

export interface PackageDraft {
  key: string;
  packageId: string;
  /** Empty: the newest in the feed when the release is made. */
  version: string;
  kind: PackageKind;
  /** As loaded, so that what the editor does not show (its folder name) is saved as it was. */
  original: PackageReference | undefined;
}

/** A step as the editor holds it: text fields as typed, turned into the API's shape on save. */
export interface StepDraft {
  /** Stays with the step as it moves, so React keeps its fields (and focus) with it. */
  key: string;
  /** As loaded, so that what the editor does not show (target tags, limits, a Dockerfile) is saved as it was. */
  original: ScriptStep | undefined;
  name: string;
  body: string;
  /** Empty: the server's default, sh. */
  syntax: '' | 'sh' | 'bash';
  pool: string;
  image: string;
  cpu: string;
  memory: string;
  /** Requests learned from the step's measured runs (`resources: 'auto'`); cpu and memory wait, unsent, while on. */
  auto: boolean;
  /** Empty: run when the steps before it succeeded, the server's default. */
  condition: '' | StepCondition;
  timeout: string;
  packages: PackageDraft[];
}

let drafts = 0;
const newKey = () => `d${++drafts}`;

export function emptyPackage(): PackageDraft {
  return { key: newKey(), packageId: '', version: '', kind: 'archive', original: undefined };
}

export function emptyStep(): StepDraft {
  return {
    key: newKey(),
    original: undefined,
    name: '',
    body: '',
    syntax: '',
    pool: '',
    image: '',
    cpu: '',
    memory: '',
    auto: false,
    condition: '',
    timeout: '',
    packages: [],
  };
}

/** The step's own requests and limits; none when it has none or learns them (`auto`). */
export function ownResources(step: ScriptStep | undefined): OwnResources | undefined {
  return step?.resources === 'auto' ? undefined : step?.resources;
}

export function draftOf(step: ScriptStep): StepDraft {
  const own = ownResources(step);
  return {
    key: newKey(),
    original: step,
    name: step.name,
    body: step.script.body,
    syntax: step.script.syntax ?? '',
    pool: step.runOn?.pool ?? '',
    image: step.container?.image ?? '',
    cpu: own?.requests?.cpu ?? '',
    memory: own?.requests?.memory ?? '',
    auto: step.resources === 'auto',
    condition: step.condition ?? '',
    timeout: step.timeoutSeconds === undefined ? '' : String(step.timeoutSeconds),
    packages: (step.packages ?? []).map((p) => ({
      key: newKey(),
      packageId: p.packageId,
      version: p.version ?? '',
      kind: p.kind ?? 'archive',
      original: p,
    })),
  };
}

/** The object without its undefined fields, or undefined when none is left (the API takes no empty `runOn: {}`). */
function present<T extends object>(object: T): T | undefined {
  const entries = Object.entries(object).filter(([, v]) => v !== undefined);
  return entries.length === 0 ? undefined : (Object.fromEntries(entries) as T);
}

const text = (value: string): string | undefined => value.trim() || undefined;

/** The step to save; what is out of range is sent as it is, for the server to say what is wrong by the field. */
export function stepOf(draft: StepDraft): ScriptStep {
  const { original } = draft;
  const own = ownResources(original);
  const timeout = draft.timeout.trim();
  const requests = present({
    ...own?.requests,
    cpu: text(draft.cpu),
    memory: text(draft.memory),
  });
  return {
    ...original,
    name: draft.name.trim(),
    script: { ...original?.script, syntax: draft.syntax || undefined, body: draft.body },
    runOn: present({ ...original?.runOn, pool: draft.pool || undefined }),
    container: present({ ...original?.container, image: text(draft.image) }),
    // `auto` stands for requests and limits alike: the worker sets what the runs recommend.
    resources: draft.auto ? 'auto' : present({ ...own, requests }),
    packages:
      draft.packages.length === 0
        ? undefined
        : draft.packages.map((p) => ({
            ...p.original,
            packageId: p.packageId.trim(),
            version: text(p.version),
            kind: p.kind,
          })),
    condition: draft.condition || undefined,
    timeoutSeconds: timeout === '' ? undefined : Number(timeout),
  };
}
