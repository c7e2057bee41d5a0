// The configuration parser, its own entry: Node processes parse configurations, browsers do not.
export { configFromEnv, type EnvironmentSettings, type EnvironmentVariables } from './configFromEnv.js';
export { describeSchemaError, parseConfig, type ParseConfigOptions } from './parseConfig.js';
export { memberSchema, settingSchema } from './settingSchema.js';
