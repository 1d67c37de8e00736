import { describe, expect, it } from 'vitest';
import type { AlertGroup } from '../../../shared/alert-task-failures/model';
import type { Alert } from '../../../shared/alert-task-failures/plan';
import { render, span, when } from '../../../shared/alert-task-failures/render';

const HOSTILE = '<img src=x onerror="alert(1)">&\'evil\'';
const group: AlertGroup = {
  accountId: '000000000000',
  region: 'eu-west-1',
  clusterArn: 'arn:aws:ecs:eu-west-1:000000000000:cluster/prod',
  clusterName: 'prod',
  kind: 'service',
  name: 'api-service',
};
const taskArn = 'arn:aws:ecs:eu-west-1:000000000000:task/prod/0c3f7d1e9a8b4c2d9e1f2a3b4c5d6e7f';
const alert = (over: Partial<Alert> = {}): Alert => ({
  key: 'k',
  group,
  alertClass: 'image-pull',
  count: 37,
  firstSeen: '2026-11-25T10:00:10Z',
  lastSeen: '2026-11-25T10:08:55Z',
  exitCodes: [],
  imageDigests: ['sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd'],
  samples: [
    {
      time: '2026-11-25T10:00:10Z',
      resourceArn: taskArn,
      reason: 'CannotPullContainerError: pull image manifest has been retried 7 time(s): not found',
      containers: [{ name: 'api', image: '000000000000.dkr.ecr.eu-west-1.amazonaws.com/shop/api:latest' }],
    },
  ],
  reasonCounts: [['CannotPullContainerError: pull image manifest has been retried 7 time(s): not found', 37]],
  otherReasons: 0,
  windows: [],
  context: [],
  ...over,
});
const opts = { windowMinutes: 10 };

