import type { ApiConnection } from './apiConnection.js';

/** A kind the API lists, and shows one of by id or name (`/api/projects/{ref}`). */
export class NamedResourceApi<T> {
  constructor(
    protected readonly connection: ApiConnection,
    /** The collection's path, e.g. /api/projects. */
    protected readonly path: string,
  ) {}

  async list(signal?: AbortSignal): Promise<T[]> {
    const { items } = await this.connection.json<{ items: T[] }>({ method: 'GET', path: this.path, signal });
    return items;
  }

  /** One, by its id or its name. */
  get(ref: string, signal?: AbortSignal): Promise<T> {
    return this.connection.json<T>({ method: 'GET', path: this.pathOf(ref), signal });
  }

  protected pathOf(ref: string): string {
    return `${this.path}/${encodeURIComponent(ref)}`;
  }
}
