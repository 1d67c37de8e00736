/**
 * The EKS control-plane API (restJson1): clusters, managed node groups and Fargate profiles, with their
 * scaling, health and status as `aws eks` and the SDK read them. Every cluster's `endpoint` is its Kubernetes
 * API, served over HTTPS on 127.0.0.1 with a CA of its own (local/eks/kube), whose nodes follow the node
 * groups' desired sizes and the world's self-managed nodes, and whose Fargate pods follow the profiles.
 */
import { randomUUID } from 'node:crypto';
import { AwsServiceError } from '../errors';
import type { LocalCloudCore, RequestContext, RestRequest, RestResponse, RestRoute } from '../types';
import { KubeCluster, type NodeGroupSpec } from './kube/cluster';
import type { KubeObject } from './kube/store';
import { type KubeconfigOptions, kubeconfigYaml } from './kubeconfig';
import type { EksWorld } from './world';

interface Nodegroup {
  nodegroupName: string;
  nodegroupArn: string;
  clusterName: string;
  version: string;
  createdAt: number;
  modifiedAt: number;
  status: 'ACTIVE' | 'DEGRADED';
  capacityType: string;
  scalingConfig: { minSize: number; maxSize: number; desiredSize: number };
  instanceTypes: string[];
  labels: Record<string, string>;
  health: { issues: { code: string; message: string; resourceIds: string[] }[] };
  tags: Record<string, string>;
  /** World-given node size (else the instance type's). */
  nodeSize?: { cpu?: string; memory?: string };
}

interface FargateProfile {
  fargateProfileName: string;
  fargateProfileArn: string;
  clusterName: string;
  createdAt: number;
  podExecutionRoleArn: string;
  selectors: { namespace: string; labels?: Record<string, string> }[];
  status: 'ACTIVE';
  tags: Record<string, string>;
}

interface Cluster {
  name: string;
  arn: string;
  createdAt: number;
  version: string;
  roleArn: string;
  status: 'ACTIVE';
  platformVersion: string;
  tags: Record<string, string>;
  nodegroups: Map<string, Nodegroup>;
  fargateProfiles: Map<string, FargateProfile>;
  /** World `nodes:` groups (self-managed instances); node groups' nodes come from `nodegroups`. */
  selfManaged: NodeGroupSpec[];
  kube: KubeCluster;
}

const notFound = (what: string) => new AwsServiceError('ResourceNotFoundException', `No ${what} found.`, 404);
const invalid = (message: string) => new AwsServiceError('InvalidParameterException', message, 400);

export class EksBackend {
  readonly routes: RestRoute[];
  private readonly regions = new Map<string, Map<string, Cluster>>();
  /** Secrets of access keys whose token signatures the Kubernetes APIs verify. */
  private readonly secrets = new Map<string, string>([['test', 'test']]);
  private started = false;

