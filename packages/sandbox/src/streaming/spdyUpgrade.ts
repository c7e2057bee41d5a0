// The upgrade to SPDY/3.1 as k8s.io/apimachinery's httpstream does it: the client lists the
// stream protocols it speaks in X-Stream-Protocol-Version headers (most preferred first), the
// server picks the first it supports (else 403 and the list it accepts) and answers
// 101 Switching Protocols with Upgrade: SPDY/3.1.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { rawHttpAnswer } from './websocketConnection.js';

export const SPDY_UPGRADE = 'SPDY/3.1';

export function isSpdyRequest(req: IncomingMessage): boolean {
  return String(req.headers.upgrade ?? '')
    .toLowerCase()
    .includes('spdy/3.1');
}

/** The X-Stream-Protocol-Version values, in order, whether sent as several headers or one list. */
export function offeredStreamProtocols(req: IncomingMessage): string[] {
  const out: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === 'x-stream-protocol-version') {
      out.push(
        ...req.rawHeaders[i + 1]!.split(',')
          .map((p) => p.trim())
          .filter(Boolean),
      );
    }
  }
  return out;
}

/** Answers the upgrade; the protocol chosen, or undefined when it was refused (the answer is written). */
export function upgradeToSpdy(req: IncomingMessage, socket: Duplex, supported: string[]): string | undefined {
  const connection = String(req.headers.connection ?? '').toLowerCase();
  if (!connection.includes('upgrade') || !isSpdyRequest(req)) {
    rawHttpAnswer(socket, 400, 'Bad Request', 'unable to upgrade: missing upgrade headers in request\n');
    return undefined;
  }
  const offered = offeredStreamProtocols(req);
  if (!offered.length) {
    rawHttpAnswer(socket, 400, 'Bad Request', 'unable to upgrade: X-Stream-Protocol-Version is required\n');
    return undefined;
  }
  const chosen = offered.find((p) => supported.includes(p));
  if (!chosen) {
    rawHttpAnswer(
      socket,
      403,
      'Forbidden',
      `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${supported.join(' ')}]\n`,
      supported.map((p) => `X-Accepted-Stream-Protocol-Versions: ${p}`),
    );
    return undefined;
  }
  socket.write(
    [
      'HTTP/1.1 101 Switching Protocols',
      'Connection: Upgrade',
      `Upgrade: ${SPDY_UPGRADE}`,
      `X-Stream-Protocol-Version: ${chosen}`,
      '',
      '',
    ].join('\r\n'),
  );
  return chosen;
}
