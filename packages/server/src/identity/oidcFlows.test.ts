import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isErrorCode } from '@longshore/protocol';
import { openStore, type Store } from '../store/database.js';
import { SIGN_IN_FLOW_MINUTES, beginFlow, takeFlow } from './oidcFlows.js';

let dir: string;
let db: Store;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'longshore-oidc-flows-'));
  db = await openStore({ dataDir: dir });
});
after(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const refused = (pattern: RegExp) => (e: unknown) =>
  isErrorCode(e, 'UNAUTHENTICATED') && pattern.test((e as Error).message);

describe('single sign-on flows under way', () => {
  it('finish once, with what they began with; the store keeps no state', async () => {
    const flow = await beginFlow(db, '/projects', 1_000);
    assert.notEqual(flow.state, flow.nonce);
    const rows = await db.selectFrom('oidc_sign_ins').selectAll().execute();
    assert.ok(!JSON.stringify(rows).includes(flow.state));
    assert.deepEqual(await takeFlow(db, flow.state, 2_000), flow);
    await assert.rejects(takeFlow(db, flow.state, 2_000), refused(/finished already/));
  });

  it(`end after ${SIGN_IN_FLOW_MINUTES} minutes, and the next sign-in clears them away`, async () => {
    const late = await beginFlow(db, '/', 0);
    const expiry = SIGN_IN_FLOW_MINUTES * 60_000;
    await assert.rejects(takeFlow(db, late.state, expiry), refused(/took longer than 10 minutes/));
    const left = await beginFlow(db, '/', 0);
    await beginFlow(db, '/', expiry);
    await assert.rejects(takeFlow(db, left.state, expiry), refused(/finished already/));
  });
});
