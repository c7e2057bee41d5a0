/** The parameter names of a route template, in order: '/a/:id/b/:v' gives ['id', 'v']. */
type ParamNames<T extends string> = T extends `${string}:${infer Name}/${infer Rest}`
  ? [Name, ...ParamNames<`/${Rest}`>]
  : T extends `${string}:${infer Name}`
    ? [Name]
    : [];

type ParamValues<Names extends string[]> = { [K in keyof Names]: string };

/**
 * A path with parameters, defined once for both ends: the server registers `template`, a client
 * calls it with the values to get the path, so the two cannot drift apart.
 */
export interface PathTemplate<T extends string> {
  /** The route as the server registers it, `:name` for each parameter. */
  readonly template: T;
  /** The path with each value, in the template's order, percent-encoded into its segment. */
  (...values: ParamValues<ParamNames<T>>): string;
}

export function pathTemplate<T extends string>(template: T): PathTemplate<T> {
  const build = (...values: string[]): string => {
    let next = 0;
    return template.replace(/:[A-Za-z]+/g, () => encodeURIComponent(values[next++]!));
  };
  return Object.assign(build, { template });
}
