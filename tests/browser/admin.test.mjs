// admin.test.mjs - the regulator and operator dashboard (/admin/) and the
// complaint desks (/admin/desks.html) in a real browser: playwright-core
// drives Debian's chromium (headless) against a real `secondnum serve` on a
// free loopback port, with a store seeded so that every chart has points
// (history imported with the CLI, notices made by bindings and cancellations
// over the API and partly acknowledged, complaints at each desk and coverage
// demand written into the store). Steps: a wrong key and an app key are refused; an admin key
// signs in and every section draws a chart with data (read back from
// Chart.js); the checks section draws the checks the bank and the shop
// made (GET /v1/admin/usage, from the audit trail); the language switches
// to English and back; each desk signs in
// with its own key, lists its complaint with a deadline and resolves it; a
// desk refuses another role's key. A screenshot of every page goes to
// $TEST_OUT/browser-admin/, and its path is printed.
//
// This file holds the dashboard's seed data and steps; harness.mjs starts
// and stops serve and chromium and reports: "ok STEP" / "not ok STEP" lines
// (tests/run.sh counts them), the first failure stops the rest, exit 1 if
// any failed. Environment: SECONDNUM (the binary, required), CHROMIUM
// (default /usr/bin/chromium), TEST_OUT, KEEP_TMP.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { World, Steps, assert, cli, daysAgo, run } from './harness.mjs';

const NOTICED = [0, 1, 2, 3].map(i => `+86137000001${i}`);
const CHECKS = 5; /* made in seed() */

function sql(db, statement) {
  return execFileSync('sqlite3', [db, statement], { encoding: 'utf8' }).trim();
}

class AdminWorld extends World {
  async start() {
    this.makeDir();
    cli('init', '--db', this.db);
    cli('carriers', 'add', '--db', this.db, '--name', 'cm', '--range', '+86137');
    cli('carriers', 'add', '--db', this.db, '--name', 'ct', '--range', '+86133');
    const feed = (name, rows) => {
      const f = path.join(this.dir, name);
      fs.writeFileSync(f, ['number,event,at,event_id', ...rows.map((r, i) => `${r},${name}-${i}`)].join('\n') + '\n');
      return f;
    };
    cli('import', '--db', this.db, '--carrier', 'cm', feed('cm.csv', [
      `+8613700000001,activate,${daysAgo(400)}`, `+8613700000001,cancel,${daysAgo(200)}`,
      `+8613700000001,activate,${daysAgo(2, 3)}`,
      `+8613700000002,activate,${daysAgo(400)}`, `+8613700000002,cancel,${daysAgo(200)}`,
      `+8613700000002,release,${daysAgo(100)}`,
      `+8613700000003,activate,${daysAgo(20)}`, `+8613700000003,suspend,${daysAgo(5)}`,
      `+8613700000004,activate,${daysAgo(6)}`,
      ...NOTICED.map(n => `${n},activate,${daysAgo(400)}`),
    ]));
    cli('import', '--db', this.db, '--carrier', 'ct', feed('ct.csv', [
      `+8613300000005,activate,${daysAgo(10)}`, `+8613300000006,activate,${daysAgo(3)}`,
    ]));
    const key = (role, name, ...more) =>
      cli('keys', 'create', '--db', this.db, '--role', role, '--name', name, ...more).split('\n')[0].trim();
    this.admin = key('admin', 'regulator');
    this.bank = key('app', 'bank');
    this.shop = key('app', 'shop');
    this.carrier = key('carrier', 'cm-feed', '--carrier', 'cm');
    await this.serve('--threads', '2');
    await this.seed();
    return this;
  }

