// kubectl exec, attach, run -it and port-forward against a real kube-apiserver 1.34 with the
// sandbox's nodes attached: the apiserver checks the request, then (as it does for pods/log)
// reaches the node's kubelet endpoint from the Node's status, translating kubectl's WebSocket
// v5 exec and its tunneled port-forward into SPDY toward it (StreamTranslator, tunneling
// handler). So the sandbox's kubelet side is driven exactly as a real control plane drives a kubelet.
import { before, describe, it } from 'node:test';
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
import { referenceForSuite, referenceSkip } from './sandboxOnReference.js';

describe('exec, attach and port-forward through kube-apiserver 1.34', { skip: referenceSkip(), concurrency: 1 }, () => {
  const suite = referenceForSuite();
  let webPort = 0;
  before(async () => {
    if (referenceSkip()) return;
    await readyPod(suite.env, shellPod('shell'));
    webPort = await freePort();
    await webPodAndService(suite.env, 'web', webPort);
  });

  for (const [transport, transportEnv] of Object.entries(EXEC_TRANSPORTS)) {
    it(`kubectl exec over ${transport}`, () => execScenarios(suite.env, 'shell', transportEnv));
    it(`kubectl exec -it over ${transport}`, () => execTerminalScenario(suite.env, 'shell', transportEnv));
    it(`kubectl exec over ${transport} interrupted`, () =>
      interruptedExecLeavesNothing(suite.env, 'shell', transportEnv));
    it(`kubectl attach -i over ${transport}`, () => attachScenario(suite.env, `attach-${transport}`, transportEnv));
    it(`kubectl run -it --rm over ${transport}`, () =>
      runInteractiveScenario(suite.env, `run-${transport}`, transportEnv));
  }

  for (const [transport, transportEnv] of Object.entries(PORT_FORWARD_TRANSPORTS)) {
    it(`kubectl port-forward pod/ and svc/ over ${transport}`, () =>
      portForwardScenarios(suite.env, 'web', webPort, transportEnv));
  }

  it('kubectl exec into a pod on an autoscaled node', () => execOnAutoscaledNode(suite.env, 'far'));
});
