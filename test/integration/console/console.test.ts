/**
 * The web console in a real headless browser (Debian's chromium, driven by playwright-core): it loads the demo
 * world's fleet; a push made with the AWS CLI shows up live, without a reload, as a redeployEcs invocation with
 * its log lines and as a new ECS deployment on the pushed digest; an alert email appears and renders (HTML in
 * a sandboxed iframe, text beside it); a fault added from the page is in the admin API; axe-core finds no
 * serious or critical accessibility violation on any page. A screenshot of each page goes to
 * test/artifacts/console/ (git-ignored). Skipped, saying so, when no Chromium is installed.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { loadWorldFile } from '../../../local/world';
import { cliEnv, clientConfig, digestOf, onPath } from '../../support/cloud';

const run = promisify(execFile);
const ROOT = new URL('../../../', import.meta.url).pathname;
const ARTIFACTS = `${ROOT}test/artifacts/console/`;
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** CHROME_PATH, else Debian's chromium, else a Chromium or Chrome on PATH. */
function findChrome(): string | undefined {
  const fromEnv = process.env.CHROME_PATH;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  return ['chromium', 'chromium-browser', 'google-chrome'].map(onPath).find(Boolean);
}

const CHROME = findChrome();
const AWS = onPath('aws');
if (!CHROME) {
  console.warn(
    'console browser tests SKIPPED: no Chromium found (apt-get install chromium, or set CHROME_PATH to a Chromium or Chrome binary)',
  );
}

let cloud: LocalCloud;
let browser: Browser;
let page: Page;

/** The admin API, as a script (or the CLI) calls it. */
async function admin(path: string, init?: RequestInit): Promise<Record<string, unknown>> {
  const res = await fetch(`${cloud.endpoint}${path}`, init);
  return (await res.json()) as Record<string, unknown>;
}

async function open(name: 'fleet' | 'activity' | 'mail' | 'controls') {
  // Through the navigation, as a user does: the page is not reloaded, so what appears came from the stream.
  await page.click(`nav a[data-page="${name}"]`);
  await page.waitForSelector(`#page-${name}:not([hidden])`);
}