  async seed() {
    const bind = (key, numbers) => this.api(key, 'PUT', '/v1/bindings', { bindings: numbers.map(n =>
      ({ number: n, account: 'acct-' + n.slice(-2), bound_at: daysAgo(300) })) });
    await bind(this.bank, NOTICED);
    await bind(this.shop, NOTICED.slice(0, 2));
    await this.api(this.carrier, 'POST', '/v1/events', { events: NOTICED.map(n =>
      ({ number: n, event: 'cancel', at: daysAgo(0, 2) })) });
    const bank = (await this.api(this.bank, 'GET', '/v1/notices')).notices.map(n => n.id);
    const shop = (await this.api(this.shop, 'GET', '/v1/notices')).notices.map(n => n.id);
    for (const id of bank.slice(0, 1)) await this.api(this.bank, 'POST', `/v1/notices/${id}/ack`, { outcome: 'reverified' });
    for (const id of shop) await this.api(this.shop, 'POST', `/v1/notices/${id}/ack`, { outcome: 'reverified' });
    // acknowledgement times to draw: 10 min and 2 h for the shop, 1 day for the bank
    const created = Math.floor(Date.now() / 1000) - 2 * 86400;
    const times = [[bank[0], 86400], [shop[0], 600], [shop[1], 7200]];
    for (const [id, secs] of times) sql(this.db, `UPDATE notices SET created = ${created}, acked_at = ${created + secs} WHERE id = ${id}`);
    sql(this.db, `UPDATE notices SET deadline = ${created} WHERE id = ${bank[1]}`);
    // a complaint at each desk: the bank's (new), one naming no app (the
    // carrier's), an old one that went up to the regulator
    const bankId = sql(this.db, "SELECT id FROM apps WHERE name = 'bank'");
    const cmId = sql(this.db, "SELECT id FROM carriers WHERE name = 'cm'");
    const now = Math.floor(Date.now() / 1000);
    const complaint = (id, app, kind, created, text) => sql(this.db,
      'INSERT INTO complaints(id, number, tenure, app, carrier, kind, body, created, period) VALUES ' +
      `(${id}, 8613700000001, 2, ${app}, ${cmId}, ${kind}, '${text}', ${created}, ${7 * 86400})`);
    complaint(1, bankId, 3, now - 3600, '有人用我的号码登录了银行账户');
    complaint(2, 0, 2, now - 7200, 'cannot register: the number is said to be taken');
    complaint(3, bankId, 1, now - 20 * 86400, 'harassing calls for the previous owner');
    complaint(4, bankId, 4, now - 3 * 86400, 'other');
    // coverage demand: three subscribers asked for wechat, one for alipay
    const wish = (name, number) => sql(this.db, 'INSERT INTO app_demand(name, number, tenure, created) ' +
      `VALUES ('${name}', ${number}, 1, ${now - 600})`);
    for (const n of [8613700000003, 8613700000004, 8613300000005]) wish('wechat', n);
    wish('alipay', 8613300000006);
    // checks to draw: the bank asks about 3 numbers, the shop about 2; the
    // audit thread counts them a moment later, so wait until it has
    const check = (key, n) => this.api(key, 'POST', '/v1/check', { number: n, date: daysAgo(1).slice(0, 10) });
    for (const n of ['+8613700000001', '+8613700000003', '+8613900000009']) await check(this.bank, n);
    for (const n of ['+8613700000002', '+8613300000005']) await check(this.shop, n);
    for (let i = 0; i < 100; i++) {
      const days = (await this.api(this.admin, 'GET', '/v1/admin/usage')).days;
      if (days.reduce((a, d) => a + d.total, 0) === CHECKS) return;
      await new Promise(r => setTimeout(r, 50));
    }
    throw new Error('the audit trail did not count the seeded checks');
  }
}

// ---- steps -------------------------------------------------------------------------------

// Every chart on the page: its canvas id and the sum of its points.
async function chartSums(page) {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('canvas')].map(c => {
    const ch = window.Chart && window.Chart.getChart(c);
    const sum = ch ? ch.data.datasets.reduce((s, d) => s + d.data.reduce((a, v) => a + (Number(v) || 0), 0), 0) : -1;
    return [c.id, sum];
  })));
}

