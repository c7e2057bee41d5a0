// Whether a container's image is a reference at all, decided as the kubelet decides it before
// any pull (github.com/distribution/reference ParseNormalizedNamed, v0.6.0): an image that fails
// here is InvalidImageName, which no retry fixes, rather than a pull that a registry refused.

const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domain = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[(?:[a-fA-F0-9:]+)\\])(?::[0-9]+)?`;
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const name = `(?:${domain}/)?${pathComponent}(?:/${pathComponent})*`;
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${name})(?::(${tag}))?(?:@(${digest}))?$`);
const ANCHORED_NAME = new RegExp(`^(?:(${domain})/)?(${pathComponent}(?:/${pathComponent})*)$`);
const IDENTIFIER = /^[a-f0-9]{64}$/;
const DIGEST_LENGTHS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** distribution/reference splitDockerDomain: "busybox" is docker.io/library/busybox. */
function splitDockerDomain(ref: string): [string, string] {
  const slash = ref.indexOf('/');
  if (slash < 0) return ['docker.io', `library/${ref}`];
  const maybeDomain = ref.slice(0, slash);
  const rest = ref.slice(slash + 1);
  let [d, remote] = ['docker.io', ref];
  if (maybeDomain === 'localhost' || /[.:]/.test(maybeDomain) || maybeDomain.toLowerCase() !== maybeDomain)
    [d, remote] = [maybeDomain, rest];
  else if (maybeDomain === 'index.docker.io') [d, remote] = ['docker.io', rest];
  if (d === 'docker.io' && !remote.includes('/')) remote = `library/${remote}`;
  return [d, remote];
}

/** reference.Parse: the errors of the grammar, in its order. */
function parse(s: string): string | undefined {
  const m = REFERENCE.exec(s);
  if (!m) {
    if (s === '') return 'repository name must have at least one component';
    return REFERENCE.test(s.toLowerCase()) ? 'repository name must be lowercase' : 'invalid reference format';
  }
  const path = ANCHORED_NAME.exec(m[1]!)?.[2] ?? m[1]!;
  if (path.length > 255) return 'repository name must not be more than 255 characters';
  if (m[3]) {
    const [algorithm, encoded] = m[3].split(':') as [string, string];
    const length = DIGEST_LENGTHS[algorithm];
    if (length === undefined) return 'unsupported digest algorithm';
    if (encoded.length !== length) return 'invalid checksum digest length';
    if (!/^[a-f0-9]+$/.test(encoded)) return 'invalid checksum digest format';
  }
  return undefined;
}

/** Why `image` is not a valid image reference (distribution's wording), or undefined when it is. */
export function invalidImageReason(image: string): string | undefined {
  if (IDENTIFIER.test(image)) return `invalid repository name (${image}), cannot specify 64-byte hexadecimal strings`;
  const [d, remainder] = splitDockerDomain(image);
  const colon = remainder.indexOf(':');
  const remote = colon < 0 ? remainder : remainder.slice(0, colon);
  if (remote.toLowerCase() !== remote) return `invalid reference format: repository name (${remote}) must be lowercase`;
  return parse(`${d}/${remainder}`);
}

/** The waiting message and InspectFailed event of the kubelet (images.applyDefaultImageTag). */
export function invalidImageMessage(image: string): string | undefined {
  const reason = invalidImageReason(image);
  return reason === undefined
    ? undefined
    : `Failed to apply default image tag ${JSON.stringify(image)}: couldn't parse image name ${JSON.stringify(image)}: ${reason}`;
}
