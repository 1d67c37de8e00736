/**
 * What `kubectl logs` prints for a simulated container (the pods/log subresource): its output, or the API
 * server's reason when it has none. kubectl itself reads these in test/integration/eks/kubectl-verbs.
 */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../eks/kube/store';
import { containerLog } from '../../../eks/kube/subresources';

const IMAGE = '000000000000.dkr.ecr.us-east-1.amazonaws.com/shop/api:nope';
const pod = (state: Record<string, unknown>): KubeObject => ({
  metadata: { name: 'api-1', namespace: 'shop' },
  spec: { containers: [{ name: 'api', image: IMAGE }] },
  status: { containerStatuses: [{ name: 'api', image: IMAGE, imageID: '', state }] },
});
const logOf = (p: KubeObject, query = '') => {
  try {
    return containerLog(p, new URLSearchParams(query));
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
};

describe('kubectl logs of a simulated container', () => {
  it('a first failed pull: the kubelet\'s "image can\'t be pulled", with the pull error', () => {
    expect(logOf(pod({ waiting: { reason: 'ErrImagePull', message: 'manifest unknown' } }))).toBe(
      `error: container "api" in pod "api-1" is waiting to start: image can't be pulled (manifest unknown)`,
    );
  });

  it('the back-off after it: "trying and failing to pull image", with the back-off message', () => {
    const message = `Back-off pulling image "${IMAGE}": ErrImagePull: manifest unknown`;
    expect(logOf(pod({ waiting: { reason: 'ImagePullBackOff', message } }))).toBe(
      `error: container "api" in pod "api-1" is waiting to start: trying and failing to pull image (${message})`,
    );
  });

  it('a running container: what it runs, and --tail keeps the last lines', () => {
    const running = pod({ running: { startedAt: '2026-12-03T07:00:00Z' } });
    expect(logOf(running)).toMatch(
      /^2026-12-03T07:00:00Z \[harborpilot local cloud\] container api started: /,
    );
    expect(logOf(running, 'tailLines=1').trim().split('\n')).toHaveLength(1);
  });
});
