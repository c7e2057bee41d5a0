// Image "pulls" as the kubelet reports them. The sandbox has no registry: an image is there when
// the image table has it, and a miss fails as a registry without the image would.
import { invalidImageMessage } from './imageReference.js';
import { lookupImage, qualifiedImage, type ImageTable } from './images.js';
import type { ContainerStatus } from './podStatus.js';

/** A container of the pod, its image and the status the pull writes into. */
export interface ImageToPull {
  image: string;
  status: ContainerStatus;
}

export type PodEventRecorder = (type: 'Normal' | 'Warning', reason: string, message: string) => Promise<void>;

/**
 * Pulls the images of `containers` (init containers first): true when all are there. A name that
 * is no image reference waits as InvalidImageName for good, checked before any pull as the
 * kubelet does; a missing image goes ErrImagePull, then ImagePullBackOff.
 */
export async function pullImages(
  containers: readonly ImageToPull[],
  images: ImageTable,
  event: PodEventRecorder,
  writeStatus: () => Promise<void>,
): Promise<boolean> {
  const invalid = containers.flatMap(({ image, status }) => {
    const message = invalidImageMessage(image);
    return message ? [{ status, message }] : [];
  });
  for (const { status, message } of invalid) {
    status.state = { waiting: { reason: 'InvalidImageName', message } };
    await event('Warning', 'InspectFailed', message);
    await event('Warning', 'Failed', 'Error: InvalidImageName');
  }
  if (invalid.length) {
    await writeStatus();
    return false;
  }
  const missing = containers.filter(({ image }) => !lookupImage(images, image));
  if (!missing.length) return true;
  for (const { image, status } of missing) {
    const q = qualifiedImage(image);
    const msg = `failed to pull and unpack image "${q}": failed to resolve reference "${q}": ${q}: not found`;
    status.state = { waiting: { reason: 'ErrImagePull', message: `rpc error: code = NotFound desc = ${msg}` } };
    await event('Normal', 'Pulling', `Pulling image "${image}"`);
    await event('Warning', 'Failed', `Failed to pull image "${image}": rpc error: code = NotFound desc = ${msg}`);
    await event('Warning', 'Failed', 'Error: ErrImagePull');
  }
  await writeStatus();
  await new Promise((r) => setTimeout(r, 1_000).unref());
  for (const { image, status } of missing) {
    status.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } };
    await event('Normal', 'BackOff', `Back-off pulling image "${image}"`);
    await event('Warning', 'Failed', 'Error: ImagePullBackOff');
  }
  await writeStatus();
  return false;
}
