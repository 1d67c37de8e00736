import { chromium } from 'playwright-core';

const E = 'http://127.0.0.1:4599';
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
for (let i = 0; i < 3; i++) {
  const p = await b.newPage({ viewport: { width: 1200, height: 800 } });
  const t = Date.now();
  await p.goto(`${E}/`);
  await p.waitForSelector('[data-ecs-cluster="shop"]');
  const rendered = Date.now() - t;
  const marks = await p.evaluate(() => ({
    nav: performance.getEntriesByType('navigation')[0].toJSON(),
    fleet: performance.getEntriesByName('fleet-rendered')[0]?.startTime,
    recv: performance.getEntriesByName('fleet-received')[0]?.startTime,
    res: performance
      .getEntriesByType('resource')
      .map((r) => [r.name.split('/').pop(), Math.round(r.startTime), Math.round(r.responseEnd)]),
  }));
  console.log(
    `load ${i}: ${rendered} ms wall; in page: DOMContentLoaded ${Math.round(marks.nav.domContentLoadedEventEnd)} ms, fleet received at ${Math.round(marks.recv)} ms, rendered at ${Math.round(marks.fleet)} ms`,
    JSON.stringify(marks.res),
  );
  await p.close();
}
await b.close();
