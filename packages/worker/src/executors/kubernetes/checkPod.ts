import { randomBytes } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import { LABELS, SCRIPT_CONTAINER, labelValue } from './kubeNames.js';
import type { ScriptPodsConfig } from './scriptPodsConfig.js';

/** The selector for this worker's health-check pods (the sweeper removes any it finds). */
export function checkPodSelector(workerName: string): string {
  return `${LABELS.worker}=${labelValue(workerName)},${LABELS.healthCheck}=true`;
}

/**
 * The pod a health check creates and deletes at once, to learn whether a script pod would be
 * accepted now (Role, quota, admission policy): the script pods' image, ServiceAccount, pull
 * secrets, placement and security contexts, with tiny requests and limits so that no quota or
 * LimitRange turns it away for size. It is never meant to run; the pod spec patch is left out
 * because it may refer to the workspace volumes a script pod has and this one does not.
 */
export function buildCheckPod(config: ScriptPodsConfig): V1Pod {
  const name = `longshore-health-${randomBytes(5).toString('hex')}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: config.namespace,
      labels: { ...config.labels, [LABELS.worker]: labelValue(config.workerName), [LABELS.healthCheck]: 'true' },
    },
    spec: {
      restartPolicy: 'Never',
      // A backstop for a worker that dies between creating and deleting it.
      activeDeadlineSeconds: 60,
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(config.serviceAccountName ? { serviceAccountName: config.serviceAccountName } : {}),
      ...(config.nodeSelector ? { nodeSelector: config.nodeSelector } : {}),
      ...(config.tolerations ? { tolerations: config.tolerations } : {}),
      ...(config.imagePullSecrets?.length
        ? { imagePullSecrets: config.imagePullSecrets.map((n) => ({ name: n })) }
        : {}),
      ...(config.podSecurityContext ? { securityContext: config.podSecurityContext } : {}),
      containers: [
        {
          name: SCRIPT_CONTAINER,
          image: config.worker.image,
          ...(config.worker.imagePullPolicy ? { imagePullPolicy: config.worker.imagePullPolicy } : {}),
          command: ['/bin/sh', '-c', 'exit 0'],
          resources: { requests: { cpu: '1m', memory: '8Mi' }, limits: { cpu: '10m', memory: '16Mi' } },
          ...(config.containerSecurityContext ? { securityContext: config.containerSecurityContext } : {}),
        },
      ],
    },
  };
}
