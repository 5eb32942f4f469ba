// The page in a real browser against a fake cockpit.js whose bus plays the
// helper, including the migration methods (Start, Sync, Finish, ...): the
// screens' rendering and behaviour, independent of the running helper.
// Run: node --test test/  (after node build.js)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { launch, artifactsDir, englishLeftoversChecker, shot, watchPage } from "./browser.js";
import { routeFake, PAGE } from "./serve.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const DIST = process.env.NS8M_PAGE_DIST || path.join(here, "..", "dist");
const OUT = artifactsDir("page");
const WAIT = { timeout: 15000 };

let browser;
before(async () => {
    assert.ok(fs.existsSync(path.join(DIST, "index.js")), `no built page in ${DIST}: run node build.js`);
    browser = await launch();
});
after(async () => { await browser?.close() });

async function open(query = "", { lang = "en", width = 1280, height = 800 } = {}) {
    const context = await browser.newContext({ viewport: { width, height }, locale: lang === "it" ? "it-IT" : "en-US" });
    await routeFake(context, DIST, lang);
    const page = await context.newPage();
    const errors = [];
    watchPage(page, errors);
    await page.goto(PAGE + query);
    await page.waitForSelector("[data-test=page][data-ready=true]", WAIT);
    return { page, context, errors };
}

async function value(locator, attr = "data-value") {
    return Number(await locator.getAttribute(attr));
}

async function connectFully(page) {
    await page.fill("#ns8m-leader", "leader.ns8.test");
    await page.fill("#ns8m-password", "Nethesis,1234");
    await page.click("[data-test=connect]");
    await page.waitForSelector("#ns8m-tls ~ * >> text=/not trusted/", WAIT).catch(() => {});
    await page.uncheck("#ns8m-tls");
    await page.check("#ns8m-fingerprint-ok");
    await page.click("[data-test=connect]");
    await page.waitForSelector("#ns8m-user-domain", WAIT);
    await page.fill("#ns8m-user-domain", "nethvoice.example.test");
    await page.click("[data-test=connect]");
    await page.waitForSelector("[data-test=app][data-app=nethvoice]", WAIT);
}

