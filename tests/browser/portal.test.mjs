// portal.test.mjs - the subscriber portal end to end in a real browser:
// playwright-core drives Debian's chromium (headless) against a real
// `secondnum serve` on a free loopback port, through the whole flow of
// issue 5 - number -> code (read from the outbox, as a developer would) ->
// ID digits -> the bindings split own / previous owner -> ask the app to
// unbind -> the app acks (through the API) -> done in the portal ->
// complain -> name an app the registry lacks -> report by SMS -> checklist
// -> both languages -> sign out ->
// a session ended by a cancellation - on a phone-sized screen, with the
// keyboard where a person would use it. A screenshot of every step goes to
// $TEST_OUT/browser/ (tests/out/browser/ under tests/run.sh).
//
// This file holds the portal's seed data and steps; harness.mjs starts and
// stops serve and chromium and reports: "ok STEP" / "not ok STEP" lines
// (tests/run.sh counts them), the first failure stops the rest, exit 1 if
// any failed. Environment: SECONDNUM (the binary, required), CHROMIUM
// (default /usr/bin/chromium), TEST_OUT, KEEP_TMP.

import fs from 'node:fs';
import path from 'node:path';
import { World, Steps, assert, cli, daysAgo, run } from './harness.mjs';

const N_NEW = '+8613700000001';   // reissued 100 days ago: the new owner signs in
const ID6_NEW = '22222X';

// ---- the world: a store, keys, bindings, a server ----------------------------------

class PortalWorld extends World {
  async start() {
    this.makeDir();
    cli('init', '--db', this.db);
    cli('carriers', 'add', '--db', this.db, '--name', 'cm', '--range', '+86137');
    const feed = path.join(this.dir, 'feed.csv');
    fs.writeFileSync(feed, [
      'number,event,at,event_id,id6',
      `${N_NEW},activate,${daysAgo(400)},n1,111111`,
      `${N_NEW},cancel,${daysAgo(300)},n2,`,
      `${N_NEW},activate,${daysAgo(100)},n3,${ID6_NEW}`,
    ].join('\n') + '\n');
    cli('import', '--db', this.db, '--carrier', 'cm', feed);
    const key = (role, name, ...more) =>
      cli('keys', 'create', '--db', this.db, '--role', role, '--name', name, ...more).split('\n')[0].trim();
    this.bank = key('app', 'bank');
    this.shop = key('app', 'shop');
    this.carrier = key('carrier', 'cm-feed', '--carrier', 'cm');
    await this.serve('--threads', '2', '--otp-per-address', '1000', '--signin-per-address', '1000');
    await this.api(this.bank, 'PUT', '/v1/profile', { display_name: '招商银行' });
    await this.api(this.bank, 'PUT', '/v1/bindings', { bindings: [
      { number: N_NEW, account: 'old-owner', bound_at: daysAgo(350) },
      { number: N_NEW, account: 'new-owner', bound_at: daysAgo(50) }] });
    await this.api(this.shop, 'PUT', '/v1/bindings', { bindings: [
      { number: N_NEW, account: 'old-shopper', bound_at: daysAgo(380) }] });
    return this;
  }

  outbox(number) {
    return cli('sms', 'outbox', '--db', this.db, '--number', number, '--json')
      .split('\n').filter(Boolean).map(l => JSON.parse(l));
  }

  lastCode(number) {
    const otp = this.outbox(number).filter(m => m.purpose === 'otp');
    if (!otp.length) throw new Error('no code in the outbox for ' + number);
    const m = /(?<!\d)(\d{6})(?!\d)/.exec(otp[otp.length - 1].text);
    if (!m) throw new Error('no code in ' + otp[otp.length - 1].text);
    return m[1];
  }
}

// ---- steps -------------------------------------------------------------------------------

async function visibleText(page, selector) {
  return (await page.locator(selector).innerText()).trim();
}

