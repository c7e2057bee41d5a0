// Pods of the sandbox share the host's network (no network namespace: one would need a veth
// pair, which needs root, or a user-mode network stack such as slirp4netns or pasta, which a
// fresh machine lacks, and the pods must still reach the API server and other services on the
// host's loopback). So a container's ports are the host's ports, and a port something else
// already listens on makes the container's own bind fail. The node looks before it starts a
// container and says so in a Warning event, beside the program's own error in its log.
import { readFileSync } from 'node:fs';

export interface PortInUse {
  port: number;
  protocol: string;
  address: string;
}

/** "0100007F:1F90" -> 127.0.0.1:8080; IPv6 addresses are four little-endian 32-bit words. */
function parseAddress(hex: string): { address: string; port: number } {
  const [ip = '', port = '0'] = hex.split(':');
  const words = ip.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  let address: string;
  if (bytes.length === 4) address = bytes.join('.');
  else {
    const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
    address = `[${groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::')}]`;
  }
  return { address, port: parseInt(port, 16) };
}

/** Listening sockets of the host: TCP in LISTEN, UDP bound and not connected. */
function listeners(protocol: string): { address: string; port: number }[] {
  const files =
    protocol === 'UDP'
      ? ['/proc/net/udp', '/proc/net/udp6']
      : protocol === 'TCP'
        ? ['/proc/net/tcp', '/proc/net/tcp6']
        : [];
  const out: { address: string; port: number }[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, remote, state] = line.trim().split(/\s+/);
      if (!local || !remote) continue;
      const listening = protocol === 'TCP' ? state === '0A' : state === '07' && /^0+:0+$/.test(remote);
      if (listening) out.push(parseAddress(local));
    }
  }
  return out;
}

/** The container's declared ports that something on the host already listens on. */
export function portsInUse(ports: readonly Record<string, unknown>[]): PortInUse[] {
  const out: PortInUse[] = [];
  for (const p of ports) {
    const port = Number(p.containerPort);
    const protocol = String(p.protocol ?? 'TCP');
    const holder = listeners(protocol).find((l) => l.port === port);
    if (holder) out.push({ port, protocol, address: `${holder.address}:${port}` });
  }
  return out;
}

export function portInUseMessage(container: string, p: PortInUse): string {
  return (
    `Port ${p.port}/${p.protocol} of container ${container} is already in use on this machine (${p.address} listens): ` +
    "pods of the sandbox share the machine's network, so their ports are its ports; free the port or give the container another one"
  );
}
