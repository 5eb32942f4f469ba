// Drives the NS8 Migration page served by a real cockpit-ws, in Debian's
// Chromium, for test_e2e.py: one scenario per run.
//   node drive.mjs SCENARIO JSON-OPTIONS
// Prints one JSON line with what it saw; exits 1 with the reason on failure.
// Screenshots go to options.out (PNG, checked not to be blank).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const plugin = path.join(here, "..", "..", "cockpit-plugin");
const { launch, shot, watchPage, englishLeftoversChecker } = await import(path.join(plugin, "test", "browser.js"));

const [scenario, raw] = process.argv.slice(2);
const o = JSON.parse(raw || "{}");
const WAIT = { timeout: o.wait_ms || 30000 };
const result = { scenario, shots: [] };
let lastPage = null; // the page a failure is shown on

async function snap(page, name) {
    await shot(page, o.out, name);
    result.shots.push(name + ".png");
}

// options.cockpit_js: a cockpit.js to serve to the page in place of the
// running Cockpit's ../base1/cockpit.js (e.g. the one of NethServer 7's
// Cockpit 195).  Cockpit's shell keeps its own.
async function newContext(browser, options) {
    const context = await browser.newContext(options);
    if (o.cockpit_js)
        await context.route("**/base1/cockpit.js", route => {
            const frame = route.request().frame();
            if (frame && /\/ns8-migration\/(index\.html)?([?#].*)?$/.test(frame.url())) {
                result.cockpit_js_served = (result.cockpit_js_served || 0) + 1;
                return route.fulfill({ path: o.cockpit_js, contentType: "application/javascript" });
            }
            return route.fallback();
        });
    return context;
}

async function openPage(browser, lang) {
    const context = await newContext(browser, { viewport: { width: o.width || 1280, height: o.height || 800 },
        locale: lang === "it" ? "it-IT" : "en-US" });
    const page = await context.newPage();
    const errors = [];
    watchPage(page, errors);
    result.errors = errors; // also when the scenario fails
    lastPage = page;
    await page.goto(o.page_url);
    await page.waitForSelector("[data-test=page][data-ready=true]", WAIT);
    return { context, page, errors };
}

// A second page in Italian beside the English one, on the same helper: the
// step titles and closing messages it shows of the jobs the English page
// runs (result.it_steps {operation: [titles]}, result.it_outcomes
// {operation: text}) and its errors (result.it_errors), once close()d.
async function italianWatcher(browser) {
    const context = await newContext(browser, { viewport: { width: 1280, height: 800 }, locale: "it-IT" });
    const page = await context.newPage();
    const errors = [];
    watchPage(page, errors);
    await page.goto(o.page_url);
    await page.waitForSelector("[data-test=page][data-ready=true]", WAIT);
    const steps = {};
    const outcomes = {};
    let stop = false;
    const loop = (async () => {
        while (!stop) {
            try {
                const jobs = await page.locator("[data-test=job]").evaluateAll(els => els.map(j => ({
                    op: j.dataset.operation,
                    steps: [...j.querySelectorAll("[data-test=job-step-title]")].map(d => d.textContent),
                    outcome: (j.querySelector("[data-test=job-outcome]") || {}).textContent || "",
                })));
                for (const j of jobs) {
                    steps[j.op] = [...new Set([...(steps[j.op] || []), ...j.steps])];
                    if (j.outcome)
                        outcomes[j.op] = j.outcome;
                }
            } catch (_e) { /* the page is re-rendering */ }
            await new Promise(r => setTimeout(r, 150));
        }
    })();
    return {
        page,
        async close() {
            stop = true;
            await loop;
            result.it_steps = steps;
            result.it_outcomes = outcomes;
            result.it_errors = errors;
            await context.close();
        },
    };
}

// The prerequisites report of a Start or Finish dialog: once it is there,
// accept its warnings (the test NS7 has no backup, for one).
async function acceptPreflight(dialog) {
    await dialog.locator("[data-test=preflight][data-busy=false] [data-test=preflight-check]").first().waitFor(WAIT);
    const box = dialog.locator("input[id^=ns8m-accept-preflight-]");
    if (await box.count())
        await box.check();
}

async function fieldError(page, id) {
    const group = page.locator(`.pf-v5-c-form__group:has(#${id})`);
    const err = group.locator("[data-test=field-error]");
    await err.first().waitFor(WAIT);
    return (await err.first().textContent()).trim();
}

async function fillConnect(page, password) {
    await page.fill("#ns8m-leader", o.leader);
    await page.fill("#ns8m-username", o.username || "admin");
    await page.fill("#ns8m-password", password);
}

// Connect, answering the user-domain question when the helper asks it.
async function finishConnect(page) {
    await page.click("[data-test=connect]");
    const which = await Promise.race([
        page.waitForSelector("#ns8m-user-domain", WAIT).then(() => "domain"),
        page.waitForSelector("[data-test=app]", WAIT).then(() => "apps"),
    ]);
    if (which === "domain") {
        result.user_domain_asked = true;
        result.user_domain_text = (await page.textContent("[data-test=connect-card]")).includes("OpenLDAP");
        await page.fill("#ns8m-user-domain", o.user_domain);
        await page.click("[data-test=connect]");
        await page.waitForSelector("[data-test=app]", { timeout: 90000 });
    }
}

// The wizard's first screens while disconnected, in LANG: Welcome, then the
// Source summary (result.source[LANG]: what it shows, by data-test), each
// with its screenshot; on an Italian page no English string of the page.
async function welcomeAndSource(page, lang) {
    const sfx = lang === "en" ? "" : "-" + lang;
    await page.waitForSelector("[data-test=welcome]", WAIT);
    await page.waitForSelector("[data-test=source-apps]", WAIT);
    if (lang === "it") {
        const leftovers = englishLeftoversChecker(path.join(plugin, "po", "it.po"));
        assert.deepEqual(await leftovers(page), [], "English strings on the Italian Welcome and Source screens");
    }
    await snap(page, "welcome" + sfx);
    await page.locator("[data-test=source]").scrollIntoViewIfNeeded();
    await snap(page, "source" + sfx);
    const text = async (t) => (await page.textContent(`[data-test=${t}]`)).trim();
    result.source = result.source || {};
    result.source[lang] = {
        welcome: await text("welcome"),
        title: (await page.textContent("[data-test=source] .pf-v5-c-card__title")).trim(),
        host: await text("source-host"),
        domain: await text("source-domain"),
        release: await text("source-release"),
        subscription: await text("source-subscription"),
        provider: await text("source-provider"),
        interfaces: await page.locator("[data-test=source-interface]").allTextContents(),
        apps: await page.locator("[data-test=source-apps] tbody tr").evaluateAll(
            rows => rows.map(r => [...r.querySelectorAll("td")].map(td => td.textContent))),
    };
}

const scenarios = {
    // Wrong password (error on the field), then the right one.  With
    // o.source: Welcome and Source first, in English and in Italian.
    async connect(browser) {
        const { context, page, errors } = await openPage(browser, "en");
        if (o.source) {
            await welcomeAndSource(page, "en");
            const it = await openPage(browser, "it");
            await welcomeAndSource(it.page, "it");
            result.it_errors = it.errors;
            await it.context.close();
            lastPage = page;
            result.errors = errors;
            await page.locator("[data-test=connect-card]").scrollIntoViewIfNeeded();
        }
        await snap(page, "connect");
        await fillConnect(page, o.wrong_password);
        await page.click("[data-test=connect]");
        result.password_error = await fieldError(page, "ns8m-password");
        result.password_invalid = await page.getAttribute("#ns8m-password", "aria-invalid");
        result.troubleshooting = await page.locator("[data-test=troubleshooting]").isVisible();
        await snap(page, "connect-error");
        await page.fill("#ns8m-password", o.password);
        const it = o.italian ? await italianWatcher(browser) : null;
        await finishConnect(page);
        await snap(page, "apps");
        if (it) {
            await it.page.waitForSelector("[data-test=app]", WAIT);
            await it.close();
        }
        result.errors = errors;
        await context.close();
    },

    // A leader whose certificate is not trusted: the fingerprint is shown
    // and must be confirmed before connecting without validation.
    async tls(browser) {
        const { context, page, errors } = await openPage(browser, "en");
        await fillConnect(page, o.password);
        await page.click("[data-test=connect]");
        result.tls_error = await fieldError(page, "ns8m-tls");
        await page.uncheck("#ns8m-tls");
        const fp = page.locator("[data-test=fingerprint] input");
        await fp.waitFor(WAIT);
        result.fingerprint = await fp.inputValue();
        result.disabled_before_confirm = await page.isDisabled("[data-test=connect]");
        await page.check("#ns8m-fingerprint-ok");
        await snap(page, "connect-fingerprint");
        await finishConnect(page);
        result.errors = errors;
        await context.close();
    },

    // Every screen that exists with today's helper, in English or Italian.
    async screens(browser) {
        const lang = o.lang || "en";
        const sfx = lang === "en" ? "" : "-" + lang;
        const { context, page, errors } = await openPage(browser, lang);
        const leftovers = lang === "it" ? englishLeftoversChecker(path.join(plugin, "po", "it.po")) : null;
        const check = async (name) => {
            if (leftovers)
                assert.deepEqual(await leftovers(page), [], `English strings on the Italian ${name} screen`);
            await snap(page, name + sfx);
        };
        result.lang = await page.evaluate(() => document.documentElement.lang);
        result.tabs = await page.getByRole("tab").allTextContents();
        await page.waitForSelector("[data-test=app]", WAIT);
        result.status = await page.textContent("[data-test=app-status]");
        await check("apps");
        if (o.export) {
            // The documentation export: CSV files to download, credentials masked.
            await page.locator("[data-test=export]").getByRole("button").first().click();
            await page.click("[data-test=export-csv]");
            await page.waitForSelector("[data-test=export-file]", WAIT);
            result.export_files = await page.locator("[data-test=export-file]").evaluateAll(as => as.map(a => a.dataset.name));
            // Downloaded as the administrator would: a click on its link.
            const [download] = await Promise.all([
                page.waitForEvent("download", WAIT),
                page.click("[data-test=export-file][data-name$='-trunks.csv']"),
            ]);
            result.export_download_name = download.suggestedFilename();
            result.export_trunks = fs.readFileSync(await download.path(), "utf8");
            await check("export");
        }
        if (o.start_dialog) {
            // What the Start dialog says about the app (from its profile),
            // and the guide's links of its prerequisites; then Cancel.
            await page.click("[data-test=app-start]");
            const dialog = page.locator("[data-test=start-dialog]");
            await dialog.waitFor(WAIT);
            await dialog.locator("[data-test=preflight][data-busy=false] [data-test=preflight-check]").first().waitFor(WAIT);
            result.start_intro = (await dialog.locator("[data-test=start-intro]").textContent()).trim();
            result.start_companion = (await dialog.locator("[data-test=start-companion]").textContent()).trim();
            result.field_notes = (await dialog.locator("[data-test=field-note]").allTextContents()).map(t => t.trim());
            result.placeholders = await dialog.locator("input[type=text][placeholder]").evaluateAll(
                els => Object.fromEntries(els.filter(e => e.placeholder).map(e => [e.id, e.placeholder])));
            result.doc_links = await dialog.locator("[data-test=preflight-doc]").evaluateAll(as => as.map(a => a.href));
            result.checks = await dialog.locator("[data-test=preflight-check]").evaluateAll(
                els => Object.fromEntries(els.map(e => [e.dataset.id, e.innerText])));
            await check("start-dialog");
            // (the modal's data-test is on its body; its buttons are in the footer)
            await page.getByRole("dialog").getByRole("button", { name: lang === "it" ? "Annulla" : "Cancel", exact: true }).click();
            await dialog.waitFor({ state: "detached", ...WAIT });
        }
        await page.getByRole("tab").nth(0).click();
        await page.waitForSelector("[data-test=cluster-card]", WAIT);
        result.leader = await page.textContent("[data-test=cluster-leader]");
        result.vpn = await page.textContent("[data-test=cluster-vpn]");
        result.cluster_text = await page.textContent("[data-test=cluster-card]");
        await check("cluster");
        await page.getByRole("tab").nth(2).click();
        await page.waitForFunction(() => (document.querySelector("[data-test=log-lines]")?.textContent || "").length > 0, null, WAIT);
        result.log_lines = (await page.textContent("[data-test=log-lines]")).split("\n").length;
        if (o.filter) {
            await page.fill("[data-test=log-filter] input", o.filter);
            await page.waitForTimeout(200);
            result.filtered = (await page.textContent("[data-test=log-lines]")).split("\n").filter(Boolean);
        }
        await check("logs");
        if (o.grow) {
            // The log grows while the page follows it: a Scan started from a
            // second tab makes the helper write to it.
            await page.fill("[data-test=log-filter] input", "");
            const count = async () => (await page.textContent("[data-test=log-lines]")).split("\n").length;
            const before = await count();
            const other = await context.newPage();
            await other.goto(o.page_url);
            await other.waitForSelector("[data-test=app-scan]", WAIT);
            await other.click("[data-test=app-scan]");
            await page.waitForFunction(n => document.querySelector("[data-test=log-lines]").textContent.split("\n").length > n, before, WAIT);
            result.log_grew = (await count()) - before;
            await other.close();
        }
        if (lang === "en") {
            // Cockpit's shell lists the page in its menu.
            await page.goto(o.base_url + "/ns8-migration");
            await page.waitForSelector("nav >> text=NS8 Migration", WAIT);
            result.in_menu = true;
            await page.frameLocator('iframe[name="cockpit1:localhost/ns8-migration"]')
                    .locator("[data-test=page][data-ready=true] [data-test=tabs]").waitFor(WAIT);
            await snap(page, "shell-menu");
        }
        result.errors = errors;
        await context.close();
    },

    // Start (a bad FQDN, then good ones), watch, reload, sync twice,
    // history, finish, result.  Needs App.Start & co. in the helper.
    async migrate(browser) {
        let { context, page, errors } = await openPage(browser, "en");
        const it = o.italian ? await italianWatcher(browser) : null;
        lastPage = page;
        await page.click("[data-test=app-start]");
        const dialog = page.locator("[data-test=start-dialog]");
        await dialog.waitFor(WAIT);
        await page.fill("#ns8m-start-nethvoice_host", "https://" + o.nethvoice_host);
        await page.fill("#ns8m-start-nethcti_ui_host", o.nethcti_ui_host);
        if (o.proxy_fqdn)
            await page.fill("#ns8m-start-proxy_fqdn", o.proxy_fqdn);
        const bad = dialog.locator("[data-test=field-error][data-field=nethvoice_host]");
        await bad.waitFor(WAIT);
        result.bad_fqdn_message = (await bad.textContent()).trim();
        result.start_disabled_with_bad_fqdn = await page.isDisabled("[data-test=start-confirm]");
        await snap(page, "start-dialog-error");
        await page.fill("#ns8m-start-nethvoice_host", o.nethvoice_host);
        await acceptPreflight(dialog);
        await page.waitForFunction(() => !document.querySelector("[data-test=start-confirm]").disabled, null, WAIT);
        await snap(page, "start-dialog");
        await page.click("[data-test=start-confirm]");
        await dialog.waitFor({ state: "detached", ...WAIT });

        // The first sync: bars move; a reload shows the same job.
        const job = page.locator("[data-test=job]");
        await job.first().waitFor(WAIT);
        result.start_job = await job.first().getAttribute("data-job");
        result.steps = await page.locator("[data-test=job-step]").count();
        const seen = new Set();
        const t0 = Date.now();
        while (Date.now() - t0 < 60000) {
            const fin = await job.first().getAttribute("data-finished");
            const values = await page.locator("[data-test=job-step]").evaluateAll(els => els.map(e => e.dataset.value).join(","));
            seen.add(values);
            if (fin === "true" || seen.size >= 3)
                break;
            await page.waitForTimeout(250);
        }
        result.progress_states = seen.size;
        await job.first().scrollIntoViewIfNeeded();
        await snap(page, "execution");
        result.running_before_reload = (await job.first().getAttribute("data-finished")) === "false";
        await page.reload();
        await page.waitForSelector("[data-test=page][data-ready=true]", WAIT);
        await page.waitForSelector(`[data-test=job][data-job="${result.start_job}"]`, WAIT);
        result.same_job_after_reload = true;
        await page.waitForSelector(`[data-test=job][data-job="${result.start_job}"][data-finished=true]`, { timeout: 300000 });
        result.start_outcome = await page.textContent("[data-test=job-outcome]");

        for (let i = 0; i < 2; i++) {
            await page.click("[data-test=app-sync]");
            await page.waitForFunction(prev => {
                const j = document.querySelector("[data-test=job]");
                return j && j.dataset.job !== prev && j.dataset.operation === "sync";
            }, i === 0 ? result.start_job : result.last_sync_job, WAIT);
            result.last_sync_job = await job.first().getAttribute("data-job");
            await page.waitForSelector(`[data-test=job][data-job="${result.last_sync_job}"][data-finished=true]`, { timeout: 300000 });
        }
        await page.waitForSelector("[data-test=history]", WAIT);
        result.history_bars = await page.locator("[data-test=sync-bar]").count();
        result.history_rows = await page.locator("[data-test=history-table] tbody tr").count();
        await page.locator("[data-test=history]").scrollIntoViewIfNeeded();
        await snap(page, "history");

        // The schedule screen: syncs every 2 hours with a quiet window, as
        // the helper keeps it, in English and (the watcher) in Italian.
        if (await page.locator("[data-test=schedule]").count()) {
            await page.click("[data-test=schedule-edit] button");
            await page.fill("[data-test=schedule-interval]", "2");
            await page.selectOption("[data-test=schedule-unit]", "hours");
            await page.fill("[data-test=schedule-quiet-from]", "08:00");
            await page.fill("[data-test=schedule-quiet-to]", "18:00");
            await page.click("[data-test=schedule-save]");
            await page.waitForSelector("[data-test=schedule][data-kind=interval] [data-test=schedule-next]", WAIT);
            result.schedule_summary = await page.textContent("[data-test=schedule-summary]");
            await page.locator("[data-test=schedule]").scrollIntoViewIfNeeded();
            await snap(page, "schedule");
            if (it) {
                await it.page.waitForSelector("[data-test=schedule][data-kind=interval]", WAIT);
                await it.page.locator("[data-test=schedule]").scrollIntoViewIfNeeded();
                result.schedule_summary_it = await it.page.textContent("[data-test=schedule-summary]");
                result.schedule_text_it = await it.page.textContent("[data-test=schedule]");
                await snap(it.page, "schedule-it");
            }
        }

        await page.click("[data-test=app-finish]");
        const fd = page.locator("[data-test=finish-dialog]");
        await fd.waitFor(WAIT);
        result.finish_text = await fd.textContent();
        await snap(page, "finish-dialog");
        // The choice of a later Finish, shown, then left: Finish now.
        if (await fd.locator("[data-test=finish-later]").count()) {
            await page.check("#ns8m-finish-later");
            result.finish_later_button = await page.textContent("[data-test=finish-confirm]");
            await fd.locator("[data-test=finish-at]").scrollIntoViewIfNeeded();
            await snap(page, "finish-schedule");
            await page.uncheck("#ns8m-finish-later");
        }
        for (const box of await fd.locator("input[id^=ns8m-check-]").all())
            await box.check();
        await page.check("#ns8m-understood");
        await acceptPreflight(fd);
        await page.click("[data-test=finish-confirm]");
        await page.waitForSelector("[data-test=result]", { timeout: 300000 });
        result.dns_records = await page.locator("[data-test=dns-records] tbody tr").allTextContents();
        result.dns_cells = await page.locator("[data-test=dns-records] tbody tr").evaluateAll(
            rows => rows.map(r => [...r.querySelectorAll("td")].map(td => td.textContent)));
        result.link_hrefs = await page.locator("[data-test=result-link]").evaluateAll(as => as.map(a => a.href));
        result.links = await page.locator("[data-test=result-link]").allTextContents();
        result.link_items = await page.locator("[data-test=result-link]").evaluateAll(as => as.map(a => a.parentElement.textContent));
        result.cluster_admin = await page.getAttribute("[data-test=result-cluster-admin]", "href");
        result.result_text = await page.textContent("[data-test=result]");
        await page.locator("[data-test=result]").scrollIntoViewIfNeeded();
        await snap(page, "result");
        await page.locator("[data-test=dns-records]").scrollIntoViewIfNeeded();
        await snap(page, "result-dns");
        if (it) {
            await it.page.waitForSelector("[data-test=result]", WAIT);
            await it.page.locator("[data-test=result]").scrollIntoViewIfNeeded();
            await snap(it.page, "result-it");
            result.it_dns_records = await it.page.locator("[data-test=dns-records] tbody tr").evaluateAll(
                rows => rows.map(r => [...r.querySelectorAll("td")].map(td => td.textContent)));
            result.it_link_items = await it.page.locator("[data-test=result-link]").evaluateAll(
                as => as.map(a => [a.parentElement.textContent, a.href]));
            result.it_cluster_admin = await it.page.getAttribute("[data-test=result-cluster-admin]", "href");
            await it.page.locator("[data-test=dns-records]").scrollIntoViewIfNeeded();
            await snap(it.page, "result-dns-it");
            await it.close();
        }
        result.errors = errors;
        await context.close();
    },
};

const browser = await launch();
try {
    if (!scenarios[scenario])
        throw new Error("unknown scenario " + scenario);
    await scenarios[scenario](browser);
    console.log(JSON.stringify(result));
} catch (e) {
    // What the page showed when it failed: a screenshot and its text.
    try {
        if (lastPage && !lastPage.isClosed()) {
            await lastPage.screenshot({ path: path.join(o.out, "failed-" + scenario + ".png") });
            result.failed_page = (await lastPage.evaluate(() => document.body.innerText)).slice(0, 2000);
        }
    } catch (_e) { /* the page is gone */ }
    console.log(JSON.stringify({ ...result, failed: String(e && e.stack || e) }));
    process.exitCode = 1;
} finally {
    await browser.close();
}
