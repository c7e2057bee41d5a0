/**
 * What a browser does across redirects, without drawing anything: it follows each Location by
 * hand, keeps each host's cookies and sends them back, so a test can stop at any hop, read where
 * it was sent, and change what it sends.
 */
export class CookieBrowser {
  readonly #cookies = new Map<string, Map<string, string>>();

  /** One GET with this browser's cookies for the host; its Set-Cookie headers are kept. */
  async get(url: string): Promise<{ status: number; location: string | undefined; body: string }> {
    const { host } = new URL(url);
    const jar = this.#cookies.get(host) ?? new Map<string, string>();
    this.#cookies.set(host, jar);
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const [name, value] = [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=.*1970/i.test(a));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    const location = res.headers.get('location') ?? undefined;
    return { status: res.status, location: location && new URL(location, url).href, body: await res.text() };
  }

  /** Follows redirects from `url` until one leads to `until` (not fetched), and answers that URL. */
  async followUntil(url: string, until: (next: string) => boolean, hops = 20): Promise<string> {
    let at = url;
    for (let i = 0; i < hops; i++) {
      const { status, location, body } = await this.get(at);
      if (!location) throw new Error(`${at} answered ${status} without a redirect: ${body.slice(0, 300)}`);
      if (until(location)) return location;
      at = location;
    }
    throw new Error(`more than ${hops} redirects from ${url}`);
  }

  cookie(host: string, name: string): string | undefined {
    return this.#cookies.get(host)?.get(name);
  }
}