  constructor(readonly core: LocalCloudCore) {
    const r = (method: RestRoute['method'], path: string, operation: string, fn: RestRoute['handler']) => ({
      method,
      path,
      operation,
      handler: fn,
    });
    this.routes = [
      r('GET', '/clusters', 'ListClusters', (req, ctx) =>
        this.page([...this.clusters(ctx).keys()], req, 'clusters'),
      ),
      r('POST', '/clusters', 'CreateCluster', async (req, ctx) => {
        const cluster = this.createCluster(ctx, req.body);
        if (this.started) await cluster.kube.start();
        return { body: { cluster: this.view(cluster) } };
      }),
      r('GET', '/clusters/{name}', 'DescribeCluster', (req, ctx) => ({
        body: { cluster: this.view(this.cluster(ctx, req.params.name)) },
      })),
      r('DELETE', '/clusters/{name}', 'DeleteCluster', async (req, ctx) => {
        const cluster = this.deleteCluster(ctx, req.params.name);
        await cluster.kube.stop();
        return { body: { cluster: { ...this.view(cluster), status: 'DELETING' } } };
      }),
      r('GET', '/clusters/{name}/node-groups', 'ListNodegroups', (req, ctx) =>
        this.page([...this.cluster(ctx, req.params.name).nodegroups.keys()], req, 'nodegroups'),
      ),
      r('POST', '/clusters/{name}/node-groups', 'CreateNodegroup', (req, ctx) => {
        const cluster = this.cluster(ctx, req.params.name);
        const nodegroup = this.createNodegroup(ctx, cluster, req.body);
        this.syncNodes(cluster);
        return { body: { nodegroup } };
      }),
      r('GET', '/clusters/{name}/node-groups/{nodegroupName}', 'DescribeNodegroup', (req, ctx) => ({
        body: { nodegroup: this.nodegroup(ctx, req.params) },
      })),
      r(
        'POST',
        '/clusters/{name}/node-groups/{nodegroupName}/update-config',
        'UpdateNodegroupConfig',
        (req, ctx) => {
          const update = this.updateNodegroup(this.nodegroup(ctx, req.params), req.body);
          this.syncNodes(this.cluster(ctx, req.params.name));
          return { body: { update } };
        },
      ),
      r('DELETE', '/clusters/{name}/node-groups/{nodegroupName}', 'DeleteNodegroup', (req, ctx) => {
        const ng = this.nodegroup(ctx, req.params);
        this.cluster(ctx, req.params.name).nodegroups.delete(ng.nodegroupName);
        this.syncNodes(this.cluster(ctx, req.params.name));
        return { body: { nodegroup: { ...ng, status: 'DELETING' } } };
      }),
      r('GET', '/clusters/{name}/fargate-profiles', 'ListFargateProfiles', (req, ctx) =>
        this.page([...this.cluster(ctx, req.params.name).fargateProfiles.keys()], req, 'fargateProfileNames'),
      ),
      r('POST', '/clusters/{name}/fargate-profiles', 'CreateFargateProfile', (req, ctx) => ({
        body: {
          fargateProfile: this.createFargateProfile(ctx, this.cluster(ctx, req.params.name), req.body),
        },
      })),
      r(
        'GET',
        '/clusters/{name}/fargate-profiles/{fargateProfileName}',
        'DescribeFargateProfile',
        (req, ctx) => ({
          body: { fargateProfile: this.fargateProfile(ctx, req.params) },
        }),
      ),
      r(
        'DELETE',
        '/clusters/{name}/fargate-profiles/{fargateProfileName}',
        'DeleteFargateProfile',
        (req, ctx) => {
          const fp = this.fargateProfile(ctx, req.params);
          this.cluster(ctx, req.params.name).fargateProfiles.delete(fp.fargateProfileName);
          return { body: { fargateProfile: { ...fp, status: 'DELETING' } } };
        },
      ),
    ];
  }

  /** Starts the Kubernetes API server of every cluster (one port and CA each). */
  async start(): Promise<void> {
    this.started = true;
    await Promise.all(this.allClusters().map((c) => c.kube.start()));
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all(this.allClusters().map((c) => c.kube.stop()));
  }

  /** The Kubernetes side of a cluster (tests and the admin side read and drive it). */
  kube(name: string, accountId = this.core.defaultAccountId, region = this.core.defaultRegion): KubeCluster {
    const c = this.regions.get(`${accountId}/${region}`)?.get(name);
    if (!c) throw notFound(`cluster found for name: ${name}`);
    return c.kube;
  }

  /** A kubeconfig for the cluster whose user runs `aws eks get-token` against this local cloud. */
  kubeconfig(name: string, options: KubeconfigOptions): string {
    const c = this.regions
      .get(`${options.accountId ?? this.core.defaultAccountId}/${options.region ?? this.core.defaultRegion}`)
      ?.get(name);
    if (!c?.kube.endpoint || !c.kube.caData) throw notFound(`running cluster found for name: ${name}`);
    return kubeconfigYaml(
      { cluster: this.view(c) as never, endpoint: c.kube.endpoint, caData: c.kube.caData },
      options,
    );
  }

