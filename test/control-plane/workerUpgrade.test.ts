// The server-driven upgrade against a real kube-apiserver (its validation, RBAC and watch), with
// the sandbox's nodes and controllers attached: the same scenario as test/e2e/workerUpgrade.test.ts.
import { after, before, describe, test } from 'node:test';
import { DEFAULT_CLUSTER } from '@longshore/sandbox';
import {
  UPGRADE_IMAGES,
  UpgradeScenario,
  putKubeClientsOnPath,
  upgradeToolsMissing,
} from '../support/upgradeScenario.js';
import { referenceClusterAvailable, startReferenceCluster, type ReferenceCluster } from './referenceCluster.js';
import { attachSandbox, type AttachedSandbox } from './sandboxOnReference.js';

const skip =
  (referenceClusterAvailable() ? false : 'reference control plane not built (bash test/control-plane/build.sh)') ||
  upgradeToolsMissing();
let ref: ReferenceCluster | undefined;
let sandbox: AttachedSandbox | undefined;
let scenario: UpgradeScenario | undefined;

describe('server-driven upgrades on the reference control plane', { skip }, () => {
  before(async () => {
    putKubeClientsOnPath();
    ref = await startReferenceCluster();
    sandbox = await attachSandbox(ref, {
      ...DEFAULT_CLUSTER,
      images: { ...DEFAULT_CLUSTER.images, ...UPGRADE_IMAGES },
    });
    scenario = new UpgradeScenario(ref.kubeconfigPath);
    await scenario.installA();
  });
  after(async () => {
    await scenario?.close();
    await sandbox?.stop();
    await ref?.stop();
  });

  test('A to B with a deployment running through it, on the real API server', () => scenario!.upgradesToB());

  test('a broken C is rolled back on the real API server', () => scenario!.brokenIsRolledBack());
});
