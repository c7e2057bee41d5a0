export { buildServer, startServer, type BuiltServer, type LongshoreServer } from './app.js';
export {
  SERVER_ENV_SETTINGS,
  ServerConfig,
  parseServerConfig,
  serverConfigFromEnv,
  type ServerConfigInput,
} from './config.js';
export { ApplyDocument } from './resources/apply.js';
export { redactDatabaseUrl } from './store/databaseUrl.js';
export { copySqliteToPostgres, type StoreCopyOptions, type TableCopied } from './store/sqliteToPostgres.js';
