// A byte stream carried in a WebSocket's binary messages, as client-go's TunnelingConnection
// carries SPDY for port-forward (subprotocol SPDY/3.1+portforward.k8s.io): each write is one
// message, and reads return the messages' bytes in order.
import { Duplex } from 'node:stream';
import type { WebSocketConnection } from './websocketConnection.js';

export const SPDY_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

export function tunnelStream(ws: WebSocketConnection): Duplex {
  const duplex = new Duplex({
    read: () => undefined,
    write: (chunk: Buffer, _enc, cb) => {
      void ws.send(chunk).then(() => cb(), cb);
    },
    final: (cb) => {
      ws.close();
      cb();
    },
  });
  ws.onMessage(({ data }) => duplex.push(data));
  ws.onClose(() => {
    duplex.push(null);
    duplex.destroy();
  });
  return duplex;
}