  private allClusters(): Cluster[] {
    return [...this.regions.values()].flatMap((m) => [...m.values()]);
  }

  /** Node group nodes follow desiredSize; self-managed nodes follow the world. */
  private syncNodes(cluster: Cluster): void {
    cluster.kube.syncNodes([
      ...cluster.selfManaged,
      ...[...cluster.nodegroups.values()].map((ng) => ({
        key: `nodegroup/${ng.nodegroupName}`,
        count: ng.scalingConfig.desiredSize,
        instanceType: ng.instanceTypes[0] ?? 't3.medium',
        labels: {
          ...ng.labels,
          'eks.amazonaws.com/nodegroup': ng.nodegroupName,
          'eks.amazonaws.com/capacityType': ng.capacityType,
          'eks.amazonaws.com/nodegroup-image': 'ami-0local',
        },
        ...(ng.nodeSize?.cpu ? { cpu: ng.nodeSize.cpu } : {}),
        ...(ng.nodeSize?.memory ? { memory: ng.nodeSize.memory } : {}),
      })),
    ]);
  }

  loadWorld(world: EksWorld): void {
    for (const k of world.accessKeys) this.secrets.set(k.accessKeyId, k.secretAccessKey);
    const ctx = {
      accountId: this.core.defaultAccountId,
      region: this.core.defaultRegion,
      accessKeyId: 'world',
    };
    for (const c of world.clusters) {
      const cluster = this.createCluster(ctx, {
        name: c.name,
        version: c.version,
        tags: c.tags,
        roleArn: `arn:aws:iam::${ctx.accountId}:role/eks-cluster`,
      });
      for (const ng of c.nodegroups) {
        this.createNodegroup(ctx, cluster, {
          nodegroupName: ng.name,
          scalingConfig: { minSize: ng.minSize, maxSize: ng.maxSize, desiredSize: ng.desiredSize },
          instanceTypes: ng.instanceTypes,
          capacityType: ng.capacityType,
          labels: ng.labels,
          nodeRole: `arn:aws:iam::${ctx.accountId}:role/eks-node`,
        });
        const created = cluster.nodegroups.get(ng.name) as Nodegroup;
        if (ng.cpu || ng.memory)
          created.nodeSize = {
            ...(ng.cpu ? { cpu: ng.cpu } : {}),
            ...(ng.memory ? { memory: ng.memory } : {}),
          };
        created.health.issues = ng.healthIssues.map((i) => ({ ...i, resourceIds: [] }));
        if (created.health.issues.length > 0) created.status = 'DEGRADED';
      }
      for (const fp of c.fargateProfiles) {
        this.createFargateProfile(ctx, cluster, {
          fargateProfileName: fp.name,
          selectors: fp.selectors,
          podExecutionRoleArn: `arn:aws:iam::${ctx.accountId}:role/eks-fargate-pods`,
        });
      }
      cluster.selfManaged = c.nodes.map((n) => ({
        key: `self/${n.name}`,
        count: n.count,
        instanceType: n.instanceType,
        labels: { ...n.labels, 'alpha.eksctl.io/nodegroup-name': n.name },
        ...(n.cpu ? { cpu: n.cpu } : {}),
        ...(n.memory ? { memory: n.memory } : {}),
      }));
      this.syncNodes(cluster);
      cluster.kube.createObjects(c.objects as KubeObject[]);
    }
  }

  private clusters(ctx: RequestContext): Map<string, Cluster> {
    const key = `${ctx.accountId}/${ctx.region}`;
    let m = this.regions.get(key);
    if (!m) {
      m = new Map();
      this.regions.set(key, m);
    }
    return m;
  }

  private cluster(ctx: RequestContext, name: string | undefined): Cluster {
    const c = this.clusters(ctx).get(name ?? '');
    if (!c) throw notFound(`cluster found for name: ${name}`);
    return c;
  }

