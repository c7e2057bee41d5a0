import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invalidImageMessage, invalidImageReason } from './imageReference.js';

test('image references the kubelet accepts', () => {
  for (const image of [
    'busybox',
    'busybox:1.36',
    'docker.io/library/busybox:latest',
    'longshore/worker-tools:0.1.0',
    'localhost:5000/x/y:1',
    'registry.example/nope:1.0',
    'Registry.Example/app',
    `alpine@sha256:${'a'.repeat(64)}`,
    'ghcr.io/a/b_c__d-e:v1.2_3',
  ]) {
    assert.equal(invalidImageReason(image), undefined, image);
  }
});

test("image names that are no reference, in distribution/reference's words", () => {
  assert.equal(
    invalidImageMessage('Bad_Image::x'),
    'Failed to apply default image tag "Bad_Image::x": couldn\'t parse image name "Bad_Image::x": invalid reference format: repository name (library/Bad_Image) must be lowercase',
  );
  assert.equal(invalidImageReason('busybox::x'), 'invalid reference format');
  assert.equal(invalidImageReason('bad image'), 'invalid reference format');
  assert.equal(invalidImageReason('-lead'), 'invalid reference format');
  assert.equal(invalidImageReason('x/Y'), 'invalid reference format: repository name (x/Y) must be lowercase');
  assert.equal(
    invalidImageReason('a'.repeat(64)),
    `invalid repository name (${'a'.repeat(64)}), cannot specify 64-byte hexadecimal strings`,
  );
  assert.equal(invalidImageReason(`alpine@sha256:${'a'.repeat(40)}`), 'invalid checksum digest length');
  assert.equal(invalidImageReason(`alpine@md5:${'a'.repeat(32)}`), 'unsupported digest algorithm');
});
