// The differential battery, in the order it runs. Each step gets its own namespace
// (<prefix>-<step name>), so a failing step leaves the others' state untouched.
import type { Step } from './battery.js';
import { cronJobs } from './stepsCronJobs.js';
import { kubectlCreate, serverSideApply } from './stepsClients.js';
import { apiServices, daemonSets, replicationControllers } from './stepsDaemonSets.js';
import { createGet, dryRun, paging, patches, selectors, update, validation } from './stepsCrud.js';
import { jobs } from './stepsJobs.js';
import { podStreams } from './stepsPodStreams.js';
import { endpointAddresses, services } from './stepsServices.js';
import { gone, rbac, watches } from './stepsWatchAuth.js';

export const BATTERY: readonly Step[] = [
  createGet,
  update,
  validation,
  selectors,
  paging,
  dryRun,
  patches,
  services,
  endpointAddresses,
  daemonSets,
  replicationControllers,
  apiServices,
  jobs,
  cronJobs,
  podStreams,
  watches,
  gone,
  rbac,
  kubectlCreate,
  serverSideApply,
];
