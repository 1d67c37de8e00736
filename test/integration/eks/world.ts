/** A shop on EKS for the integration tests: all three node kinds, and workloads on the demo repositories. */
import { REGISTRY } from '../../support/cloud';

export const deployment = (name: string, namespace: string, image: string, replicas = 2) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        containers: [{ name, image, resources: { requests: { cpu: '250m', memory: '256Mi' } } }],
      },
    },
  },
});

export const eksWorld = {
  ecr: {
    repositories: [
      { name: 'shop/api', images: [{ tags: ['v1.0.0', 'latest'], pushedDaysAgo: 2 }] },
      {
        name: 'shop/web',
        images: [{ tag: 'v2.0.0', platforms: ['linux/amd64', 'linux/arm64'], pushedDaysAgo: 3 }],
      },
    ],
  },
  eks: {
    clusters: [
      {
        name: 'shop-eks',
        nodes: [{ name: 'base', count: 1, instanceType: 'm5.large' }],
        nodegroups: [
          { name: 'general', minSize: 1, maxSize: 4, desiredSize: 2, instanceTypes: ['t3.medium'] },
        ],
        fargateProfiles: [{ name: 'jobs', selectors: [{ namespace: 'jobs' }] }],
        objects: [
          deployment('api', 'shop', `${REGISTRY}/shop/api:latest`),
          deployment('web', 'shop', `${REGISTRY}/shop/web:v2.0.0`),
          deployment('worker', 'jobs', `${REGISTRY}/shop/api:latest`, 1),
        ],
      },
    ],
  },
};