describe("page with a fake helper", () => {
    test("connect: errors on their fields, fingerprint confirmation, user domain", async () => {
        const { page, context, errors } = await open();
        // The wizard's Welcome: what will happen, what is needed, a backup first.
        await page.waitForSelector("[data-test=welcome]", WAIT);
        assert.equal(await page.locator("[data-test=welcome-phases] li").count(), 5);
        assert.match(await page.textContent("[data-test=welcome-backup]"), /snapshot or a full backup of NS7/);
        // Then the Source summary: this NS7 as DescribeSource gives it.
        await page.waitForSelector("[data-test=source-apps]", WAIT);
        assert.equal(await page.textContent("[data-test=source-host]"), "ns7");
        assert.equal(await page.textContent("[data-test=source-release]"), "NethServer release 7.9.2009 (final)");
        assert.equal(await page.textContent("[data-test=source-subscription]"), "Yes, system ID ABCD1234");
        assert.equal(await page.textContent("[data-test=source-provider]"), "Local OpenLDAP: OpenLDAP (dc=directory,dc=nh)");
        assert.deepEqual(await page.locator("[data-test=source-interface]").allTextContents(),
                         ["eth0, green (LAN): 192.0.2.10/255.255.255.0", "eth1, red (Internet): 203.0.113.10/255.255.255.0"]);
        const appRow = (await page.locator("[data-test=source-apps] tbody tr").allTextContents())[0];
        assert.match(appRow, /^NethVoice250007\.50 GiB300 MiB/);
        assert.equal(await page.locator("[data-test=source-measure]").count(), 0);
        await shot(page, OUT, "connect");
        await page.fill("#ns8m-leader", "leader.ns8.test");
        await page.fill("#ns8m-password", "wrong");
        await page.click("[data-test=connect]");
        const err = page.locator("[data-test=field-error]");
        await err.first().waitFor(WAIT);
        assert.match(await err.first().textContent(), /refused the user name or the password/);
        assert.equal(await page.getAttribute("#ns8m-password", "aria-invalid"), "true");
        assert.ok(await page.locator("[data-test=troubleshooting]").isVisible());
        await shot(page, OUT, "connect-error");

        await page.fill("#ns8m-password", "Nethesis,1234");
        await page.click("[data-test=connect]");
        await page.locator("text=/is not trusted/").first().waitFor(WAIT);
        await page.uncheck("#ns8m-tls");
        const fp = page.locator("[data-test=fingerprint] input");
        await fp.waitFor(WAIT);
        assert.equal(await fp.inputValue(), "12:34:".repeat(15) + "12:34");
        assert.ok(await page.isDisabled("[data-test=connect]"), "Connect must wait for the fingerprint's confirmation");
        await page.check("#ns8m-fingerprint-ok");
        await shot(page, OUT, "connect-fingerprint");
        await page.click("[data-test=connect]");
        await page.waitForSelector("#ns8m-user-domain", WAIT);
        assert.match(await page.textContent("[data-test=connect-card]"), /local OpenLDAP/);
        await page.fill("#ns8m-user-domain", "directory.nh");
        await page.click("[data-test=connect]");
        await page.locator("text=/already has a user domain/").first().waitFor(WAIT);
        await page.fill("#ns8m-user-domain", "nethvoice.example.test");
        await page.click("[data-test=connect]");
        await page.waitForSelector("[data-test=app][data-app=nethvoice]", WAIT);
        const call = await page.evaluate(() => window.__fake.calls.filter(c => c.method === "Connect").pop().args[0]);
        assert.deepEqual(call.tls_verify, { t: "b", v: false });
        assert.equal(call.tls_fingerprint.v, "12:34:".repeat(15) + "12:34");
        assert.equal(call.user_domain.v, "nethvoice.example.test");
        await page.getByRole("tab", { name: "Cluster" }).click();
        await page.waitForSelector("[data-test=nodes]", WAIT);
        assert.equal(await page.textContent("[data-test=cluster-leader]"), "leader.ns8.test");
        await shot(page, OUT, "cluster");
        assert.deepEqual(errors, []);
        await context.close();
    });

    test("start, watch, reload, sync twice, history, finish, result", async () => {
        const { page, context, errors } = await open("?state=connected&jobseconds=6");
        await page.click("[data-test=app-start]");
        const dialog = page.locator("[data-test=start-dialog]");
        await dialog.waitFor(WAIT);
        assert.ok(await page.locator("#ns8m-start-node").isVisible(), "two NS8 nodes: the destination is asked");
        // What the dialog says about the app comes from App.Texts and App.Fields.
        assert.match(await dialog.locator("[data-test=start-intro]").textContent(), /call recordings, voicemail/);
        assert.match(await dialog.locator("[data-test=start-companion]").textContent(), /NethVoice Proxy is not installed/);
        assert.equal(await page.getAttribute("#ns8m-start-nethvoice_host", "placeholder"), "nethvoice.example.com");
        assert.equal(await page.getAttribute("#ns8m-start-nethcti_ui_host", "placeholder"), "cti.example.com");
        assert.match(await dialog.locator("[data-test=field-note]").textContent(), /later in the NethVoice settings/);
        await page.fill("#ns8m-start-nethvoice_host", "https://voice.example.com");
        await page.fill("#ns8m-start-nethcti_ui_host", "cti.example.com");
        const fe = dialog.locator("[data-test=field-error][data-field=nethvoice_host]");
        await fe.waitFor(WAIT);
        assert.match(await fe.textContent(), /https:\/\//);
        // The page's own check gives the field's placeholder as the example.
        await page.fill("#ns8m-start-nethcti_ui_host", "cti");
        await dialog.locator("[data-test=field-error][data-field=nethcti_ui_host]:has-text('e.g. cti.example.com')").waitFor(WAIT);
        await page.fill("#ns8m-start-nethcti_ui_host", "cti.example.com");
        assert.ok(await page.isDisabled("[data-test=start-confirm]"));
        await shot(page, OUT, "start-dialog-error");
        await page.fill("#ns8m-start-nethvoice_host", "voice.example.com");
        await page.waitForFunction(() => !document.querySelector("[data-test=start-confirm]").disabled, null, WAIT);
        await page.selectOption("#ns8m-start-node", "2");
        await shot(page, OUT, "start-dialog");
        await page.click("[data-test=start-confirm]");
        await dialog.waitFor({ state: "detached", ...WAIT });
        const start = await page.evaluate(() => window.__fake.calls.find(c => c.method === "Start").args[0]);
        assert.equal(start.node.v, 2);
        assert.equal(start.nethvoice_host.v, "voice.example.com");

        const bars = page.locator("[data-test=job][data-finished=false] [data-test=job-step]");
        await bars.first().waitFor(WAIT);
        assert.equal(await bars.count(), 4);
        const first = await value(page.locator("[data-test=job-overall]"));
        await page.waitForFunction(f => Number(document.querySelector("[data-test=job-overall]")?.dataset.value) > f + 10, first, WAIT);
        // The compact view: the steps as a list, done ones with their
        // duration, a bar only for the running one, rate and time left on
        // the overall bar.
        await page.waitForSelector("[data-test=job-step][data-state=done] [data-test=job-step-duration]", WAIT);
        assert.equal(await page.locator("[data-test=job][data-finished=false] [data-test=job-step][data-state=running]").count(), 1);
        assert.ok((await page.locator("[data-test=job][data-finished=false] .pf-v5-c-progress").count()) <= 2,
                  "a bar for every step");
        assert.match(await page.textContent("[data-test=job-overall-label]"), /\d+% · .+\/s · .+ left/);
        await page.locator("[data-test=job]").scrollIntoViewIfNeeded();
        await shot(page, OUT, "execution");
        // The page's state lives in the helper: a reload shows the same job.
        const jobPath = await page.getAttribute("[data-test=job]", "data-job");
        await page.reload();
        await page.waitForSelector("[data-test=page][data-ready=true]", WAIT);
        // (the fake's state is per page load; this checks the page finds a running job by App.Job)
        await context.close();
        assert.ok(jobPath);
        assert.deepEqual(errors, []);
    });

    test("sync twice, history, finish, result", async () => {
        const { page, context, errors } = await open("?state=connected&jobseconds=1.2");
        await page.click("[data-test=app-start]");
        await page.fill("#ns8m-start-nethvoice_host", "voice.example.com");
        await page.fill("#ns8m-start-nethcti_ui_host", "cti.example.com");
        await page.waitForFunction(() => !document.querySelector("[data-test=start-confirm]").disabled, null, WAIT);
        await page.click("[data-test=start-confirm]");
        await page.waitForSelector("[data-test=job][data-finished=true][data-operation=start]", WAIT);
        for (let i = 0; i < 2; i++) {
            // The second sync with a bandwidth limit; a wrong one blocks the button.
            if (i === 1) {
                await page.fill("[data-test=sync-bwlimit]", "fast");
                assert.equal(await page.getAttribute("[data-test=app-sync]", "aria-disabled"), "true");
                await page.fill("[data-test=sync-bwlimit]", "2048");
            }
            await page.click("[data-test=app-sync]");
            await page.waitForSelector("[data-test=job][data-finished=false][data-operation=sync]", WAIT);
            await page.waitForSelector("[data-test=job][data-finished=true][data-operation=sync]", WAIT);
        }
        const syncs = await page.evaluate(() => window.__fake.calls.filter(c => c.method === "Sync").map(c => c.args[0]));
        assert.deepEqual(syncs[0], {});
        assert.equal(syncs[1].bwlimit.t, "u");
        assert.equal(syncs[1].bwlimit.v, 2048);
        const barsOf = page.locator("[data-test=sync-bar]");
        assert.equal(await barsOf.count(), 3);
        const bytes = await Promise.all([0, 1, 2].map(i => value(barsOf.nth(i), "data-bytes")));
        assert.ok(bytes[0] > bytes[1] && bytes[1] > bytes[2], "each sync moves less: " + bytes);
        assert.equal(await page.locator("[data-test=history-table] tbody tr").count(), 3);
        assert.equal(await page.getAttribute("[data-test=readiness]", "data-state"), "ready");
        await page.locator("[data-test=history]").scrollIntoViewIfNeeded();
        await shot(page, OUT, "history");

        await page.click("[data-test=app-finish]");
        const dialog = page.locator("[data-test=finish-dialog]");
        await dialog.waitFor(WAIT);
        assert.match(await dialog.textContent(), /cannot be undone/);
        assert.match(await dialog.locator("[data-test=irreversible]").textContent(), /NethVoice is not available until the end/);
        const downtime = await dialog.locator("[data-test=downtime]").textContent();
        assert.match(downtime, /about .* estimated from the last syncs: stopping the services 1 s, finding what changed < 1 s, last sync 2 s, .*restore on NS8 5 s/);
        assert.equal(await dialog.locator("[data-test=checklist-item]").count(), 6);
        assert.ok(await page.isDisabled("[data-test=finish-confirm]"));
        await shot(page, OUT, "finish-dialog");
        for (const box of await dialog.locator("input[id^=ns8m-check-]").all())
            await box.check();
        await page.check("#ns8m-understood");
        await page.click("[data-test=finish-confirm]");
        await page.waitForSelector("[data-test=result]", WAIT);
        const rows = await page.locator("[data-test=dns-records] tbody tr").allTextContents();
        // The Proxy FQDN left empty: the administration's name serves it, one record.
        assert.deepEqual(rows, ["voice.example.comA192.0.2.10NethVoice administration, NethVoice Proxy FQDN",
            "cti.example.comA192.0.2.10NethVoice CTI"]);
        const links = await page.locator("[data-test=result-link]").allTextContents();
        assert.deepEqual(links, ["https://voice.example.com/", "https://cti.example.com/"]);
        assert.equal(await page.getAttribute("[data-test=result-cluster-admin]", "href"), "https://leader.ns8.test/cluster-admin/");
        // The names checked from NS7: one points to the node, one not yet.
        await page.waitForSelector("[data-test=dns-check-table] [data-outcome=unresolved]", WAIT);
        assert.equal(await page.locator("[data-test=dns-check-table] [data-outcome=ok]").count(), 1);
        assert.equal(await page.locator("[data-test=dns-check-ok]").count(), 0);
        const labels = await page.locator("[data-test=result-link]").evaluateAll(as => as.map(a => a.parentElement.textContent));
        assert.deepEqual(labels, ["NethVoice administration: https://voice.example.com/", "NethVoice CTI: https://cti.example.com/"]);
        // The guide's order: verify, do not touch DNS yet, the profile's
        // companion (its steps and warning), DNS, then the profile's Let's Encrypt.
        const text = await page.textContent("[data-test=result]");
        const order = ["1. Verify the NS8 services", "Do not update the DNS yet", "2. Configure NethVoice Proxy", "Public IP address: required",
            "External calls do not work", "3. Update the DNS records", "4. Let's Encrypt certificate", "in the NethVoice settings on NS8"].map(t => text.indexOf(t));
        assert.ok(order.every((x, i) => x >= 0 && (i === 0 || x > order[i - 1])), "result steps out of order: " + order);
        // What Finish verified: the counts, every difference named.
        const verification = page.locator("[data-test=result-verification]");
        assert.match(await verification.locator("[data-test=verified-files]").textContent(), /2 of 3 checks matched/);
        assert.match(await verification.locator("[data-test=verified-tables]").textContent(), /1 of 2 unchanged since the dump/);
        assert.match(await verification.locator("[data-test=verified-dumps]").textContent(), /1 of 1 on NS8 with the same size/);
        assert.match(await verification.locator("[data-test=verification-differences]").textContent(), /2 differences/);
        const differences = await verification.locator("[data-test=verification-differences-table] tbody tr").allTextContents();
        assert.deepEqual(differences, ["Filesvolumes/spool/monitor/2024/01/02/out-201.wavDiffers on NS8",
            "Tableasteriskcdrdb.cdrWritten after the stop: the dump may not hold the change"]);
        assert.ok(text.indexOf("What the migration verified") < text.indexOf("1. Verify the NS8 services"));
        await page.locator("[data-test=result]").scrollIntoViewIfNeeded();
        await shot(page, OUT, "result");
        assert.deepEqual(errors, []);
        await context.close();
    });

    test("schedule: syncs on a schedule, a failed run in red, a Finish scheduled then cancelled", async () => {
        const { page, context, errors } = await open("?state=connected&jobseconds=1.2&schedule=failed");
        await page.click("[data-test=app-start]");
        await page.fill("#ns8m-start-nethvoice_host", "voice.example.com");
        await page.fill("#ns8m-start-nethcti_ui_host", "cti.example.com");
        await page.waitForFunction(() => !document.querySelector("[data-test=start-confirm]").disabled, null, WAIT);
        await page.click("[data-test=start-confirm]");
        await page.waitForSelector("[data-test=job][data-finished=true][data-operation=start]", WAIT);
        await page.waitForSelector("[data-test=schedule-none]", WAIT);
        // A wrong value is said before anything is sent.
        await page.click("[data-test=schedule-edit] button");
        await page.fill("[data-test=schedule-interval]", "often");
        await page.waitForSelector("[data-test=schedule-problem]", WAIT);
        assert.ok(await page.isDisabled("[data-test=schedule-save]"));
        await page.fill("[data-test=schedule-interval]", "30");
        await page.selectOption("[data-test=schedule-unit]", "minutes");
        await page.fill("[data-test=schedule-quiet-from]", "22:00");
        await page.fill("[data-test=schedule-quiet-to]", "06:00");
        await page.fill("[data-test=schedule-bwlimit]", "2048");
        await page.click("[data-test=schedule-save]");
        await page.waitForSelector("[data-test=schedule][data-kind=interval]", WAIT);
        const set = await page.evaluate(() => window.__fake.calls.filter(c => c.method === "SetSchedule").map(c => c.args[0]));
        assert.deepEqual(Object.fromEntries(Object.entries(set[0]).map(([k, x]) => [k, [x.t, x.v]])),
                         { kind: ["s", "interval"], interval: ["u", 30], interval_unit: ["s", "minutes"], quiet_from: ["s", "22:00"],
                           quiet_to: ["s", "06:00"], bwlimit: ["u", 2048] });
        assert.equal(await page.textContent("[data-test=schedule-summary]"), "Every 30 minutes; none from 22:00 to 06:00; at most 2048 KiB/s");
        // The last run failed: in red, with the helper's sentence.
        const failed = page.locator("[data-test=schedule-failed]");
        assert.match(await failed.textContent(), /The scheduled sync of .* failed.*The sync failed\. No space left/);
        assert.match(await page.textContent("[data-test=schedule-counts]"), /1 started, 1 failed, 0 skipped/);
        await page.locator("[data-test=schedule]").scrollIntoViewIfNeeded();
        await shot(page, OUT, "schedule");

        // Finish, later: after the checklist and the confirmation as today.
        await page.click("[data-test=app-finish]");
        const dialog = page.locator("[data-test=finish-dialog]");
        await dialog.waitFor(WAIT);
        for (const box of await dialog.locator("input[id^=ns8m-check-]").all())
            await box.check();
        await page.check("#ns8m-understood");
        await page.check("#ns8m-finish-later");
        assert.equal(await page.textContent("[data-test=finish-confirm]"), "Schedule Finish");
        assert.ok(await page.isDisabled("[data-test=finish-confirm]"), "no time given yet");
        const at = new Date(Date.now() + 2 * 86400e3);
        const local = new Date(at.getTime() - at.getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
        await page.fill("[data-test=finish-at]", local);
        await page.locator("[data-test=finish-at]").scrollIntoViewIfNeeded();
        await shot(page, OUT, "finish-schedule-dialog");
        await page.click("[data-test=finish-confirm]");
        await dialog.waitFor({ state: "detached", ...WAIT });
        const calls = await page.evaluate(() => window.__fake.calls.filter(c => c.method === "ScheduleFinish").map(c => c.args));
        assert.equal(calls.length, 1);
        assert.equal(Math.floor(calls[0][0] / 60e6), Math.floor(new Date(local).getTime() / 60e3));
        assert.equal(calls[0][1].nethvoice_host.v, "voice.example.com");
        assert.equal(await page.locator("[data-test=job][data-operation=finish]").count(), 0, "nothing started now");
        const panel = page.locator("[data-test=scheduled-finish][data-state=scheduled]");
        await panel.waitFor(WAIT);
        assert.match(await panel.textContent(), /A sync runs at .* checked again/);
        await shot(page, OUT, "finish-scheduled");
        await page.click("[data-test=scheduled-finish-cancel]");
        await page.waitForSelector("[data-test=scheduled-finish][data-state=cancelled]", WAIT);
        assert.match(await page.textContent("[data-test=scheduled-finish]"), /Cancelled by uid 0/);
        // Removed: back to none.
        await page.click("[data-test=schedule-remove]");
        await page.waitForSelector("[data-test=schedule-none]", WAIT);
        assert.deepEqual(errors, []);
        await context.close();
    });

    test("preflight: the report on the connect screen and before Start, warnings accepted", async () => {
        const { page, context, errors } = await open("?preflight=warn&jobseconds=1.2");
        // Connect refused by a blocker: the report says which and why.
        await page.fill("#ns8m-leader", "blocked.ns8.test");
        await page.fill("#ns8m-password", "Nethesis,1234");
        await page.click("[data-test=connect]");
        const endpoint = page.locator("[data-test=preflight-check][data-id=vpn-endpoint]");
        await endpoint.waitFor(WAIT);
        assert.equal(await endpoint.getAttribute("data-severity"), "blocker");
        assert.match(await endpoint.textContent(), /does not resolve/);
        assert.match(await endpoint.textContent(), /Create a DNS record/);
        // The guide's link: the profile's guide.url with the check's anchor.
        assert.equal(await endpoint.locator("a").getAttribute("href"), "https://docs.example.com/migration/prerequisites#vpn-connectivity");
        assert.ok(await page.locator("[data-test=preflight-blockers]").isVisible());
        assert.ok(await page.locator("text=Network").first().isVisible(), "checks are grouped as the guide groups them");
        await shot(page, OUT, "preflight-connect");
        // Another leader: checked again on request.
        await page.fill("#ns8m-leader", "leader.ns8.test");
        await page.click("[data-test=preflight-run]");
        await page.waitForSelector("[data-test=preflight-check][data-id=vpn-endpoint][data-severity=ok]", WAIT);
        const calls = await page.evaluate(() => window.__fake.calls.filter(c => c.method === "Preflight").map(c => c.args[0]));
        assert.equal(calls[calls.length - 1].leader.v, "leader.ns8.test");
        await connectFully(page);
        // Before Start: the report, and Start waits until the warning is accepted.
        await page.click("[data-test=app-start]");
        const dialog = page.locator("[data-test=start-dialog]");
        await dialog.waitFor(WAIT);
        const backup = dialog.locator("[data-test=preflight-check][data-id=backup]");
        await backup.waitFor(WAIT);
        assert.equal(await backup.getAttribute("data-severity"), "warning");
        await page.fill("#ns8m-start-nethvoice_host", "voice.example.com");
        await page.fill("#ns8m-start-nethcti_ui_host", "cti.example.com");
        await new Promise(r => setTimeout(r, 600));
        assert.ok(await page.isDisabled("[data-test=start-confirm]"), "Start waits for the warnings to be accepted");
        await shot(page, OUT, "preflight-start");
        await dialog.locator("#ns8m-accept-preflight-start").check();
        await page.waitForFunction(() => !document.querySelector("[data-test=start-confirm]").disabled, null, WAIT);
        await page.click("[data-test=start-confirm]");
        await dialog.waitFor({ state: "detached", ...WAIT });
        const start = await page.evaluate(() => window.__fake.calls.find(c => c.method === "Start").args[0]);
        assert.equal(start.accept_warnings.v, true);
        const pf = await page.evaluate(() => window.__fake.calls.filter(c => c.method === "Preflight").map(c => c.args[0]));
        assert.ok(pf.some(o => o.app && o.app.v === "nethvoice"), "the Start dialog checks the app");
        await context.close();
        assert.deepEqual(errors, []);
    });

    test("a field NS8 offered values for (App.FieldChoices) is a list of them", async () => {
        const { page, context, errors } = await open("?state=connected&jobseconds=1&choices=1");
        await page.click("[data-test=app-start]");
        const dialog = page.locator("[data-test=start-dialog]");
        await dialog.waitFor(WAIT);
        const select = dialog.locator("select#ns8m-start-nethcti_ui_host");
        assert.deepEqual(await select.locator("option").allTextContents(),
                         ["Choose one", "cti.example.com (eth0)", "cti2.example.com (eth1)"]);
        await page.fill("#ns8m-start-nethvoice_host", "voice.example.com");
        await select.selectOption("cti2.example.com");
        await page.waitForFunction(() => !document.querySelector("[data-test=start-confirm]").disabled, null, WAIT);
        await page.click("[data-test=start-confirm]");
        await dialog.waitFor({ state: "detached", ...WAIT });
        const start = await page.evaluate(() => window.__fake.calls.find(c => c.method === "Start").args[0]);
        assert.equal(start.nethcti_ui_host.v, "cti2.example.com");
        assert.deepEqual(errors, []);
        await context.close();
    });

    test("an app whose profile has no texts: generic sentences, nothing made up", async () => {
        const { page, context, errors } = await open("?state=connected&jobseconds=1&notexts=1&preflight=warn");
        await page.click("[data-test=app-start]");
        const dialog = page.locator("[data-test=start-dialog]");
        await dialog.waitFor(WAIT);
        assert.equal(await dialog.locator("[data-test=start-intro]").textContent(),
                     "NethVoice is installed on the NS8 node and the first data synchronization starts. The first sync can take several hours, depending on the amount of data.");
        assert.equal(await dialog.locator("[data-test=start-companion]").count(), 0);
        assert.equal(await dialog.locator("[data-test=field-note]").count(), 0);
        assert.equal(await page.getAttribute("#ns8m-start-nethvoice_host", "placeholder"), "");
        // Without a guide, the checks have no link.
        await dialog.locator("[data-test=preflight-check][data-id=backup]").waitFor(WAIT);
        assert.equal(await dialog.locator("[data-test=preflight-doc]").count(), 0);
        await dialog.locator("#ns8m-accept-preflight-start").check();
        await page.fill("#ns8m-start-nethvoice_host", "voice");
        await dialog.locator("[data-test=field-error][data-field=nethvoice_host]:has-text('e.g. server.example.com')").waitFor(WAIT);
        await page.fill("#ns8m-start-nethvoice_host", "voice.example.com");
        await page.fill("#ns8m-start-nethcti_ui_host", "cti.example.com");
        await page.waitForFunction(() => !document.querySelector("[data-test=start-confirm]").disabled, null, WAIT);
        await page.click("[data-test=start-confirm]");
        await page.waitForSelector("[data-test=job][data-finished=true][data-operation=start]", WAIT);
        assert.equal(await page.textContent("[data-test=app-hosts]"), "voice.example.com, cti.example.com");
        await page.click("[data-test=app-sync]");
        await page.waitForSelector("[data-test=job][data-finished=true][data-operation=sync]", WAIT);
        await page.click("[data-test=app-finish]");
        const fd = page.locator("[data-test=finish-dialog]");
        await fd.waitFor(WAIT);
        assert.match(await fd.locator("[data-test=irreversible]").textContent(), /NethVoice is configured and started on NS8/);
        for (const box of await fd.locator("input[id^=ns8m-check-]").all())
            await box.check();
        await page.check("#ns8m-understood");
        await fd.locator("#ns8m-accept-preflight-finish").check();
        await page.click("[data-test=finish-confirm]");
        await page.waitForSelector("[data-test=result]", WAIT);
        // Links under the fields' titles; the helper's notice under a generic
        // heading; no Let's Encrypt section.
        const labels = await page.locator("[data-test=result-link]").evaluateAll(as => as.map(a => a.parentElement.textContent));
        assert.deepEqual(labels, ["NethVoice base host: https://voice.example.com/", "NethVoice CTI base host: https://cti.example.com/"]);
        const text = await page.textContent("[data-test=result]");
        assert.match(text, /2\. Read the notices/);
        assert.match(text, /3\. Update the DNS records/);
        assert.equal(await page.locator("[data-test=result-letsencrypt]").count(), 0);
        assert.doesNotMatch(text, /Configure NethVoice Proxy/);
        await shot(page, OUT, "result-without-texts");
        assert.deepEqual(errors, []);
        await context.close();
    });

    test("the built manifest's search keywords name the profiles' apps", () => {
        const built = JSON.parse(fs.readFileSync(path.join(DIST, "manifest.json"), "utf8"));
        const source = JSON.parse(fs.readFileSync(path.join(here, "..", "src", "manifest.json"), "utf8"));
        assert.ok(built.menu.index.keywords[0].matches.includes("nethvoice"), JSON.stringify(built.menu.index.keywords));
        assert.ok(built.menu.index.keywords[0].matches.includes("migrazione"));
        assert.ok(!source.menu.index.keywords[0].matches.includes("nethvoice"));
    });

    test("a helper without the migration methods: actions hidden, no crash", async () => {
        const { page, context, errors } = await open("?state=connected&legacy=1");
        await page.waitForSelector("[data-test=app][data-app=nethvoice]", WAIT);
        for (const a of ["start", "sync", "finish", "abort", "skip"])
            assert.equal(await page.locator(`[data-test=app-${a}]`).count(), 0, a);
        assert.equal(await page.locator("[data-test=app-scan]").count(), 1);
        await page.getByRole("tab", { name: "Cluster" }).click();
        await page.waitForSelector("[data-test=cluster-card]", WAIT);
        assert.equal(await page.locator("[data-test=nodes]").count(), 0);
        assert.deepEqual(errors, []);
        await context.close();
    });

    test("logs follow and filter", async () => {
        const { page, context, errors } = await open();
        await page.getByRole("tab", { name: "Logs" }).click();
        await page.waitForSelector("[data-test=log-lines]:has-text('NethVoice found')", WAIT);
        await page.evaluate(() => window.__fake.appendLog("2025-01-01 10:00:02 sync: 10 files"));
        await page.waitForSelector("[data-test=log-lines]:has-text('sync: 10 files')", WAIT);
        await page.fill("[data-test=log-filter] input", "sync");
        await page.waitForFunction(() => document.querySelector("[data-test=log-lines]").textContent.trim() === "2025-01-01 10:00:02 sync: 10 files", null, WAIT);
        assert.deepEqual(await page.evaluate(() => window.__fake.spawned), ["tail", "-n", "500", "-F", "/var/log/ns8-migration.log"]);
        await shot(page, OUT, "logs");
        assert.deepEqual(errors, []);
        await context.close();
    });

    test("narrow window: no horizontal scrolling", async () => {
        const { page, context, errors } = await open("?state=connected", { width: 400, height: 800 });
        await page.waitForSelector("[data-test=app]", WAIT);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, "horizontal overflow of " + overflow + " px");
        await shot(page, OUT, "narrow");
        assert.deepEqual(errors, []);
        await context.close();
    });

    test("keyboard: the connect form is reachable and submitted with the keyboard", async () => {
        const { page, context } = await open();
        await page.focus("#ns8m-leader");
        await page.keyboard.type("leader.ns8.test");
        await page.keyboard.press("Tab");
        await page.keyboard.press("Tab");
        assert.equal(await page.evaluate(() => document.activeElement.id), "ns8m-password");
        await page.keyboard.type("wrong");
        await page.keyboard.press("Enter");
        await page.locator("[data-test=field-error]").first().waitFor(WAIT);
        // Every input has a label.
        const unlabeled = await page.evaluate(() => [...document.querySelectorAll("input")].filter(i =>
            !i.labels?.length && !i.getAttribute("aria-label") && !i.getAttribute("aria-labelledby")).map(i => i.id || i.name));
        assert.deepEqual(unlabeled, []);
        await context.close();
    });
});

// The helper's sentences by id (Job.MessageTexts, the step titles, the
// preflight checks' *_text, App.Notices) in Italian through the page's
// catalog, with none of their English templates left.
describe("the inventory and the end of the migration", () => {
    test("what NS7 still holds, a Disconnect that would take the users away, the end", async () => {
        let { page, context, errors } = await open("?state=connected&status=migrated");
        const inv = page.locator("[data-test=inventory]");
        await inv.waitFor(WAIT);
        const rows = await inv.locator("[data-test=inventory-table] tbody tr").allTextContents();
        assert.equal(rows.length, 3, rows.join(" | "));
        assert.match(rows[0], /NethVoice.*Migrated/);
        assert.match(rows[1], /Mattermost.*Not in use.*nothing to migrate/);
        assert.match(rows[2], /local OpenLDAP.*Not supported yet.*temporary user domain/);
        assert.match(await inv.locator("[data-test=inventory-absent]").textContent(), /Not installed on this server: Mail\./);
        assert.match(await inv.locator("[data-test=inventory-left]").textContent(), /NS7 is still needed for: Account provider \(local OpenLDAP\)/);
        await shot(page, OUT, "inventory");

        // Disconnect would leave NethVoice without users: said, and only forced.
        await page.getByRole("tab", { name: "Cluster" }).click();
        await page.click("[data-test=disconnect]");
        const dialog = page.locator("[data-test=disconnect-dialog]");
        await dialog.waitFor(WAIT);
        assert.match(await dialog.locator("[data-test=disconnect-dependents]").textContent(),
                     /NethVoice on NS8 signs its users in through the temporary user domain nethvoice\.example\.test/);
        assert.ok(await page.isDisabled("[data-test=disconnect-confirm]"), "Disconnect must wait for the explicit choice");
        await shot(page, OUT, "disconnect-dependents");
        await page.check("#ns8m-disconnect-force");
        await page.click("[data-test=disconnect-confirm]");
        // What the forced Disconnect broke stays in sight above the Connect form.
        const left = page.locator("[data-test=last-leave] [data-test=job][data-operation=disconnect][data-finished=true]");
        await left.waitFor(WAIT);
        const call = await page.evaluate(() => window.__fake.calls.filter(c => c.method === "Disconnect").pop().args[0]);
        assert.deepEqual(call.force, { t: "b", v: true });
        assert.match(await left.textContent(), /Forced: NethVoice on NS8 used the temporary user domain/);
        // The local provider is still on NS7: not the end.
        assert.equal(await page.locator("[data-test=migration-end]").count(), 0);
        assert.deepEqual(errors, []);
        await context.close();

        // A remote provider: once everything is migrated and the helper has
        // left, NS7 can be switched off.
        ({ page, context, errors } = await open("?state=disconnected&status=migrated&provider=remote"));
        const end = page.locator("[data-test=migration-end]");
        await end.waitFor(WAIT);
        assert.match(await end.textContent(), /NS7 can be switched off.*pages that send the old addresses to NS8/);
        await shot(page, OUT, "migration-end");
        assert.deepEqual(errors, []);
        await context.close();
    });
});

describe("Italian: the helper's words", () => {
    test("job messages, step titles, checks and notices", async () => {
        const { page, context, errors } = await open("?jobseconds=8", { lang: "it" });
        const body = () => page.textContent("body");
        const see = async (...texts) => {
            for (const t of texts)
                await page.getByText(t, { exact: false }).first().waitFor(WAIT);
        };
        const absent = async (...english) => {
            const text = await body();
            for (const e of english)
                assert.ok(!text.includes(e), "English on the Italian page: " + e);
        };
        // Connect: its steps while it runs, then its closing message.
        await page.fill("#ns8m-leader", "leader.ns8.test");
        await page.fill("#ns8m-password", "Nethesis,1234");
        await page.uncheck("#ns8m-tls");
        await page.click("[data-test=connect]");
        await page.check("#ns8m-fingerprint-ok");
        await page.click("[data-test=connect]");
        await page.fill("#ns8m-user-domain", "nethvoice.example.test");
        await page.click("[data-test=connect]");
        await see("Raggiungimento del leader NS8", "Aggiunta di questo server come nodo");
        await absent("Reach the NS8 leader", "Add this server as a node");
        await page.waitForSelector("[data-test=app]", WAIT);
        // Start: a check's Italian title and finding from its *_text; the steps; the message.
        await page.click("[data-test=app-start]");
        await see("NethVoice è installato e i suoi servizi sono in funzione: asterisk, httpd-fpbx.");
        await absent("is installed and its services are running");
        assert.equal(await page.locator("[data-test=preflight-check][data-id=app-services] [data-from=helper]").count(), 0);
        // The helper's own field check (CheckOptionTexts), by id: in Italian.
        await page.fill("#ns8m-start-nethvoice_host", "same.example.com");
        await page.fill("#ns8m-start-nethcti_ui_host", "same.example.com");
        await page.locator("[data-test=field-error][data-field=nethvoice_host]",
            { hasText: "Questo valore deve essere diverso da quello di un altro campo, che è anch'esso same.example.com." }).waitFor(WAIT);
        await absent("must differ from another field");
        await page.fill("#ns8m-start-nethvoice_host", "voice.example.com");
        await page.fill("#ns8m-start-nethcti_ui_host", "cti.example.com");
        await page.waitForFunction(() => !document.querySelector("[data-test=start-confirm]").disabled, null, WAIT);
        await page.click("[data-test=start-confirm]");
        await see("Verifica della destinazione", "Creazione dell'app su NS8", "Copia dei file", "Copia dei database");
        await absent("Check the destination", "Create the app on NS8", "Copy the files");
        await page.waitForSelector("[data-test=job][data-operation=start][data-finished=true]", WAIT);
        await see("NethVoice è stata creata su NS8 (nethvoice1, nodo 1) e la prima sincronizzazione è completata: 25000 file, 7.5 GiB inviati in 3 h.",
            "NethVoice Proxy è stato installato sul nodo 1: configurarlo");
        await absent("was created on NS8", "sent in", "NethVoice Proxy was installed");
        // Sync.
        await page.click("[data-test=app-sync]");
        await see("Copia dei database");
        await page.waitForSelector("[data-test=job][data-operation=sync][data-finished=true]", WAIT);
        await see("file, 12 MiB inviati in 30 s.");
        await absent("sent in");
        // Finish: its steps while it runs.
        await page.click("[data-test=app-finish]");
        for (const box of await page.locator("input[id^=ns8m-check-]").all())
            await box.check();
        await page.check("#ns8m-understood");
        await page.click("[data-test=finish-confirm]");
        await see("Arresto dei servizi NS7 che scrivono dati", "Ultima sincronizzazione", "Configurazione dell'app su NS8");
        await absent("Stop the NS7 services that write", "Last sync", "Configure the app on NS8");
        await page.waitForSelector("[data-test=result]", WAIT);
        await shot(page, OUT, "it-helper-words");
        assert.deepEqual(errors, []);
        await context.close();
    });
});

// Italian: every screen shows the Italian strings, and no English string
// that has a different Italian translation is left on it.
describe("Italian", () => {
    test("every screen in Italian", async () => {
        const leftovers = englishLeftoversChecker(path.join(here, "..", "po", "it.po"));
        const { page, context, errors } = await open("?jobseconds=1.2", { lang: "it" });
        const check = async (name, expected) => {
            for (const s of expected)
                await page.locator(`text=${s}`).first().waitFor(WAIT);
            assert.deepEqual(await leftovers(page), [], "English strings on the Italian " + name + " screen");
            await shot(page, OUT, "it-" + name);
        };
        assert.equal(await page.evaluate(() => document.documentElement.lang), "it");
        await check("connect", ["Benvenuti", "Fare uno snapshot o un backup completo di NS7", "Origine: questo NethServer 7",
            "OpenLDAP locale", "verde (LAN)", "Nodo leader NS8",
            "Nome utente amministratore NS8", "Password amministratore NS8", "Convalidazione TLS"]);
        await page.fill("#ns8m-leader", "leader.ns8.test");
        await page.fill("#ns8m-password", "Nethesis,1234");
        await page.click("[data-test=connect]");
        await page.uncheck("#ns8m-tls");
        await page.check("#ns8m-fingerprint-ok");
        await page.click("[data-test=connect]");
        await check("connect-user-domain", ["Dominio utente LDAP"]);
        await page.fill("#ns8m-user-domain", "nethvoice.example.test");
        await page.click("[data-test=connect]");
        await page.waitForSelector("[data-test=app]", WAIT);
        await check("apps", ["Applicazioni", "Non migrata", "Avvia migrazione"]);
        await page.click("[data-test=app-start]");
        await check("start-dialog", ["Host base NethVoice", "Requisiti FQDN", "registrazioni delle chiamate, segreteria",
            "Se NethVoice Proxy non è già installato", "Potete abilitarla anche in seguito"]);
        await page.fill("#ns8m-start-nethvoice_host", "voice.example.com");
        await page.fill("#ns8m-start-nethcti_ui_host", "cti.example.com");
        await page.fill("#ns8m-start-proxy_fqdn", "proxy.example.com");
        await page.waitForFunction(() => !document.querySelector("[data-test=start-confirm]").disabled, null, WAIT);
        await page.click("[data-test=start-confirm]");
        await page.waitForSelector("[data-test=job][data-finished=false]", WAIT);
        await check("execution", ["Avvio della migrazione", "rimanenti"].slice(1));
        await page.waitForSelector("[data-test=job][data-finished=true]", WAIT);
        await page.click("[data-test=app-sync]");
        await page.waitForSelector("[data-test=job][data-operation=sync][data-finished=true]", WAIT);
        await check("history", ["Cronologia delle sincronizzazioni"]);
        await page.click("[data-test=schedule-edit] button");
        await page.click("[data-test=schedule-save]");
        await page.waitForSelector("[data-test=schedule][data-kind=interval] [data-test=schedule-next]", WAIT);
        await page.locator("[data-test=schedule]").scrollIntoViewIfNeeded();
        await check("schedule", ["Sincronizzazioni pianificate", "Ogni ora", "Prossima sincronizzazione", "Rimuovi la pianificazione"]);
        await page.click("[data-test=app-finish]");
        await check("finish-dialog", ["Questo passaggio è irreversibile", "Elenco di controllo pre-cutover",
            "NethVoice non è disponibile fino al termine"]);
        for (const box of await page.locator("input[id^=ns8m-check-]").all())
            await box.check();
        await page.check("#ns8m-understood");
        await page.check("#ns8m-finish-later");
        await page.locator("[data-test=finish-at]").scrollIntoViewIfNeeded();
        await check("finish-schedule", ["Pianificalo per più tardi", "Pianifica il Finish"]);
        await page.uncheck("#ns8m-finish-later");
        await page.click("[data-test=finish-confirm]");
        await page.waitForSelector("[data-test=result]", WAIT);
        await check("result", ["Cosa ha verificato la migrazione", "Scritta dopo", "2 differenze", "NON aggiornare il DNS ancora", "2. Configurare NethVoice Proxy", "Indirizzo IP pubblico: obbligatorio",
            "Le chiamate esterne non funzionano", "3. Aggiornare i record DNS", "Amministrazione NethVoice",
            "4. Certificato Let's Encrypt", "impostazioni di NethVoice su NS8"]);
        // The guide's three records: the Proxy FQDN planned apart has its own.
        assert.deepEqual(await page.locator("[data-test=dns-records] tbody tr").allTextContents(),
                         ["voice.example.comA192.0.2.10Amministrazione NethVoice", "cti.example.comA192.0.2.10NethVoice CTI",
                          "proxy.example.comA192.0.2.10FQDN di NethVoice Proxy"]);
        // The profile's English texts are not on the Italian screen.
        assert.doesNotMatch(await page.textContent("[data-test=result]"), /Configure NethVoice Proxy|External calls/);
        await page.getByRole("tab", { name: "Cluster" }).click();
        await check("cluster", ["Cluster NS8", "Indirizzo VPN"]);
        await page.getByRole("tab", { name: "Log" }).click();
        await check("logs", ["Segui"]);
        assert.deepEqual(errors, []);
        await context.close();
    });
});
