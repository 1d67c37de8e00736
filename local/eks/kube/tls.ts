/**
 * A CA of its own per cluster and a server certificate for 127.0.0.1 signed by it, as EKS gives every cluster.
 * Made with the machine's openssl (EC P-256: ~20 ms a cluster), the one well-kept X.509 tool already here.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ClusterTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export class TlsSetupError extends Error {
  constructor(
    readonly cluster: string,
    reason: string,
  ) {
    super(`cannot make the TLS certificates of EKS cluster ${cluster} (is openssl 3 installed?): ${reason}`);
    this.name = 'TlsSetupError';
  }
}

export function makeClusterTls(cluster: string): ClusterTls {
  const dir = mkdtempSync(join(tmpdir(), 'hp-eks-'));
  const p = (f: string) => join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '365'];
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        ...ec,
        '-keyout',
        p('ca.key'),
        '-out',
        p('ca.crt'),
        '-subj',
        '/CN=kubernetes',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      ],
      { stdio: 'pipe' },
    );
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        ...ec,
        '-keyout',
        p('server.key'),
        '-out',
        p('server.crt'),
        '-subj',
        '/CN=kube-apiserver',
        '-CA',
        p('ca.crt'),
        '-CAkey',
        p('ca.key'),
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default',
        '-addext',
        'basicConstraints=critical,CA:FALSE',
        '-addext',
        'extendedKeyUsage=serverAuth',
        '-addext',
        'keyUsage=critical,digitalSignature,keyEncipherment',
      ],
      { stdio: 'pipe' },
    );
    return {
      caPem: readFileSync(p('ca.crt'), 'utf8'),
      certPem: readFileSync(p('server.crt'), 'utf8'),
      keyPem: readFileSync(p('server.key'), 'utf8'),
    };
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new TlsSetupError(cluster, e.stderr?.toString().trim() || e.message);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
