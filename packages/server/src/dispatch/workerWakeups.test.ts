import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as settled } from 'node:timers/promises';
import { WorkerWakeups, type Wakeup } from './workerWakeups.js';

interface Poll {
  name: string;
  wakeup: Wakeup;
  controller: AbortController;
  woken: boolean;
}

/** Polls registered in order, each waiting as the dispatcher does; `woken` flips when its wait ends early. */
function pollsOf(wakeups: WorkerWakeups) {
  const polls: Poll[] = [];
  const listen = (name: string, slots = 1, pools = ['p']): Poll => {
    const controller = new AbortController();
    const poll: Poll = {
      name,
      controller,
      woken: false,
      wakeup: wakeups.listen(name, pools, slots, controller.signal),
    };
    void poll.wakeup.wait(60_000).then(() => {
      poll.woken = true;
    });
    polls.push(poll);
    return poll;
  };
  const woken = async () => {
    await settled();
    return polls.filter((p) => p.woken).map((p) => p.name);
  };
  const closeAll = () => {
    for (const p of polls) p.wakeup.close();
  };
  return { listen, woken, closeAll };
}

test('a notification wakes the polls that waited longest, one per operation, and a re-poll goes to the back', async () => {
  const wakeups = new WorkerWakeups();
  const { listen, woken, closeAll } = pollsOf(wakeups);
  const a = listen('a');
  listen('b');
  listen('c');
  wakeups.notifyPool('p', 1);
  assert.deepEqual(await woken(), ['a']);
  a.wakeup.leasing().done(['p'], false);
  a.wakeup.close();
  listen('a-again');
  wakeups.notifyPool('p', 1);
  wakeups.notifyPool('p', 1);
  assert.deepEqual(await woken(), ['a', 'b', 'c']);
  wakeups.notifyPool('p', 1);
  assert.deepEqual(await woken(), ['a', 'b', 'c', 'a-again']);
  closeAll();
});

test('polls are woken until their free slots cover the operations, and no further', async () => {
  const wakeups = new WorkerWakeups();
  const { listen, woken, closeAll } = pollsOf(wakeups);
  listen('three', 3);
  listen('two', 2);
  listen('four', 4);
  wakeups.notifyPool('p', 4);
  assert.deepEqual(await woken(), ['three', 'two']);
  wakeups.notifyPool('p', 100);
  assert.deepEqual(await woken(), ['three', 'two', 'four']);
  closeAll();
});

test('only polls of the notified pool wake, and a poll with no free slot waits for its own wake-ups only', async () => {
  const wakeups = new WorkerWakeups();
  const { listen, woken, closeAll } = pollsOf(wakeups);
  listen('full', 0);
  listen('other-pool', 1, ['q']);
  listen('free');
  wakeups.notifyPool('p', 5);
  assert.deepEqual(await woken(), ['free']);
  wakeups.wakeWorker('full');
  assert.deepEqual(await woken(), ['full', 'free']);
  closeAll();
});

test('a poll that offers no slot after its first look leaves the queue, and the work goes to the next one', async () => {
  const wakeups = new WorkerWakeups();
  const { listen, woken, closeAll } = pollsOf(wakeups);
  const unusable = listen('unusable');
  listen('usable');
  unusable.wakeup.offer(0);
  wakeups.notifyPool('p', 1);
  assert.deepEqual(await woken(), ['usable']);
  closeAll();
});

test('a woken poll that leases nothing hands its wake-up on to the next waiter when it answers', async () => {
  const wakeups = new WorkerWakeups();
  const { listen, woken, closeAll } = pollsOf(wakeups);
  const first = listen('first');
  listen('second');
  listen('third');
  wakeups.notifyPool('p', 1);
  assert.deepEqual(await woken(), ['first']);
  // Its worker turned out unusable: the look took nothing and did not see the queue.
  first.wakeup.leasing().done([], false);
  first.wakeup.close();
  assert.deepEqual(await woken(), ['first', 'second']);
  closeAll();
});

