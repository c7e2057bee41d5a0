import { Agent, request } from 'node:http';

/** How long a simulated worker asks its poll to wait; the server node allows it (serverProcess.ts). */
export const POLL_WAIT_MS = 55_000;

/** Every poll answer the fleet got, by kind. */
export interface PollTally {
  /** Answers that carried operations. */
  withWork: number;
  /** Answers before the wait ran out that carried nothing: a wake-up that found no work. */
  emptyEarly: number;
  /** Answers when the wait ran out: the idle cost of a fleet, not of the work. */
  waitedOut: number;
  /** Operations leased and completed. */
  completed: number;
}

/**
 * A worker as the server sees one: registered with a token, one keep-alive connection, the worker
 * protocol's long-poll with one free slot, and each operation it is given reported succeeded at
 * once, so that what is measured is the server's dispatch and not a script.
 */
export class SimulatedWorker {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });
  readonly #url: URL;
  readonly #credential: string;
  readonly #tally: PollTally;
  #stopped = false;
  #loop: Promise<void> = Promise.resolve();
  /** Why its loop ended early, if it did: the benchmark stops on it rather than waiting forever. */
  error: unknown;

  constructor(url: string, credential: string, tally: PollTally) {
    this.#url = new URL(url);
    this.#credential = credential;
    this.#tally = tally;
  }

  start(): void {
    this.#loop = this.#run().catch((err: unknown) => {
      this.error = err;
    });
  }

  /** Hangs up its connection, as a stopped worker does; resolves when its loop has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#agent.destroy();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const started = performance.now();
      let answer: { operations: { id: string }[] };
      try {
        answer = (await this.#post('/api/agent/poll', { free: 1, running: [], waitMs: POLL_WAIT_MS })) as typeof answer;
      } catch (err) {
        if (this.#stopped) return;
        throw err;
      }
      if (answer.operations.length === 0) {
        if (performance.now() - started >= POLL_WAIT_MS * 0.9) this.#tally.waitedOut++;
        else this.#tally.emptyEarly++;
        continue;
      }
      this.#tally.withWork++;
      for (const op of answer.operations) {
        await this.#post(`/api/agent/operations/${op.id}/complete`, {
          outcome: 'succeeded',
          exitCode: 0,
          message: '',
          outputVariables: [],
          finalSeq: 0,
        });
        this.#tally.completed++;
      }
    }
  }

  #post(path: string, body: unknown): Promise<unknown> {
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.#agent,
          host: this.#url.hostname,
          port: this.#url.port,
          path,
          method: 'POST',
          headers: {
            authorization: `Bearer ${this.#credential}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 0) >= 300) reject(new Error(`${path}: ${res.statusCode} ${text}`));
            else resolve(text ? JSON.parse(text) : undefined);
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}