  private now(): number {
    return this.core.clock.nowMs() / 1000;
  }

  private page(names: string[], req: RestRequest, field: string): RestResponse {
    const max = Number(req.query.get('maxResults') ?? 100);
    if (!(max >= 1 && max <= 100)) throw invalid('maxResults must be between 1 and 100');
    const start = Number(req.query.get('nextToken') ?? 0);
    const slice = names.sort().slice(start, start + max);
    return {
      body: { [field]: slice, ...(start + max < names.length ? { nextToken: String(start + max) } : {}) },
    };
  }

  private createCluster(ctx: RequestContext, body: Record<string, unknown>): Cluster {
    const name = body.name;
    if (typeof name !== 'string' || !/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/.test(name))
      throw invalid('name is required and must be a valid cluster name');
    if (this.clusters(ctx).has(name))
      throw new AwsServiceError('ResourceInUseException', `Cluster already exists with name: ${name}`, 409);
    const cluster: Cluster = {
      name,
      arn: `arn:aws:eks:${ctx.region}:${ctx.accountId}:cluster/${name}`,
      createdAt: this.now(),
      version: typeof body.version === 'string' ? body.version : '1.32',
      roleArn: String(body.roleArn ?? ''),
      status: 'ACTIVE',
      platformVersion: 'eks.1',
      tags: (body.tags as Record<string, string>) ?? {},
      nodegroups: new Map(),
      fargateProfiles: new Map(),
      selfManaged: [],
      kube: undefined as unknown as KubeCluster,
    };
    cluster.kube = new KubeCluster({
      name,
      version: cluster.version,
      region: ctx.region,
      clock: this.core.clock,
      resolve: (image) => this.core.images.resolve(image, { accountId: ctx.accountId, region: ctx.region }),
      fargateSelectors: () =>
        [...cluster.fargateProfiles.values()].flatMap((fp) =>
          fp.selectors.map((s) => ({ profile: fp.fargateProfileName, ...s })),
        ),
      secrets: () => this.secrets,
    });
    this.clusters(ctx).set(name, cluster);
    return cluster;
  }

  private deleteCluster(ctx: RequestContext, name: string | undefined): Cluster {
    const c = this.cluster(ctx, name);
    if (c.nodegroups.size > 0 || c.fargateProfiles.size > 0) {
      throw new AwsServiceError(
        'ResourceInUseException',
        `Cluster has nodegroups or Fargate profiles attached`,
        409,
      );
    }
    this.clusters(ctx).delete(c.name);
    return c;
  }

  private view(c: Cluster): Record<string, unknown> {
    const { nodegroups: _n, fargateProfiles: _f, selfManaged: _s, kube, ...rest } = c;
    return {
      ...rest,
      ...(kube.endpoint ? { endpoint: kube.endpoint } : {}),
      ...(kube.caData ? { certificateAuthority: { data: kube.caData } } : {}),
      kubernetesNetworkConfig: { serviceIpv4Cidr: '10.100.0.0/16', ipFamily: 'ipv4' },
      accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
      resourcesVpcConfig: {
        subnetIds: [],
        securityGroupIds: [],
        endpointPublicAccess: true,
        endpointPrivateAccess: false,
      },
    };
  }

