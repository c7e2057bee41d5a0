import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LongshoreError, isErrorCode } from '@longshore/protocol';
import { testOperation } from '../../testing/operation.fixture.js';
import { FakeServer } from '../../testing/fakeServer.fixture.js';
import { ChannelPackageTokenIssuer } from './channelPackageTokenIssuer.js';

const quick = { retryInitialMs: 5, random: () => 0.5 };

describe('ChannelPackageTokenIssuer', () => {
  it("asks the server for the operation's token", async () => {
    const server = new FakeServer();
    const op = testOperation();
    assert.deepEqual(await new ChannelPackageTokenIssuer(server, quick).issue(op, new AbortController().signal), {
      token: `lsp_fake-${op.id}`,
    });
    assert.deepEqual(server.packageTokensIssued, [op.id]);
  });

  it('waits out a server that cannot answer for a few tries, then fails with the reason', async () => {
    const server = new FakeServer();
    const op = testOperation();
    server.packageTokenFailures = [
      new LongshoreError('SERVER_UNREACHABLE', 'restarting'),
      new LongshoreError('TIMEOUT', 'slow'),
    ];
    assert.ok((await new ChannelPackageTokenIssuer(server, quick).issue(op, new AbortController().signal)).token);

    server.packageTokenFailures = Array.from({ length: 5 }, () => new LongshoreError('SERVER_UNREACHABLE', 'down'));
    await assert.rejects(
      new ChannelPackageTokenIssuer(server, { ...quick, attempts: 3 }).issue(op, new AbortController().signal),
      (e) => isErrorCode(e, 'SERVER_UNREACHABLE') && /no package token .*: down/.test((e as Error).message),
    );
    assert.equal(server.packageTokenFailures.length, 2, 'three tries');
  });

  it('does not repeat an answer: an operation the worker no longer holds fails at once', async () => {
    const server = new FakeServer();
    server.packageTokenFailures = [
      new LongshoreError('OPERATION_NOT_LEASED', 'Operation x has ended (finished)'),
      new LongshoreError('SERVER_UNREACHABLE', 'unused'),
    ];
    await assert.rejects(
      new ChannelPackageTokenIssuer(server, quick).issue(testOperation(), new AbortController().signal),
      (e) => isErrorCode(e, 'OPERATION_NOT_LEASED') && /has ended/.test((e as Error).message),
    );
    assert.equal(server.packageTokenFailures.length, 1);
  });

  it('stops retrying when the operation is stopped', async () => {
    const server = new FakeServer();
    server.packageTokenFailures = Array.from({ length: 5 }, () => new LongshoreError('SERVER_UNREACHABLE', 'down'));
    const abort = new AbortController();
    const issuing = new ChannelPackageTokenIssuer(server, { retryInitialMs: 60_000 }).issue(
      testOperation(),
      abort.signal,
    );
    setTimeout(() => abort.abort(new Error('cancelled')), 20);
    await assert.rejects(issuing, /cancelled/);
  });
});