describe('alert email', () => {
  it('says what and where in the subject', () => {
    expect(render({ kind: 'alert', alert: alert() }, opts).subject).toBe(
      '[harborpilot] api-service in prod: 37 tasks failed — image pull',
    );
    expect(
      render(
        {
          kind: 'alert',
          alert: alert({ alertClass: 'oom', count: 1, group: { ...group, kind: 'family', name: 'nightly' } }),
        },
        opts,
      ).subject,
    ).toBe('[harborpilot] task family nightly in prod: 1 task failed — out of memory');
    expect(
      render({ kind: 'alert', alert: alert({ alertClass: 'deployment-failed', count: 1 }) }, opts).subject,
    ).toBe('[harborpilot] api-service in prod: 1 deployment failed');
  });

  it('has both parts with the reason, digest, first and last seen, and console links for service and task', () => {
    const { html, text } = render({ kind: 'alert', alert: alert() }, opts);
    for (const part of [html, text]) {
      expect(part).toContain('CannotPullContainerError');
      expect(part).toContain('sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd');
      expect(part).toContain('2026-11-25 10:00:10 UTC');
      expect(part).toContain('2026-11-25 10:08:55 UTC');
      expect(part).toContain(
        'https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/api-service/health?region=eu-west-1',
      );
      expect(part).toContain(
        'https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/0c3f7d1e9a8b4c2d9e1f2a3b4c5d6e7f/configuration?region=eu-west-1',
      );
    }
    expect(text).toContain('Recent (1 of 37)');
  });

  it('shows the exit codes of every counted task, and each container’s own', () => {
    const oom = alert({
      alertClass: 'oom',
      exitCodes: [1, 137],
      samples: [
        {
          time: '2026-11-25T10:00:10Z',
          resourceArn: taskArn,
          reason: 'Essential container in task exited',
          containers: [{ name: 'api', exitCode: 137, reason: 'OutOfMemoryError: Container killed' }],
        },
      ],
    });
    const { html, text } = render({ kind: 'alert', alert: oom }, opts);
    expect(text).toMatch(/^Exit codes: +1, 137$/m);
    expect(text).toContain('    api exit 137: OutOfMemoryError: Container killed');
    expect(html).toMatch(/Exit codes<\/th><td[^>]*>1, 137</);
    expect(html).toContain('<b>api</b> exit 137: OutOfMemoryError: Container killed');
  });

  it('shows times as a person reads them, ECS’s T and milliseconds gone', () => {
    const ecsTimes = alert({
      firstSeen: '2026-11-25T09:09:49.822Z',
      lastSeen: '2026-11-25T09:09:59.822Z',
      context: [
        alert({
          alertClass: 'deployment-failed',
          count: 2,
          firstSeen: '2026-11-25T09:09:49.822Z',
          lastSeen: '2026-11-25T09:09:59.822Z',
          samples: [],
        }),
      ],
    });
    const { html, text } = render({ kind: 'alert', alert: ecsTimes }, opts);
    expect(text).toMatch(/^First seen: +2026-11-25 09:09:49 UTC$/m);
    expect(text).toMatch(/^Last seen: +2026-11-25 09:09:59 UTC$/m);
    expect(text).toContain('- 2 deployments failed, 2026-11-25 09:09:49 to 09:09:59 UTC');
    expect(text).toContain('- 2026-11-25 10:00:10 UTC https://');
    for (const part of [html, text]) expect(part).not.toMatch(/\d{2}T\d{2}:|\.822Z/);
    expect(when('not a time')).toBe('not a time');
    expect(span('2026-11-25T23:59:00Z', '2026-11-26T00:01:00Z')).toBe(
      '2026-11-25 23:59:00 UTC to 2026-11-26 00:01:00 UTC',
    );
  });

  it('lists each task on a line of its own: when, and its id linked to the console, kept unbroken', () => {
    const { html } = render({ kind: 'alert', alert: alert() }, opts);
    expect(html).toMatch(
      /2026-11-25 10:00:10 UTC<\/span> · task <a href="https:\/\/eu-west-1\.console\.aws\.amazon\.com\/ecs\/v2\/clusters\/prod\/tasks\/0c3f7d1e9a8b4c2d9e1f2a3b4c5d6e7f\/configuration\?region=eu-west-1" style="[^"]*white-space:nowrap[^"]*">0c3f7d1e9a8b4c2d9e1f2a3b4c5d6e7f<\/a>/,
    );
  });

  it('escapes every event field in the HTML: a hostile container name, reason and service stay text', () => {
    const hostile = alert({
      group: { ...group, name: HOSTILE },
      samples: [
        {
          time: '2026-11-25T10:00:10Z',
          resourceArn: taskArn,
          reason: `</td></tr></table><script>steal()</script>`,
          containers: [{ name: HOSTILE, exitCode: 1, reason: '<b>bold</b>', image: 'repo"><svg onload=x>' }],
        },
      ],
      reasonCounts: [[`<script>steal()</script>`, 37]],
    });
    const { html, subject } = render({ kind: 'alert', alert: hostile }, opts);
    expect(html).not.toMatch(/<img|<script|<svg|<b>bold/);
    expect(html).not.toContain('onerror="');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;evil&#39;');
    expect(html).toContain('&lt;script&gt;steal()&lt;/script&gt;');
    // The console link path is percent-encoded, then escaped as an attribute.
    expect(html).toContain('services/%3Cimg%20src%3Dx%20onerror%3D%22alert(1)%22%3E%26&#39;evil&#39;/health');
    expect(subject).not.toMatch(/[\r\n]/);
  });

  it('counts every reason over all the failures, not over the tasks shown: the counts add up to How many', () => {
    const many = alert({
      count: 41,
      reasonCounts: [
        ['CannotPullContainerError: not found', 30],
        ['CannotPullContainerError: toomanyrequests', 10],
      ],
      otherReasons: 1,
    });
    const { html, text } = render({ kind: 'alert', alert: many }, opts);
    expect(text).toMatch(/^How many: +41$/m);
    expect(text).toContain(
      '- CannotPullContainerError: not found (x30)\n- CannotPullContainerError: toomanyrequests (x10)\n- other reasons',
    );
    expect(html).toContain('not found</span> (×30)');
    const shown = [...text.matchAll(/^- .*?(?: \(x(\d+)\))?$/gm)]
      .slice(0, 3)
      .reduce((n, m) => n + Number(m[1] ?? 1), 0);
    expect(shown).toBe(41);
  });

  it('keeps control characters out of the subject', () => {
    const { subject } = render(
      { kind: 'alert', alert: alert({ group: { ...group, name: 'api\r\nBcc: victim@example.com' } }) },
      opts,
    );
    expect(subject).toBe('[harborpilot] api Bcc: victim@example.com in prod: 37 tasks failed — image pull');
  });

  it('links to the China and GovCloud consoles for those partitions', () => {
    const cn = alert({
      group: {
        ...group,
        region: 'cn-north-1',
        clusterArn: 'arn:aws-cn:ecs:cn-north-1:000000000000:cluster/prod',
      },
    });
    expect(render({ kind: 'alert', alert: cn }, opts).text).toContain(
      'https://cn-north-1.console.amazonaws.cn/ecs/v2/',
    );
  });

  it('a digest lists every alert with its count', () => {
    const alerts = [alert(), alert({ group: { ...group, name: 'web' }, alertClass: 'oom', count: 3 })];
    const { subject, text, html } = render({ kind: 'digest', alerts }, opts);
    expect(subject).toBe(
      '[harborpilot] 2 alerts in prod: api-service in prod: 37 tasks failed — image pull, and 1 more',
    );
    expect(text).toContain('- api-service in prod: 37 tasks failed — image pull');
    expect(text).toContain('- web in prod: 3 tasks failed — out of memory');
    expect(html).toContain('web in prod: 3 tasks failed — out of memory');
  });
});
