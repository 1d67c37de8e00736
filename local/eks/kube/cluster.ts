/**
 * One EKS cluster's Kubernetes side: an HTTPS API server on 127.0.0.1 with a CA of its own, that lets in only
 * EKS tokens for this cluster; the object store; the controllers, scheduler and kubelets on the cloud's clock;
 * and the nodes of its self-managed groups, managed node groups and Fargate pods.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { SimClock } from '../../clock';
import { type ApiContext, handleKubeRequest } from './api';
import { checkEksToken } from './auth';
import { WorkloadControllers } from './controllers';
import { type NodeSpec, nodeObject, randomNodeName } from './nodes';
import { admitPod, type FargateSelector, PodLifecycle } from './pods';
import { type KubeObject, KubeStore, resourceByKind } from './store';
import { refuseUpgrade } from './subresources';
import { makeClusterTls } from './tls';

export interface KubeClusterOptions {
  name: string;
  version: string;
  region: string;
  clock: SimClock;
  resolve(image: string): { digest: string } | { error: string };
  fargateSelectors(): FargateSelector[];
  /** Access key id → secret, for the token signatures that can be checked. */
  secrets(): ReadonlyMap<string, string>;
}

/** A group of identical nodes: self-managed instances or a managed node group. */
export interface NodeGroupSpec {
  key: string;
  count: number;
  instanceType: string;
  labels: Record<string, string>;
  cpu?: string;
  memory?: string;
}

/** One authenticated request, as the API server's audit log would have it (tests check RBAC against it). */
export interface AuditEntry {
  accessKeyId: string;
  method: string;
  /** Path and query, e.g. `/apis/apps/v1/namespaces/shop/deployments?labelSelector=app%3Dapi`. */
  url: string;
}

const AUDIT_LIMIT = 10_000;
const RECONCILE_DELAY_MS = 200;
const RETRY_UNSCHEDULABLE_MS = 5000;

export class KubeCluster {
  readonly store: KubeStore;
  private readonly pods: PodLifecycle;
  private readonly controllers: WorkloadControllers;
  private server: Server | undefined;
  private readonly watches = new Set<ServerResponse>();
  private timer: number | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly groups = new Map<string, string[]>();
  endpoint: string | undefined;
  caData: string | undefined;
  /** The latest authenticated requests, oldest first. */
  readonly audit: AuditEntry[] = [];
  readonly kubeletVersion: string;

