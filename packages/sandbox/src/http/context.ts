// What request handlers share: the storage, watches, tokens, RBAC and settings of one sandbox.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AuditLog } from '../audit/auditLog.js';
import type { TokenAuthority } from '../auth/tokens.js';
import type { UserInfo } from '../auth/user.js';
import type { RbacSource } from '../rbac/evaluate.js';
import type { ResourceDef } from '../resources/registry.js';
import type { RestStorage } from '../storage/rest.js';
import type { ObjectStore } from '../storage/store.js';
import type { WatchRegistry } from '../watch/watchStream.js';
import type { RequestInfo } from './requestInfo.js';

/** Serves pods/log for pods a virtual node runs (part 2); without one, logs are unavailable. */
export interface PodLogSource {
  read(
    namespace: string,
    pod: string,
    container: string,
    opts: { follow: boolean; timestamps: boolean; sinceTime?: string; tailLines?: number },
    res: ServerResponse,
  ): boolean;
}

export interface ServerContext {
  store: ObjectStore;
  rest: RestStorage;
  watches: WatchRegistry;
  tokens: TokenAuthority;
  rbac: RbacSource;
  audit: AuditLog;
  serverAddress: string;
  bookmarkIntervalMs: number;
  logs?: PodLogSource;
}

export interface ApiRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  info: RequestInfo;
  user: UserInfo;
  def: ResourceDef;
  /** Raw body text (PUT/POST/PATCH/DELETE). */
  body: string;
  /** Set for a request with an Upgrade header: its socket, once the handler takes it over. */
  upgrade?: UpgradeRequest;
}

export interface UpgradeRequest {
  socket: Duplex;
  /** Bytes the client sent after the request head. */
  head: Buffer;
}
