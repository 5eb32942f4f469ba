// Launching Debian's Chromium with playwright-core, and screenshots that
// are checked not to be blank.  Shared by the page tests (fake bus) and the
// end-to-end tests (tests/browser/).
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { assertNotBlank } from "./png.js";
import { parsePo } from "../po.js";

export const CHROMIUM = process.env.NS8M_CHROMIUM || "/usr/bin/chromium";

// Playwright starts Chromium with a fresh, temporary --user-data-dir of
// its own for every launch, and removes it on close.
export async function launch() {
    return chromium.launch({
        executablePath: CHROMIUM,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
}

export function artifactsDir(sub) {
    const base = process.env.NS8M_ARTIFACTS_DIR ||
        path.join(path.dirname(new URL(import.meta.url).pathname), "..", "..", "test-artifacts");
    const dir = path.join(base, sub);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
}

export async function shot(page, dir, name) {
    const file = path.join(dir, name + ".png");
    await page.screenshot({ path: file });
    return assertNotBlank(file);
}

// Collects what would make a test lie: uncaught errors in the page.
export function watchPage(page, errors) {
    page.on("pageerror", e => errors.push("pageerror: " + e.message));
    page.on("console", m => {
        if (m.type() === "error" && !/Failed to load resource|favicon/.test(m.text()))
            errors.push("console: " + m.text());
    });
}

// English strings (of at least 8 characters, without placeholders) whose
// Italian translation differs: none may be visible on an Italian screen.
export function englishLeftoversChecker(poFile) {
    const it = parsePo(fs.readFileSync(poFile, "utf8"));
    const english = it.filter(e => e.msgid && e.msgstr[0] && e.msgstr[0] !== e.msgid && e.msgid.length >= 8 && !e.msgid.includes("$"))
            .map(e => e.msgid);
    return async (page) => {
        // The log's lines are the helper's own words, in English.  Every
        // other sentence of the helper comes by id and must be Italian.
        const text = await page.evaluate(() => {
            let t = document.body.innerText;
            for (const el of document.querySelectorAll("[data-test=log-lines]"))
                t = t.replace(el.innerText, "");
            return t;
        });
        return english.filter(s => text.includes(s));
    };
}