async function signInDesk(page, desk, key) {
  await page.goto(page.base + '/admin/desks.html');
  if (await page.locator('#desk').isVisible()) await page.getByRole('button', { name: '退出' }).click();
  await page.locator(`input[name=desk][value=${desk}]`).check();
  await page.locator('#key').fill(key);
  await page.locator('#signin-form button[type=submit]').click();
}

async function main() {
  const w = new AdminWorld('sn-admin.');
  const t = new Steps('browser-admin', { printShots: true });
  const { page, consoleErrors } = await t.open(w, {
    viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1, locale: 'zh-CN',
  });
  if (page) page.base = w.base;

  await t.step('wrong-key-refused', page, async () => {
    await page.goto(w.base + '/admin');
    await page.getByRole('heading', { level: 1, name: '管理员登录' }).waitFor();
    await page.getByLabel('管理员密钥或访问令牌').fill('sn_' + '0'.repeat(64));
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('alert').filter({ hasText: '密钥无效或没有管理员权限' }).waitFor();
    assert(await page.locator('#board').isHidden(), 'the board stays hidden');
    assert(await page.evaluate(() => sessionStorage.getItem('sn-admin-token')) === null, 'no token kept');
  });

  await t.step('app-key-refused', page, async () => {
    await page.getByLabel('管理员密钥或访问令牌').fill(w.bank);
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('alert').filter({ hasText: '密钥无效或没有管理员权限' }).waitFor();
    assert(await page.locator('#board').isHidden(), 'the board stays hidden for an app key');
  });

  await t.step('dashboard-in-chinese', page, async () => {
    await page.getByLabel('管理员密钥或访问令牌').fill(w.admin);
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('heading', { level: 1, name: 'secondnum · 监管与运营看板' }).waitFor();
    await page.locator('#notices-table tbody tr').first().waitFor();
    const sums = await chartSums(page);
    for (const id of ['chart-numbers', 'chart-events', 'chart-reissues', 'chart-notices', 'chart-acktimes',
      'chart-complaint-kinds', 'chart-complaint-desks', 'chart-complaint-due', 'chart-demand']) {
      assert(sums[id] > 0, `${id} has no points: ${JSON.stringify(sums)}`);
    }
    // the figures: 10 numbers, 1 reissue in the last 30 days, 6 notices
    const numbers = await page.evaluate(() => Chart.getChart(document.getElementById('chart-numbers')).data);
    assert(JSON.stringify(numbers.labels) === '["cm","ct"]', 'carriers ' + JSON.stringify(numbers.labels));
    assert(sums['chart-numbers'] === 10, 'numbers counted ' + sums['chart-numbers']);
    assert(numbers.datasets[0].label === '在用', 'status labels in Chinese: ' + numbers.datasets[0].label);
    const reissues = await page.evaluate(() => Chart.getChart(document.getElementById('chart-reissues')).data.datasets[0].data);
    assert(reissues.reduce((a, b) => a + b, 0) === 1, 'one reissue ' + JSON.stringify(reissues));
    assert(sums['chart-complaint-kinds'] === 4, 'four complaints ' + sums['chart-complaint-kinds']);
    const demand = await page.evaluate(() => Chart.getChart(document.getElementById('chart-demand')).data);
    assert(JSON.stringify(demand.labels) === '["wechat","alipay"]' &&
      JSON.stringify(demand.datasets[0].data) === '[3,1]', 'the demand ranking ' + JSON.stringify(demand));
    const below = await page.locator('#below-list').innerText();
    assert(below.includes('bank') && !below.includes('shop'), 'the bank is below the threshold: ' + below);
    const row = await page.locator('#notices-table tbody tr', { hasText: 'shop' }).innerText();
    assert(row.includes('600 秒') && row.includes('7200 秒'), 'the shop\'s median and p95: ' + row);
  });

  await t.step('checks-per-day', page, async () => {
    const checks = await page.evaluate(() => Chart.getChart(document.getElementById('chart-checks')).data);
    const sum = checks.datasets.reduce((s, d) => s + d.data.reduce((a, v) => a + (Number(v) || 0), 0), 0);
    assert(sum === CHECKS, `the checks chart counts ${sum}, not ${CHECKS}: ${JSON.stringify(checks)}`);
    const apps = checks.datasets.map(d => d.label).join(' ');
    assert(apps.includes('bank') && apps.includes('shop'), 'a stack per app: ' + apps);
  });

  await t.step('dashboard-in-english', page, async () => {
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: 'secondnum · regulator and operator dashboard' }).waitFor();
    assert(await page.evaluate(() => document.documentElement.lang) === 'en', 'lang attribute en');
    const label = await page.evaluate(() => Chart.getChart(document.getElementById('chart-numbers')).data.datasets[0].label);
    assert(label === 'active', 'chart labels follow the language: ' + label);
    assert(await page.getByRole('heading', { level: 2, name: 'Events per day by kind' }).isVisible(), 'section headings');
    const sums = await chartSums(page);
    assert(sums['chart-events'] > 0, 'charts redrawn with data');
  });

  await t.step('dashboard-range-and-threshold', page, async () => {
    await page.getByLabel('Acknowledgement threshold').fill('0.2');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByText('No app is below the threshold.').waitFor();
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('heading', { level: 1, name: 'secondnum · 监管与运营看板' }).waitFor();
  });

  await t.step('signed-in-after-reload', page, async () => {
    await page.reload();
    await page.locator('#board').waitFor();
    await page.locator('#notices-table tbody tr').first().waitFor();
    await page.getByRole('button', { name: '退出' }).click();
    await page.getByRole('heading', { level: 1, name: '管理员登录' }).waitFor();
    assert(await page.evaluate(() => sessionStorage.getItem('sn-admin-token')) === null, 'signed out');
  });

  const desks = [
    ['app', w.bank, 1, '应用'], ['carrier', w.carrier, 2, '运营商'], ['regulator', w.admin, 3, '监管机构'],
  ];
  for (const [desk, key, id, name] of desks) {
    await t.step(`desk-${desk}`, page, async () => {
      await signInDesk(page, desk, key);
      await page.getByRole('heading', { level: 1, name: '处理台：' + name }).waitFor();
      const row = page.locator('#desk-table tbody tr').filter({ has: page.locator('td:first-child', { hasText: new RegExp(`^${id}$`) }) });
      await row.waitFor();
      const deadline = (await row.locator('td').nth(6).innerText()).trim();
      if (desk === 'regulator') assert(deadline === '无（监管处理）', 'the regulator keeps it: ' + deadline);
      else assert(/^20\d\d\D/.test(deadline), `a deadline at the ${desk} desk: ` + deadline);
      await row.getByLabel('处理结果').fill(`handled at the ${desk} desk`);
      await row.getByRole('button', { name: '标记为已处理' }).click();
      await page.getByRole('status').filter({ hasText: '投诉已处理' }).waitFor();
      await page.locator('#show-all').check();
      await page.getByRole('button', { name: '刷新' }).click();
      await page.locator('#desk-table tbody tr', { hasText: `handled at the ${desk} desk` }).waitFor();
      const c = (await w.api(w.admin, 'GET', '/v1/admin/complaints?state=all')).complaints.find(x => x.id === String(id));
      assert(c && c.state === 'resolved' && c.resolved_by === (desk === 'regulator' ? 'regulator' : desk),
        `complaint ${id} resolved by the ${desk}: ` + JSON.stringify(c));
    });
  }

  await t.step('desk-refuses-another-roles-key', page, async () => {
    await signInDesk(page, 'carrier', w.bank);
    await page.getByRole('alert').filter({ hasText: '密钥无效或不属于此处理台' }).waitFor();
    assert(await page.locator('#desk').isHidden(), 'the desk stays hidden');
  });

  await t.step('no-script-errors', null, async () => {
    // 401 and 403 answers the pages expect show as failed loads
    const bad = consoleErrors.filter(e => !/status of 40[134]/.test(e));
    assert(bad.length === 0, 'console errors: ' + bad.join(' | '));
  });

  await t.finish(w);
}

run(main);