async function main() {
  const w = new PortalWorld('sn-browser.');
  const t = new Steps('browser');
  const { page, consoleErrors } = await t.open(w, {
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true,
    locale: 'zh-CN',
  });

  await t.step('number-step-in-chinese', page, async () => {
    await page.goto(w.base + '/');
    await page.getByRole('heading', { level: 1, name: '查询号码绑定的应用' }).waitFor();
    assert(await page.getByLabel('手机号码').isVisible(), 'the number field has its label');
    assert(await page.evaluate(() => document.documentElement.lang) === 'zh-CN', 'lang attribute');
  });

  await t.step('switch-to-english', page, async () => {
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: 'Which apps are bound to my number?' }).waitFor();
    assert(await page.evaluate(() => document.documentElement.lang) === 'en', 'lang attribute en');
  });

  await t.step('every-field-is-labelled', page, async () => {
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
      .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.id));
    assert(unlabelled.length === 0, 'fields without a label: ' + unlabelled.join(', '));
    const nameless = await page.evaluate(() => [...document.querySelectorAll('button')]
      .filter(b => !(b.textContent.trim() || b.getAttribute('aria-label'))).map(b => b.id));
    assert(nameless.length === 0, 'buttons without a name: ' + nameless.join(', '));
  });

  await t.step('request-a-code-with-the-keyboard', page, async () => {
    await page.getByLabel('Mobile number').focus();
    await page.keyboard.type('13700000001');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement.id);
    // the hint is text, so the next stop is the button
    assert(focused === 'send-code', 'Tab from the number reaches the button, got ' + focused);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Prove it is you' }).waitFor();
    const intro = await visibleText(page, '#verify-intro');
    assert(intro.includes(N_NEW) && intro.includes('5 minutes'), 'intro: ' + intro);
    assert(await page.evaluate(() => document.activeElement.id) === 'code', 'focus moves to the code');
  });

  await t.step('wrong-code-is-refused', page, async () => {
    const code = w.lastCode(N_NEW);
    const wrong = String((Number(code) + 1) % 1000000).padStart(6, '0');
    await page.getByLabel('Code from the SMS (6 digits)').fill(wrong);
    await page.getByLabel('Last six characters of your ID').fill(ID6_NEW);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const text = (await alert.innerText()).trim();
    assert(text === 'wrong code: 4 attempts left', 'alert: ' + text);
  });

  await t.step('sign-in-shows-bindings-split', page, async () => {
    const code = w.lastCode(N_NEW);
    await page.getByLabel('Code from the SMS (6 digits)').fill(code);
    await page.getByLabel('Last six characters of your ID').fill(ID6_NEW.toLowerCase());
    await page.getByLabel('Last six characters of your ID').press('Enter');
    await page.getByRole('heading', { level: 1, name: `Apps bound to ${N_NEW}` }).waitFor();
    const mine = await page.locator('#mine li.app').allInnerTexts();
    const previous = await page.locator('#previous li.app').allInnerTexts();
    assert(mine.length === 1 && mine[0].includes('招商银行') && mine[0].includes('1 account'), 'mine: ' + mine);
    assert(previous.length === 2, 'previous: ' + previous);
    assert(previous.some(t => t.includes('招商银行')) && previous.some(t => t.includes('shop')), 'previous: ' + previous);
    const body = await page.locator('body').innerText();
    assert(!body.includes('old-owner') && !body.includes('new-owner'), 'an account reference is shown');
    assert(await page.evaluate(() => sessionStorage.getItem('sn-token')).then(t => /^sns_/.test(t || '')),
      'the session token is kept for the tab');
  });

  let requestNotice;
  await t.step('ask-the-app-to-unbind-the-previous-owner', page, async () => {
    await page.locator('#previous').getByRole('button', { name: 'Ask 招商银行 to unbind' }).click();
    await page.getByRole('status').filter({ hasText: '招商银行 was asked to unbind' }).waitFor();
    const req = await page.locator('#requests li').first().innerText();
    assert(req.includes('招商银行') && req.includes('open') && req.includes('answered 0 of 1'), 'request: ' + req);
    const again = page.locator('#previous li.app', { hasText: '招商银行' }).getByRole('button');
    assert(await again.isDisabled(), 'the button is disabled once asked');
  });

  await t.step('the-app-receives-the-request', null, async () => {
    const { notices } = await w.api(w.bank, 'GET', '/v1/notices');
    const reqs = notices.filter(n => n.kind === 'unbind_request');
    assert(reqs.length === 1, 'notices: ' + JSON.stringify(notices));
    assert(reqs[0].number === N_NEW && reqs[0].tenure === 1 && reqs[0].state === 'open', JSON.stringify(reqs[0]));
    requestNotice = reqs[0];
    const shop = await w.api(w.shop, 'GET', '/v1/notices');
    assert(shop.notices.length === 0, 'the shop got nothing');
    await w.api(w.bank, 'POST', `/v1/notices/${requestNotice.id}/ack`, { outcome: 'unbound', note: 'unbound by the portal test' });
  });

  await t.step('the-apps-ack-shows-as-done', page, async () => {
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('#requests li.state-done').waitFor();
    const req = await page.locator('#requests li').first().innerText();
    assert(req.includes('done') && req.includes('answered 1 of 1, unbound 1'), 'request: ' + req);
    const previous = await page.locator('#previous li.app').allInnerTexts();
    assert(previous.length === 1 && previous[0].includes('shop'), 'previous now: ' + previous);
  });

  await t.step('complain-about-an-app', page, async () => {
    await page.getByLabel('App (optional)').selectOption('shop');
    await page.getByLabel('Kind').selectOption('harassment');
    await page.getByLabel('What happened').fill('Debt collectors for the previous owner call me every day.');
    await page.getByRole('button', { name: 'Send complaint' }).click();
    await page.getByRole('status').filter({ hasText: 'Complaint sent.' }).waitFor();
    const c = await page.locator('#complaints li').first().innerText();
    assert(c.includes('shop') && c.includes('with the app') && c.includes('Debt collectors'), 'complaint: ' + c);
  });

  await t.step('ask-for-an-app-not-in-the-registry', page, async () => {
    await page.getByLabel('App name').fill('  WeChat ');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByRole('status').filter({ hasText: '"wechat" noted: 1 subscriber(s)' }).waitFor();
    await page.getByLabel('App name').fill('wechat');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'You asked for "wechat" already.' }).waitFor();
    await page.getByLabel('App name').fill('Shop');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'in the registry already' }).waitFor();
  });

  await t.step('report-by-sms', page, async () => {
    await page.getByRole('button', { name: 'Text me this summary' }).click();
    await page.getByRole('status').filter({ hasText: 'on its way to your phone' }).waitFor();
    const reports = w.outbox(N_NEW).filter(m => m.purpose === 'report');
    assert(reports.length === 1 && reports[0].lang === 'en', 'reports: ' + JSON.stringify(reports));
    assert(reports[0].text.includes('招商银行 (1)') && reports[0].text.includes('shop (1)'), reports[0].text);
  });

  await t.step('checklist-before-cancelling', page, async () => {
    await page.locator('#h-checklist').scrollIntoViewIfNeeded();
    const items = await page.locator('#checklist li').allInnerTexts();
    assert(items.length === 1 && items[0].includes('招商银行') && items[0].includes('1 account'), 'checklist: ' + items);
  });

  await t.step('who-checked-my-number', page, async () => {
    // bank checks the number now, in this tenure; the portal lists it with the
    // bindings the apps sent (the trail is written in the background: refresh)
    await w.api(w.bank, 'POST', '/v1/check', { number: N_NEW, date: daysAgo(1).slice(0, 10) });
    const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10); // UTC+8
    let items = [];
    for (let i = 0; i < 100 && !items.some(t => t.includes('checked the number')); i++) {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.waitForTimeout(100);
      items = await page.locator('#checks li.check').allInnerTexts();
    }
    await page.locator('#h-checks').scrollIntoViewIfNeeded();
    await page.getByRole('heading', { level: 2, name: 'Who checked my number' }).waitFor();
    assert(items[0] === `招商银行 · checked the number · ${today}`, 'newest first: ' + items);
    assert(items.some(t => t.startsWith('招商银行 · bound or unbound an account')), 'bank bound: ' + items);
    assert(items.some(t => t.startsWith('shop · bound or unbound an account')), 'shop bound: ' + items);
    assert(await page.locator('#checks-more').isHidden(), 'one page: no "show more"');
  });

  await t.step('dashboard-in-chinese', page, async () => {
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('heading', { level: 2, name: '前机主绑定的应用' }).waitFor();
    await page.getByRole('heading', { level: 2, name: '您本人绑定的应用' }).waitFor();
    const req = await page.locator('#requests li').first().innerText();
    assert(req.includes('已完成'), 'request in Chinese: ' + req);
    await page.locator('#h-dashboard').scrollIntoViewIfNeeded();
  });

  await t.step('fits-a-phone-screen', page, async () => {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  });

  await t.step('sign-out', page, async () => {
    await page.getByRole('button', { name: '退出' }).click();
    await page.getByRole('heading', { level: 1, name: '查询号码绑定的应用' }).waitFor();
    await page.getByRole('status').filter({ hasText: '您已退出' }).waitFor();
    assert(await page.evaluate(() => sessionStorage.getItem('sn-token')) === null, 'token dropped');
  });

  await t.step('a-cancellation-ends-the-session', page, async () => {
    await page.getByLabel('手机号码').fill(N_NEW);
    await page.getByRole('button', { name: '发送验证码' }).click();
    await page.getByLabel('短信验证码（6 位数字）').fill(w.lastCode(N_NEW));
    await page.getByLabel('身份证件号码后六位').fill(ID6_NEW);
    await page.getByRole('button', { name: '登录' }).click();
    await page.locator('#step-dashboard').waitFor();
    await w.api(w.carrier, 'POST', '/v1/events', { events: [{ number: N_NEW, event: 'cancel', at: daysAgo(0, 1) }] });
    await page.getByRole('button', { name: '刷新' }).click();
    await page.getByRole('alert').filter({ hasText: '登录已失效' }).waitFor();
    await page.getByRole('heading', { level: 1, name: '查询号码绑定的应用' }).waitFor();
  });

  await t.step('no-script-errors', null, async () => {
    // 401 and 403 answers the portal expects show as failed loads, and the
    // 409 of naming an app the registry has; nothing else may
    const bad = consoleErrors.filter(e => !/status of (40[13]|409)/.test(e));
    assert(bad.length === 0, 'console errors: ' + bad.join(' | '));
  });

  await t.finish(w);
}

run(main);
