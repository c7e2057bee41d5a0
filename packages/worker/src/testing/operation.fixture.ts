import { randomUUID } from 'node:crypto';
import type { Operation } from '@longshore/protocol';
import { pino } from 'pino';

/** A minimal valid operation; tests override what they exercise. */
export function testOperation(overrides: Partial<Operation> = {}): Operation {
  return {
    id: randomUUID(),
    taskId: 'task-1',
    step: { index: 0, name: 'Deploy' },
    script: { syntax: 'sh', body: 'echo hello' },
    variables: [],
    packages: [],
    timeoutSeconds: 60,
    ...overrides,
  };
}

export const silentLog = pino({ level: 'silent' });
