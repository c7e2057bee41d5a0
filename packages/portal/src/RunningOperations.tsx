import type { Worker } from '@longshore/client';
import { Link } from './Link.js';
import { taskPath } from './navigation.js';
import './RunningOperations.css';

/** How busy a worker is (running of capacity) and what it runs: each operation's task, linked to its page, with its step and target. */
export function RunningOperations({ worker }: { worker: Worker }) {
  return (
    <>
      {worker.running}/{worker.capacity}
      {worker.runningOperations.length > 0 && (
        <ul className="operations">
          {worker.runningOperations.map((op) => (
            <li key={op.id}>
              <Link to={taskPath(op.taskId)}>{op.task}</Link>: {op.step}
              {op.target ? ` on ${op.target}` : ''}
              {op.state === 'leased' ? ' (starting)' : ''}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
