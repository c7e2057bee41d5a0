// kubectl exec, attach, run -it and port-forward against a real kube-apiserver 1.34 with the
// sandbox's nodes attached: the apiserver checks the request, then (as it does for pods/log)
// reaches the node's kubelet endpoint from the Node's status, translating kubectl's WebSocket
// v5 exec and its tunneled port-forward into SPDY toward it (StreamTranslator, tunneling
// handler). So the sandbox's kubelet side is driven exactly as a real control plane drives a kubelet.
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CLUSTER } from '@longshore/sandbox';
import {
  attachScenario,
  EXEC_TRANSPORTS,
  execOnAutoscaledNode,
  execScenarios,
  interruptedExecLeavesNothing,
  readyPod,
  shellPod,
} from '../sandbox/scenarios/streamScenarios.js';
import { execTerminalScenario, runInteractiveScenario } from '../sandbox/scenarios/terminalScenarios.js';
import {
  freePort,
  PORT_FORWARD_TRANSPORTS,
  portForwardScenarios,
  webPodAndService,
} from '../sandbox/scenarios/portForwardScenarios.js';
import { ClientEnv, clientsMissing } from '../sandbox/support.js';
import { attachSandbox, type AttachedSandbox } from './sandboxOnReference.js';
import { referenceClusterAvailable, startReferenceCluster, type ReferenceCluster } from './referenceCluster.js';

const skip =
  clientsMissing() ||
  (referenceClusterAvailable() ? false : 'reference control plane not built (bash test/control-plane/build.sh)');

describe('exec, attach and port-forward through kube-apiserver 1.34', { skip, concurrency: 1 }, () => {
  let ref: ReferenceCluster | undefined;
  let sandbox: AttachedSandbox | undefined;
  let env: ClientEnv;
  let webPort = 0;

  before(async () => {
    ref = await startReferenceCluster();
    sandbox = await attachSandbox(ref, DEFAULT_CLUSTER);
    env = new ClientEnv(ref.kubeconfigPath);
    await readyPod(env, shellPod('shell'));
    webPort = await freePort();
    await webPodAndService(env, 'web', webPort);
  });
  after(async () => {
    await sandbox?.stop();
    await ref?.stop();
    env?.cleanup();
  });

  for (const [transport, transportEnv] of Object.entries(EXEC_TRANSPORTS)) {
    it(`kubectl exec over ${transport}`, () => execScenarios(env, 'shell', transportEnv));
    it(`kubectl exec -it over ${transport}`, () => execTerminalScenario(env, 'shell', transportEnv));
    it(`kubectl exec over ${transport} interrupted`, () => interruptedExecLeavesNothing(env, 'shell', transportEnv));
    it(`kubectl attach -i over ${transport}`, () => attachScenario(env, `attach-${transport}`, transportEnv));
    it(`kubectl run -it --rm over ${transport}`, () => runInteractiveScenario(env, `run-${transport}`, transportEnv));
  }

  for (const [transport, transportEnv] of Object.entries(PORT_FORWARD_TRANSPORTS)) {
    it(`kubectl port-forward pod/ and svc/ over ${transport}`, () =>
      portForwardScenarios(env, 'web', webPort, transportEnv));
  }

  it('kubectl exec into a pod on an autoscaled node', () => execOnAutoscaledNode(env, 'far'));
});
