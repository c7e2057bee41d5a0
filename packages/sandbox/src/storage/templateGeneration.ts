// DaemonSet's spec.templateGeneration, which apps/v1 carries in the annotation
// `deprecated.daemonset.template.generation`: 1 on create, +1 each time the pod template
// changes, never set by the client (the daemonset strategy's PrepareForCreate/PrepareForUpdate).
import type { Obj } from './objectMeta.js';

export const TEMPLATE_GENERATION = 'deprecated.daemonset.template.generation';

const annotationsOf = (o: Obj): Record<string, string> => {
  const meta = o.metadata as Obj;
  meta.annotations ??= {};
  return meta.annotations as Record<string, string>;
};

export function setTemplateGeneration(next: Obj, current?: Obj): void {
  const annotations = annotationsOf(next);
  if (!current) {
    const asked = Number(annotations[TEMPLATE_GENERATION]);
    annotations[TEMPLATE_GENERATION] = String(Number.isInteger(asked) && asked >= 1 ? asked : 1);
    return;
  }
  const was = Number(
    ((current.metadata as Obj).annotations as Record<string, string> | undefined)?.[TEMPLATE_GENERATION],
  );
  const base = Number.isInteger(was) && was >= 1 ? was : 1;
  const templateOf = (o: Obj): string => JSON.stringify((o.spec as Obj | undefined)?.template);
  annotations[TEMPLATE_GENERATION] = String(templateOf(next) === templateOf(current) ? base : base + 1);
}
