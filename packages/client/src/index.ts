// The browser-safe entry: fetch only, no Node module. Certificate pinning is Node's, in ./node.
export { LongshoreClient, type LongshoreClientOptions } from './longshoreClient.js';
export type {
  ArchiveContentType,
  DeploymentsApi,
  MachinePoliciesApi,
  PackagesApi,
  ProjectsApi,
  ReleasesApi,
  TasksApi,
  WorkersApi,
} from './longshoreClient.js';
export type { ApiKeysApi, RolesApi, SessionsApi, TeamsApi, UsersApi } from './identityApis.js';
export type { NamedResourceApi } from './namedResourceApi.js';
export type { TaskLogHandlers } from './taskLogFollower.js';
export type { WebhooksApi } from './webhooksApi.js';
export type * from './apiTypes.js';
export type * from './webhookTypes.js';
export { LongshoreError, isErrorCode, isLongshoreError, type ErrorCode } from '@longshore/protocol';