test('a woken poll that leases part of its share hands on the rest; one that took everything hands on nothing', async () => {
  const wakeups = new WorkerWakeups();
  const { listen, woken, closeAll } = pollsOf(wakeups);
  const big = listen('big', 3);
  listen('next', 1);
  listen('last', 5);
  wakeups.notifyPool('p', 3);
  assert.deepEqual(await woken(), ['big']);
  // It filled the room it had (one, after redelivering two), so more may be queued.
  big.wakeup.leasing().done(['p'], false);
  big.wakeup.close();
  assert.deepEqual(await woken(), ['big', 'next', 'last']);
  closeAll();

  const again = new WorkerWakeups();
  const polls = pollsOf(again);
  const taker = polls.listen('taker', 2);
  polls.listen('idle');
  again.notifyPool('p', 2);
  taker.wakeup.leasing().done(['p', 'p'], false);
  taker.wakeup.close();
  assert.deepEqual(await polls.woken(), ['taker']);
  polls.closeAll();
});

test('a woken poll whose look after the wake-up found the queue empty hands nothing on: another poll took the work', async () => {
  const wakeups = new WorkerWakeups();
  const { listen, woken, closeAll } = pollsOf(wakeups);
  const first = listen('first', 2);
  listen('second');
  wakeups.notifyPool('p', 2);
  first.wakeup.leasing().done(['p'], true);
  first.wakeup.close();
  assert.deepEqual(await woken(), ['first']);
  closeAll();
});

test('emptiness seen by a look that began before the wake-up does not cancel it: the work is handed on', async () => {
  const wakeups = new WorkerWakeups();
  const { listen, woken, closeAll } = pollsOf(wakeups);
  const first = listen('first');
  listen('second');
  const attempt = first.wakeup.leasing();
  wakeups.notifyPool('p', 1);
  attempt.done([], true);
  first.wakeup.close();
  assert.deepEqual(await woken(), ['first', 'second']);
  closeAll();
});

test('an aborted poll leaves the queue, and one aborted after being woken hands its wake-up on', async () => {
  const wakeups = new WorkerWakeups();
  const { listen, woken, closeAll } = pollsOf(wakeups);
  const gone = listen('gone');
  const woke = listen('woke');
  listen('last');
  gone.controller.abort();
  assert.deepEqual(await woken(), ['gone'], 'an abort ends the wait');
  wakeups.notifyPool('p', 1);
  assert.deepEqual(await woken(), ['gone', 'woke']);
  woke.controller.abort();
  woke.wakeup.close();
  assert.deepEqual(await woken(), ['gone', 'woke', 'last']);
  closeAll();
});

test('work queued between listening and waiting is not missed: the wait ends at once', async () => {
  const wakeups = new WorkerWakeups();
  const wakeup = wakeups.listen('w', ['p'], 1, new AbortController().signal);
  wakeups.notifyPool('p', 1);
  const started = Date.now();
  await wakeup.wait(10_000);
  assert.ok(Date.now() - started < 1_000);
  wakeup.close();

  const cancelled = wakeups.listen('w', ['p'], 0, new AbortController().signal);
  wakeups.wakeWorker('w');
  await cancelled.wait(10_000);
  assert.ok(Date.now() - started < 1_000, 'a wake-up for the worker is kept the same way');
  cancelled.close();
});

test('a poll of two pools woken for one, that filled up from the other, hands the first pool its wake-up back', async () => {
  const wakeups = new WorkerWakeups();
  const { listen, woken, closeAll } = pollsOf(wakeups);
  const both = listen('both', 1, ['p', 'q']);
  listen('p-only', 1, ['p']);
  wakeups.notifyPool('p', 1);
  both.wakeup.leasing().done(['q'], false);
  both.wakeup.close();
  assert.deepEqual(await woken(), ['both', 'p-only']);
  closeAll();
});