async function screenshot(name: string) {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

describe.skipIf(!CHROME)('the console in a headless browser', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // The demo world, its clock twice as fast as `npm start`'s: rollouts and the alert window take seconds.
    [cloud, browser] = await Promise.all([
      createLocalCloud({ port: 0, speed: 20, world: loadWorldFile(`${ROOT}worlds/demo.yml`) }),
      chromium.launch({ executablePath: CHROME as string, args: ['--no-sandbox'] }),
    ]);
    // bypassCSP: the page's policy allows only its own scripts; the test injects axe-core into it.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    page = await context.newPage();
    page.on('pageerror', (err) => console.error('console page error:', err));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await cloud?.stop();
  });

  it('loads the demo fleet: ECS services and instances, EKS workloads and pods, ECR images with the prune plan', async () => {
    await page.goto(`${cloud.endpoint}/`);
    await page.waitForSelector('#live:text("live")');
    const api = page.locator('[data-ecs-cluster="shop"] tr[data-service="api"]');
    await api.locator('li[data-status="PRIMARY"][data-rollout="COMPLETED"]').waitFor();
    expect(await api.locator('td').nth(1).textContent()).toBe('2 / 2 / 0');
    // Three EC2 instances and two ECS Anywhere machines, each with its free CPU and memory.
    const instances = page.locator('table[data-instances="shop"] tbody tr');
    expect(await instances.count()).toBe(5);
    expect(await instances.first().textContent()).toContain('of 2048 units');
    const eks = page.locator('[data-eks-cluster="shop-eks"]');
    await eks.locator('tr[data-workload="shop/api"]').waitFor();
    expect(await eks.locator('tr[data-pod]').count()).toBeGreaterThanOrEqual(6);
    const repo = page.locator('table[data-repository="shop/api"]');
    expect(await repo.locator('tr[data-image]').count()).toBe(5);
    // The multi-arch index of shop/web lists its platform manifests under it.
    expect(await page.locator('table[data-repository="shop/web"] tr.child').count()).toBeGreaterThanOrEqual(
      4,
    );
    // What pruning would do: the old CI builds go, what runs stays and says why.
    await repo.locator('td[data-prune="delete"]').first().waitFor();
    const latest = repo.locator('tr[data-image]').first();
    expect(await latest.locator('td[data-prune]').getAttribute('data-prune')).toBe('keep');
    expect(await latest.textContent()).toContain('ECS shop/api');
    await screenshot('fleet');
  });

  it('shows a push made with the AWS CLI live: the redeployEcs invocation with its logs, then the new deployment', async () => {
    const before = await page
      .locator('[data-ecs-cluster="shop"] tr[data-service="api"] li[data-status="PRIMARY"]')
      .getAttribute('data-deployment');
    const rebuild = `${ROOT}worlds/manifests/shop-api-rebuild.json`;
    let pushed: string;
    if (AWS) {
      const { stdout } = await run(
        'aws',
        [
          'ecr',
          'put-image',
          '--repository-name',
          'shop/api',
          '--image-tag',
          'latest',
          '--image-manifest',
        ].concat(`file://${rebuild}`, '--output', 'json'),
        { env: cliEnv(cloud) },
      );
      pushed = JSON.parse(stdout).image.imageId.imageDigest;
      expect(pushed).toBe(digestOf(readFileSync(rebuild, 'utf8')));
    } else {
      console.warn('console test: no aws CLI on PATH; pushing with the admin API instead');
      const body = await admin('/_harborpilot/push', {
        method: 'POST',
        body: JSON.stringify({ repository: 'shop/api', tag: 'latest' }),
      });
      pushed = (body.image as { digest: string }).digest;
    }

    await open('activity');
    const pushEvent = page.locator('li.event[data-detail-type="ECR Image Action"]').first();
    await pushEvent.waitFor();
    // The push's own invocation: the deployment it starts invokes redeployEcs again (the fleet index), maybe first.
    const eventId = await pushEvent.getAttribute('data-event-id');
    const invocation = page
      .locator(
        `li.invocation[data-function="redeployEcs"][data-trigger="event"][data-status="succeeded"][data-event-id="${eventId}"]`,
      )
      .first();
    await invocation.waitFor({ timeout: 45_000 });
    await invocation.locator('summary').click();
    expect(await invocation.locator('table.logs tbody tr').count()).toBeGreaterThan(0);
    expect(await invocation.locator('pre.json').textContent()).toContain('shop/api');
    await screenshot('activity');

    await open('fleet');
    const primary = page.locator(
      `[data-ecs-cluster="shop"] tr[data-service="api"] li[data-status="PRIMARY"]:has([data-digest="${pushed}"])`,
    );
    await primary.waitFor({ timeout: 45_000 });
    expect(await primary.getAttribute('data-deployment')).not.toBe(before);
    // Rolled out: every task of the service on the pushed digest, and the image shows who runs it.
    await page
      .locator(
        '[data-ecs-cluster="shop"] tr[data-service="api"] li[data-status="PRIMARY"][data-rollout="COMPLETED"]',
      )
      .locator(`[data-digest="${pushed}"]`)
      .waitFor({ timeout: 45_000 });
    await page
      .locator(`table[data-repository="shop/api"] tr[data-image="${pushed}"]`)
      .filter({ hasText: 'ECS shop/api' })
      .waitFor({ timeout: 45_000 });
  });

  it('shows an alert email as the recipient sees it: HTML in a sandboxed iframe, text beside it', async () => {
    await admin('/_harborpilot/faults', {
      method: 'POST',
      body: JSON.stringify({ kind: 'pullFailure', repository: 'shop/web' }),
    });
    await new ECSClient(clientConfig(cloud)).send(
      new UpdateServiceCommand({ cluster: 'shop', service: 'web', forceNewDeployment: true }),
    );
    await open('mail');
    const item = page.locator('.mail-item').first();
    await item.waitFor({ timeout: 45_000 });
    await item.click();
    const frame = page.locator('iframe.html-part');
    await frame.waitFor();
    expect(await frame.getAttribute('sandbox')).toBe('');
    const html = await frame.contentFrame().locator('body').textContent();
    expect(html).toContain('shop/web');
    expect(await page.locator('pre.text-part').textContent()).toContain('shop/web');
    expect(await page.locator('#h-message').textContent()).toBe(
      ((await admin('/_aws/ses')).messages as { Subject: string }[])[0]?.Subject,
    );
    await screenshot('mail');
    await admin('/_harborpilot/faults', { method: 'DELETE' });
  });

  it('adds and removes a fault from the controls, through the admin API, and pushes an image', async () => {
    await open('controls');
    await page.selectOption('#fault-kind', 'pullFailure');
    await page.fill('#fault-spec', '{"kind":"pullFailure","repository":"shop/legacy"}');
    await page.click('#faults-form button[type="submit"]');
    await page.locator('#faults-status:text("Added fault-")').waitFor();
    const faults = (await admin('/_harborpilot/faults')).faults as { id: string; repository?: string }[];
    expect(faults).toEqual([expect.objectContaining({ kind: 'pullFailure', repository: 'shop/legacy' })]);
    await page.locator(`tr[data-fault="${faults[0]?.id}"]`).waitFor();

    await page.selectOption('#push-repository', { label: 'shop/worker' });
    await page.fill('#push-tag', 'v1.1.0');
    await page.click('#push-form button[type="submit"]');
    await page.locator('#push-status:text("Pushed shop/worker:v1.1.0 as sha256:")').waitFor();
    await screenshot('controls');

    await page.click(`tr[data-fault="${faults[0]?.id}"] button`);
    await page.locator('#fault-list td.empty').waitFor();
    expect((await admin('/_harborpilot/faults')).faults).toEqual([]);
  });

  it('works from the keyboard: the skip link, then the page links', async () => {
    await page.goto('about:blank');
    await page.goto(`${cloud.endpoint}/#fleet`);
    await page.keyboard.press('Tab');
    expect(await page.locator(':focus').textContent()).toBe('Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.locator(':focus').textContent()).toBe('Activity');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#page-activity:not([hidden])');
  });

  it('passes axe-core on every page: no serious or critical violations', async () => {
    await page.goto('about:blank');
    await page.goto(`${cloud.endpoint}/#fleet`);
    await page.locator('[data-ecs-cluster="shop"]').waitFor();
    await page.addScriptTag({ path: AXE });
    const found: Record<string, string[]> = {};
    for (const name of ['fleet', 'activity', 'mail', 'controls'] as const) {
      await open(name);
      if (name === 'mail') await page.locator('.mail-item').first().click();
      // Runs in the page, where axe-core was injected (a string: this project's TypeScript has no DOM types).
      const violations = (await page.evaluate(
        `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)`,
      )) as { id: string; impact: string; nodes: { target: string[] }[] }[];
      found[name] = violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    }
    expect(found).toEqual({ fleet: [], activity: [], mail: [], controls: [] });
  });
});
