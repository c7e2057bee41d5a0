import type { ClusterConfig } from '@longshore/sandbox';

/**
 * The seed's autoscaling scenario, shared by the sandbox, the end-to-end and the reference
 * control plane tests: one group of 2-CPU nodes that starts at zero, scales up within seconds
 * and removes nodes unneeded for 3 s; three operations of 1500m each cannot share a node.
 */
export const AUTOSCALED_FROM_ZERO: Pick<ClusterConfig, 'nodeGroups' | 'autoscaler'> = {
  nodeGroups: [
    {
      name: 'autoscaled',
      min: 0,
      max: 5,
      cpu: '2',
      memory: '4Gi',
      pods: 110,
      labels: {},
      taints: [],
      provisioningDelayMs: 1_500,
    },
  ],
  autoscaler: { scanIntervalMs: 300, scaleDownUnneededMs: 3_000, scaleDownUtilizationThreshold: 0.5 },
};

/** Environment `Cluster`, targets t1..t3 tagged `burst`, and project `Burst` whose step runs 1500m on each. */
export const BURST_PROJECT = `
environments: [ { name: Cluster } ]
targets:
  - { name: t1, type: generic, environments: [Cluster], tags: [burst] }
  - { name: t2, type: generic, environments: [Cluster], tags: [burst] }
  - { name: t3, type: generic, environments: [Cluster], tags: [burst] }
projects:
  - name: Burst
    process:
      steps:
        - name: Work
          runOn: { targetTags: [burst] }
          resources: { requests: { cpu: 1500m } }
          script: { body: 'echo "working on #{Longshore.Target.Name}"; sleep 1' }
`;