  constructor(private readonly o: KubeClusterOptions) {
    this.store = new KubeStore(o.clock);
    this.kubeletVersion = `v${o.version}.0-eks-${randomBytes(3).toString('hex').slice(0, 5)}`;
    const event = (obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string) =>
      this.event(obj, type, reason, message);
    this.pods = new PodLifecycle({
      store: this.store,
      clock: o.clock,
      resolve: o.resolve,
      fargateSelectors: o.fargateSelectors,
      kubeletVersion: this.kubeletVersion,
      zone: `${o.region}a`,
      event,
    });
    this.controllers = new WorkloadControllers({
      store: this.store,
      clock: o.clock,
      pods: this.pods,
      admit: (pod) => admitPod(pod, o.fargateSelectors()),
      event,
      requeue: (ms) => this.requeue(ms),
    });
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      this.store.create('namespaces', {
        metadata: { name: ns },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      });
    }
    this.store.onChange((plural) => {
      if (plural !== 'events') this.requeue(RECONCILE_DELAY_MS);
    });
  }

  get name(): string {
    return this.o.name;
  }

  /** Next controller pass in `ms` of simulated time (an earlier request wins over a later one). */
  private requeue(ms: number): void {
    const at = this.o.clock.nowMs() + ms;
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) this.o.clock.clearTimer(this.timer);
    this.timerAt = at;
    this.timer = this.o.clock.setTimer(ms, () => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.reconcile();
    });
  }

  /** One pass of every controller and the scheduler (tests call it through the clock). */
  reconcile(): void {
    this.controllers.reconcile();
    if (this.pods.schedulePending()) this.requeue(RETRY_UNSCHEDULABLE_MS);
  }

  async start(): Promise<void> {
    if (this.server) return;
    const tls = makeClusterTls(this.o.name);
    const ctx: ApiContext = {
      store: this.store,
      gitVersion: `v${this.o.version}.0-eks-local`,
      now: () => this.o.clock.nowMs(),
      admitPod: (pod) => admitPod(pod, this.o.fargateSelectors()),
      deletePod: (pod) => this.pods.deletePod(pod),
      watches: this.watches,
    };
    const server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
      void (async () => {
        const auth = await checkEksToken(req.headers.authorization, {
          clusterName: this.o.name,
          secrets: this.o.secrets(),
        });
        if (!auth.ok) {
          const body = JSON.stringify({
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            message: 'Unauthorized',
            reason: 'Unauthorized',
            code: 401,
          });
          res.writeHead(401, {
            'content-type': 'application/json',
            'www-authenticate': 'Bearer',
            'x-harborpilot-auth': auth.reason,
          });
          res.end(body);
          return;
        }
        this.audit.push({ accessKeyId: auth.accessKeyId, method: req.method ?? 'GET', url: req.url ?? '/' });
        if (this.audit.length > AUDIT_LIMIT) this.audit.splice(0, this.audit.length - AUDIT_LIMIT);
        await handleKubeRequest(ctx, req, res);
      })();
    });
    // kubectl exec, attach and port-forward ask for a protocol upgrade: answered with a Status, never upgraded.
    server.on('upgrade', (req, socket) => {
      void checkEksToken(req.headers.authorization, {
        clusterName: this.o.name,
        secrets: this.o.secrets(),
      }).then(
        (auth) => {
          if (auth.ok) return refuseUpgrade(req, socket);
          socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
        },
        () => socket.destroy(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    this.server = server;
    this.endpoint = `https://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    this.caData = Buffer.from(tls.caPem, 'utf8').toString('base64');
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) this.o.clock.clearTimer(this.timer);
    this.timer = undefined;
    for (const w of this.watches) w.end();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Keeps `count` nodes in each group (new ones join Ready; removed ones take their pods with them). */
  syncNodes(groups: NodeGroupSpec[]): void {
    const wanted = new Set(groups.map((g) => g.key));
    for (const [key, names] of this.groups) {
      if (!wanted.has(key)) {
        for (const n of names) this.removeNode(n);
        this.groups.delete(key);
      }
    }
    for (const g of groups) {
      const names = this.groups.get(g.key) ?? [];
      while (names.length < g.count) {
        const spec: NodeSpec = {
          name: randomNodeName(),
          instanceType: g.instanceType,
          labels: g.labels,
          zone: `${this.o.region}${'abc'[names.length % 3]}`,
          ...(g.cpu ? { cpu: g.cpu } : {}),
          ...(g.memory ? { memory: g.memory } : {}),
        };
        this.store.create('nodes', nodeObject(spec, this.kubeletVersion));
        names.push(spec.name);
      }
      while (names.length > g.count) this.removeNode(names.pop() as string);
      this.groups.set(g.key, names);
    }
  }

  private removeNode(name: string): void {
    if (!this.store.find('nodes', undefined, name)) return;
    for (const pod of this.store.list('pods')) if (pod.spec?.nodeName === name) this.pods.deletePod(pod);
    this.store.delete('nodes', undefined, name);
  }

  /** Creates objects as `kubectl create` would (namespaces they name are made first). */
  createObjects(objects: KubeObject[]): void {
    for (const obj of objects) {
      const def = resourceByKind.get(String(obj.kind));
      if (!def) throw new Error(`world: kind ${String(obj.kind)} is not served by the local Kubernetes API`);
      const ns = obj.metadata.namespace;
      if (def.namespaced && ns && !this.store.find('namespaces', undefined, ns)) {
        this.store.create('namespaces', {
          metadata: { name: ns },
          spec: { finalizers: ['kubernetes'] },
          status: { phase: 'Active' },
        });
      }
      let o = def.generation ? { ...obj, status: {} } : obj;
      if (def.plural === 'pods') o = admitPod(o, this.o.fargateSelectors());
      this.store.create(def.plural, o);
    }
  }

  event(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const ns = obj.metadata.namespace ?? 'default';
    if (!this.store.find('namespaces', undefined, ns)) return;
    const now = this.store.timestamp();
    this.store.create('events', {
      metadata: { name: `${obj.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: ns },
      involvedObject: {
        kind: obj.kind,
        namespace: obj.metadata.namespace,
        name: obj.metadata.name,
        uid: obj.metadata.uid,
        apiVersion: obj.apiVersion,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: obj.kind === 'Pod' ? 'kubelet' : `${String(obj.kind).toLowerCase()}-controller` },
      reportingComponent: '',
      reportingInstance: '',
    });
  }
}
