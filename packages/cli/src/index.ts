export { ApiClient, clientOptionsFromEnv } from './apiClient.js';
export { followTask, type FollowedLine } from './taskFollower.js';
