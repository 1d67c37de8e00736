/** A local EKS backend over a manual clock and a settable image resolver, with a Kubernetes client per cluster. */
import { request } from 'node:https';
import { EventBus } from '../../../local/bus';
import { SimClock } from '../../../local/clock';
import { EksBackend } from '../../../local/eks';
import { type EksWorld, EksWorldSchema } from '../../../local/eks/world';
import type { LocalCloudCore } from '../../../local/types';
import { createEksToken } from '../../../shared/aws/eks-token';
import { KubeClient } from '../../../shared/aws/kube';

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are plain JSON, checked by the assertions
export type Json = any;

export const REG = '000000000000.dkr.ecr.us-east-1.amazonaws.com';
export const D = (c: string) => `sha256:${c.repeat(64)}`;

export async function makeEks(world: unknown) {
  const clock = new SimClock(new Date('2026-03-01T12:00:00Z'));
  /** Current digest per image reference; a missing image fails to pull. */
  const digests = new Map<string, string>();
  const core: LocalCloudCore = {
    clock,
    bus: new EventBus(clock),
    faults: {
      latencyMs: 0,
      shouldThrottle: () => false,
      pullFailure: () => undefined,
      containerFault: () => undefined,
    },
    images: {
      resolve: (image) => {
        const at = image.indexOf('@');
        if (at >= 0) return { digest: image.slice(at + 1) };
        const digest = digests.get(image);
        return digest ? { digest } : { error: `CannotPullContainerError: ${image}: not found` };
      },
    },
    defaultAccountId: '000000000000',
    defaultRegion: 'us-east-1',
  };
  const eks = new EksBackend(core);
  eks.loadWorld(EksWorldSchema.parse(world) as EksWorld);
  await eks.start();
  const tokenFor = async (cluster: string, signFor = cluster, secret = 'test', now?: Date) =>
    (
      await createEksToken({
        clusterName: signFor,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: secret },
        stsEndpoint: 'https://sts.us-east-1.amazonaws.com',
        ...(now ? { now } : {}),
      })
    ).token;
  const client = (cluster: string) => {
    const kube = eks.kube(cluster);
    return new KubeClient({
      cluster,
      endpoint: kube.endpoint as string,
      caPem: Buffer.from(kube.caData as string, 'base64').toString(),
      token: () => tokenFor(cluster),
    });
  };
  /** A raw request, for what KubeClient does not do (POST, other tokens). */
  const raw = async (
    cluster: string,
    method: string,
    path: string,
    body?: unknown,
    token?: string,
    contentType = 'application/json',
  ) => {
    const kube = eks.kube(cluster);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const t = token ?? (await tokenFor(cluster));
    return new Promise<{ status: number; body: Json }>((resolve, reject) => {
      const req = request(
        new URL(path, kube.endpoint),
        {
          method,
          ca: Buffer.from(kube.caData as string, 'base64').toString(),
          headers: { authorization: `Bearer ${t}`, ...(payload ? { 'content-type': contentType } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  };
  /** Lets the controllers, scheduler and kubelets run for `ms` of simulated time. */
  const settle = (ms = 60_000) => clock.advance(ms);
  return { eks, clock, digests, client, raw, tokenFor, settle, stop: () => eks.stop() };
}