  private createNodegroup(ctx: RequestContext, cluster: Cluster, body: Record<string, unknown>): Nodegroup {
    const name = body.nodegroupName;
    if (typeof name !== 'string' || name === '') throw invalid('nodegroupName is required');
    if (cluster.nodegroups.has(name))
      throw new AwsServiceError(
        'ResourceInUseException',
        `NodeGroup already exists with name ${name} and cluster name ${cluster.name}`,
        409,
      );
    const scaling = (body.scalingConfig as Nodegroup['scalingConfig']) ?? {
      minSize: 1,
      maxSize: 2,
      desiredSize: 2,
    };
    this.checkScaling(scaling);
    const ng: Nodegroup = {
      nodegroupName: name,
      nodegroupArn: `arn:aws:eks:${ctx.region}:${ctx.accountId}:nodegroup/${cluster.name}/${name}/${randomUUID()}`,
      clusterName: cluster.name,
      version: cluster.version,
      createdAt: this.now(),
      modifiedAt: this.now(),
      status: 'ACTIVE',
      capacityType: String(body.capacityType ?? 'ON_DEMAND'),
      scalingConfig: { ...scaling },
      instanceTypes: (body.instanceTypes as string[]) ?? ['t3.medium'],
      labels: (body.labels as Record<string, string>) ?? {},
      health: { issues: [] },
      tags: (body.tags as Record<string, string>) ?? {},
    };
    cluster.nodegroups.set(name, ng);
    return ng;
  }

  private checkScaling(s: Nodegroup['scalingConfig']): void {
    if (
      !(
        s.minSize >= 0 &&
        s.maxSize >= 1 &&
        s.minSize <= s.maxSize &&
        s.desiredSize >= s.minSize &&
        s.desiredSize <= s.maxSize
      )
    ) {
      throw invalid(
        'scalingConfig: desiredSize must be between minSize and maxSize, and minSize not above maxSize',
      );
    }
  }

  private nodegroup(ctx: RequestContext, params: Record<string, string>): Nodegroup {
    const ng = this.cluster(ctx, params.name).nodegroups.get(params.nodegroupName ?? '');
    if (!ng) throw notFound(`node group found for name: ${params.nodegroupName}`);
    return ng;
  }

  /** Scaling takes effect at once locally; the update is reported Successful. */
  private updateNodegroup(ng: Nodegroup, body: Record<string, unknown>): Record<string, unknown> {
    const wanted = {
      ...ng.scalingConfig,
      ...((body.scalingConfig as Partial<Nodegroup['scalingConfig']>) ?? {}),
    };
    this.checkScaling(wanted);
    ng.scalingConfig = wanted;
    ng.modifiedAt = this.now();
    return {
      id: randomUUID(),
      status: 'Successful',
      type: 'ConfigUpdate',
      params: Object.entries(wanted).map(([k, v]) => ({
        type: k.charAt(0).toUpperCase() + k.slice(1),
        value: String(v),
      })),
      createdAt: this.now(),
      errors: [],
    };
  }

  private createFargateProfile(
    ctx: RequestContext,
    cluster: Cluster,
    body: Record<string, unknown>,
  ): FargateProfile {
    const name = body.fargateProfileName;
    if (typeof name !== 'string' || name === '') throw invalid('fargateProfileName is required');
    const selectors = body.selectors as FargateProfile['selectors'] | undefined;
    if (!Array.isArray(selectors) || selectors.length === 0)
      throw invalid('selectors: at least one selector is required');
    if (cluster.fargateProfiles.has(name))
      throw new AwsServiceError(
        'ResourceInUseException',
        `Fargate Profile already exists with name ${name}`,
        409,
      );
    const fp: FargateProfile = {
      fargateProfileName: name,
      fargateProfileArn: `arn:aws:eks:${ctx.region}:${ctx.accountId}:fargateprofile/${cluster.name}/${name}/${randomUUID()}`,
      clusterName: cluster.name,
      createdAt: this.now(),
      podExecutionRoleArn: String(body.podExecutionRoleArn ?? ''),
      selectors,
      status: 'ACTIVE',
      tags: (body.tags as Record<string, string>) ?? {},
    };
    cluster.fargateProfiles.set(name, fp);
    return fp;
  }

  private fargateProfile(ctx: RequestContext, params: Record<string, string>): FargateProfile {
    const fp = this.cluster(ctx, params.name).fargateProfiles.get(params.fargateProfileName ?? '');
    if (!fp) throw notFound(`Fargate Profile found for name: ${params.fargateProfileName}`);
    return fp;
  }
}
