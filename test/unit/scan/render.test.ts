/** The scan gate's email: what is held and why, the findings, where it would have gone, how to release it; escaped. */
import { describe, expect, it } from 'vitest';
import { renderScanHold, type ScanHoldEmail } from '../../../shared/scan/render';

const DIGEST = `sha256:${'c'.repeat(64)}`;
const base: ScanHoldEmail = {
  repository: 'shop/api',
  digest: DIGEST,
  tags: ['v1.3.0', 'latest'],
  verdict: 'found 1 CRITICAL, 9 HIGH (holds at HIGH and above)',
  findings: [
    {
      name: 'CVE-2024-3094',
      severity: 'CRITICAL',
      package: 'xz-utils',
      version: '5.6.0',
      uri: 'https://nvd.example/3094',
    },
    { name: 'CVE-2023-4911', severity: 'HIGH', package: 'glibc', version: '2.37' },
  ],
  more: 8,
  workloads: ['ecs/prod/api', 'ecs/prod/worker'],
  release: `npx harborpilot release shop/api@${DIGEST} --reason TEXT`,
  heldBy: 'redeployEcs',
  at: '2026-12-01T10:00:30.000Z',
};

describe('renderScanHold', () => {
  it('says in the subject which image is held and why, without the threshold note', () => {
    expect(renderScanHold(base).subject).toBe(
      '[harborpilot] shop/api:v1.3.0, :latest held: scan found 1 CRITICAL, 9 HIGH',
    );
    expect(
      renderScanHold({
        ...base,
        tags: ['latest'],
        verdict: 'FAILED: UnsupportedImageError (a scan that fails holds)',
      }).subject,
    ).toBe('[harborpilot] shop/api:latest held: scan FAILED: UnsupportedImageError');
  });

  it('lists the findings worst first, how many more, the held workloads and the release command (text)', () => {
    const { text } = renderScanHold(base);
    expect(text).toContain(
      `shop/api ${DIGEST} is held: its scan found 1 CRITICAL, 9 HIGH (holds at HIGH and above).`,
    );
    expect(text).toContain(
      'Findings that held it:\n- CRITICAL CVE-2024-3094 in xz-utils 5.6.0 https://nvd.example/3094\n- HIGH CVE-2023-4911 in glibc 2.37\n...and 8 more',
    );
    expect(text).toContain(
      'Held by redeployEcs at 2026-12-01T10:00:30.000Z: ecs/prod/api, ecs/prod/worker. Every workload that would move to it is held',
    );
    expect(text).toContain(
      `A later push of the tag deploys as usual. To deploy this image anyway:\n  npx harborpilot release shop/api@${DIGEST} --reason TEXT`,
    );
  });

  it('escapes every value from the cloud in the HTML part, and keeps control characters out of the subject', () => {
    const hostile = renderScanHold({
      ...base,
      tags: ['x\r\nBcc: evil@example.com'],
      findings: [
        { name: '<script>alert(1)</script>', severity: 'HIGH', uri: 'javascript:"x"', package: 'a&b' },
      ],
      workloads: ['ecs/prod/<b>api</b>'],
    });
    expect(hostile.subject).not.toMatch(/[\r\n]/);
    expect(hostile.html).not.toContain('<script>');
    expect(hostile.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(hostile.html).toContain('href="javascript:&quot;x&quot;"');
    expect(hostile.html).toContain('a&amp;b');
    expect(hostile.html).toContain('<li>ecs/prod/&lt;b&gt;api&lt;/b&gt;</li>');
  });

  it('says why the findings are missing when they could not be read', () => {
    const e = renderScanHold({
      ...base,
      findings: [],
      more: 0,
      findingsUnreadable: 'AccessDeniedException: no',
    });
    expect(e.text).toContain('The findings could not be read: AccessDeniedException: no');
    expect(e.html).toContain('The findings could not be read: AccessDeniedException: no');
  });
});
