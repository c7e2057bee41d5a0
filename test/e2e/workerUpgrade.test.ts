// The server upgrades a helm-installed Kubernetes worker in the sandbox, with real helm: A to B
// with a deployment running through it, then a broken C rolled back (test/support/upgradeScenario.ts).
// test/control-plane/workerUpgrade.test.ts runs the same against the reference control plane.
import { after, before, describe, test } from 'node:test';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import {
  UPGRADE_IMAGES,
  UpgradeScenario,
  putKubeClientsOnPath,
  upgradeToolsMissing,
} from '../support/upgradeScenario.js';

let sandbox: Sandbox;
let scenario: UpgradeScenario;

describe('server-driven upgrades of a helm-installed worker', { skip: upgradeToolsMissing() }, () => {
  before(async () => {
    putKubeClientsOnPath();
    sandbox = await startSandbox({ cluster: { images: UPGRADE_IMAGES } });
    scenario = new UpgradeScenario(sandbox.kubeconfigPath);
    await scenario.installA();
  });
  after(async () => {
    await scenario?.close();
    await sandbox?.stop();
  });

  test('A to B: helm upgrade in the task log, the worker back at B with the same id, a running deployment whole, then a deployment on B', () =>
    scenario.upgradesToB());

  test('a broken C (its worker exits at start) is rolled back: the worker is back on B and healthy, and the task says why', () =>
    scenario.brokenIsRolledBack());
});
