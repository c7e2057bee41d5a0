export { startServer, type LongshoreServer } from './app.js';
export { ServerConfig, parseServerConfig, serverConfigFromEnv, type ServerConfigInput } from './config.js';
export { ApplyDocument } from './resources/apply.js';
