// Unit tests of the page's plain logic: formatting, FQDN checks, error
// mapping, the translation catalogues.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { checkFqdn, colonHex, cutoverReadiness, formatBytes, formatDuration, parseHistory, timeLeft, verificationView } from "../src/format.js";
import { classifyConnectError, fieldOfError } from "../src/errors.js";
import { extract, extractHelper, parsePo, poToJs } from "../po.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const ERR = "org.nethserver.Ns8Migration1.Error.";

test("bytes and durations", () => {
    assert.equal(formatBytes(0), "0 B");
    assert.equal(formatBytes(1536), "1.50 KiB");
    assert.equal(formatBytes(7.5 * 2 ** 30), "7.50 GiB");
    assert.equal(formatDuration(45), "45 s");
    assert.equal(formatDuration(200), "3 min 20 s");
    assert.equal(formatDuration(3900), "1 h 05 min");
});

test("the verification of Finish: counts per kind, every difference in order", () => {
    const view = verificationView([
        ["files", "recordings", "matched", "10 entries the same on NS8."],
        ["files", "volumes/moh/a.wav", "missing", "Not on NS8."],
        ["table", "asterisk.users", "matched", "3 rows, unchanged since the dump."],
        ["table", "asteriskcdrdb.cdr", "differs", "Written after the stop."],
        ["dumps", "restore/10_asterisk_structure.sql", "matched", "42 bytes on both."],
    ]);
    assert.deepEqual(view.kinds, { files: { compared: 2, matched: 1 }, table: { compared: 2, matched: 1 }, dumps: { compared: 1, matched: 1 } });
    assert.deepEqual(view.differences.map(d => [d.what, d.name, d.outcome]),
                     [["files", "volumes/moh/a.wav", "missing"], ["table", "asteriskcdrdb.cdr", "differs"]]);
    assert.equal(view.empty, false);
    assert.equal(verificationView([]).empty, true);
    assert.equal(verificationView(undefined).differences.length, 0);
});

test("FQDN check as NS8 applies it", () => {
    assert.equal(checkFqdn("voice.example.com"), "");
    assert.equal(checkFqdn("https://voice.example.com"), "url");
    assert.equal(checkFqdn("192.0.2.5"), "ip");
    assert.equal(checkFqdn("voice"), "short");
    assert.equal(checkFqdn("voice_1.example.com"), "chars");
    assert.equal(checkFqdn("-a.example.com"), "chars");
    assert.equal(checkFqdn("voice.example.com/x"), "chars");
    assert.equal(checkFqdn(""), "empty");
});

test("time left from ExpectedEndTime, else from bytes and rate", () => {
    assert.equal(timeLeft({ ExpectedEndTime: 10_000_000 }, 4000), 6);
    assert.equal(timeLeft({ ExpectedEndTime: 0, Bytes: 100, BytesTotal: 1100, Rate: 100 }, 0), 10);
    assert.equal(timeLeft({ ExpectedEndTime: 0, Bytes: 0, BytesTotal: 0, Rate: 0 }, 0), null);
    assert.equal(timeLeft({ Finished: true }, 0), null);
});

test("fingerprints in colon form", () => {
    assert.equal(colonHex("abcd12"), "AB:CD:12");
    assert.equal(colonHex("AB:CD"), "AB:CD");
});

test("connect errors land on their fields", () => {
    assert.equal(classifyConnectError(ERR + "AuthenticationFailed", "NS8 refused the user name or the password of admin.").field, "password");
    assert.equal(classifyConnectError(ERR + "AuthenticationFailed", "The OTP code was not accepted").field, "otp");
    assert.equal(classifyConnectError(ERR + "OtpRequired", "give the OTP").showOtp, true);
    const ldap = classifyConnectError(ERR + "InvalidArgument", "NS7 has a local OpenLDAP account provider: choose the name of its user domain in NS8");
    assert.deepEqual([ldap.field, ldap.showUserDomain], ["user_domain", true]);
    const conflict = classifyConnectError(ERR + "DomainConflict", "NS8 already has a user domain named directory.nh. Choose a different name");
    assert.deepEqual([conflict.field, conflict.advice], ["user_domain", "domain"]);
    const un = classifyConnectError(ERR + "ClusterUnreachable", "cannot resolve");
    assert.deepEqual([un.field, un.advice], ["leader", "unreachable"]);
    const fp = "AB:".repeat(31) + "CD";
    const tls = classifyConnectError(ERR + "TlsNotTrusted", `The certificate of x is not trusted (fingerprint ${fp}).`);
    assert.deepEqual([tls.field, tls.fingerprint], ["tls", fp]);
    assert.equal(classifyConnectError(ERR + "InvalidArgument", "\"https://x\" is a URL: give only the host name").field, "leader");
    assert.equal(classifyConnectError(ERR + "InvalidArgument", "Give the NS8 administrator's password.").field, "password");
});

test("Start/Finish errors name their field", () => {
    assert.deepEqual(fieldOfError('nethvoice_host: "https://v" is a URL', ["nethvoice_host"]), { field: "nethvoice_host", text: '"https://v" is a URL' });
    assert.equal(fieldOfError("Something else: failed", ["nethvoice_host"]).field, null);
});

test("readiness to cut over", () => {
    const h = parseHistory([[1, 100, 1, 600e6, 0]]);
    assert.equal(cutoverReadiness(h, 0).state, "more");
    const three = parseHistory([[1, 900, 1, 3600e6, 0], [2, 90, 1, 1200e6, 0], [3, 9, 1, 120e6, 0]]);
    assert.equal(cutoverReadiness(three, 0).state, "ready");
    assert.equal(cutoverReadiness(three, 3600e6).state, "slow");
    const warn = parseHistory([[1, 900, 1, 60e6, 2]]);
    assert.equal(cutoverReadiness(warn, 0).state, "warnings");
});

test("po: parse, plural forms, catalogue", () => {
    const po = 'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n' +
        'msgid "Connect"\nmsgstr "Connetti"\n\n#, fuzzy\nmsgid "Fuzzy"\nmsgstr "No"\n\n' +
        'msgid "$0 file"\nmsgid_plural "$0 files"\nmsgstr[0] "$0 file"\nmsgstr[1] "$0 file"\n\n' +
        'msgid "long"\nmsgstr ""\n"a "\n"b"\n';
    const js = poToJs(po, "it");
    let got;
    new Function("cockpit", js)({ locale: (x) => { got = x } });
    assert.deepEqual(got.Connect, [null, "Connetti"]);
    assert.equal(got.Fuzzy, undefined);
    assert.deepEqual(got["$0 file"], ["$0 files", "$0 file", "$0 file"]);
    assert.deepEqual(got.long, [null, "a b"]);
    assert.equal(got[""].language, "it");
    assert.equal(got[""]["plural-forms"](2), true);
});

test("Italian is complete and the .pot is current", () => {
    const root = path.join(here, "..");
    const manifest = JSON.parse(fs.readFileSync(path.join(root, "src/manifest.json"), "utf8"));
    const found = extract(path.join(root, "src"), [[manifest.menu.index.label, "src/manifest.json"]]);
    const potEntries = parsePo(fs.readFileSync(path.join(root, "po/ns8-migration.pot"), "utf8"));
    const pot = potEntries.filter(e => !e.msgctxt).map(e => e.msgid).filter(Boolean);
    assert.deepEqual(pot.slice().sort(), [...found.keys()].sort(), "po/ns8-migration.pot is stale: run node build.js --pot");
    const itEntries = parsePo(fs.readFileSync(path.join(root, "po/it.po"), "utf8")).filter(e => !e.flags.includes("fuzzy"));
    const it = new Map(itEntries.filter(e => !e.msgctxt).map(e => [e.msgid, e.msgstr[0]]));
    // The helper's sentences by id (msgctxt = id): the same as its sources
    // say, each translated with the same %1..%9.
    const helper = extractHelper(path.join(root, "..", "helper", "src"));
    const key = (e) => e.msgctxt + "\u0004" + e.msgid;
    assert.deepEqual(potEntries.filter(e => e.msgctxt).map(key).sort(), [...helper.keys()].sort(),
                     "po/ns8-migration.pot lacks the helper's current texts: run node build.js --pot");
    const itHelper = new Map(itEntries.filter(e => e.msgctxt).map(e => [key(e), e.msgstr[0]]));
    for (const k of helper.keys()) {
        assert.ok(itHelper.get(k), "a helper text without an Italian translation: " + k);
        const ph = (s) => (s.match(/%[1-9]/g) || []).sort().join();
        assert.equal(ph(itHelper.get(k)), ph(k.split("\u0004")[1]), "placeholders differ in the translation of: " + k);
    }
    const missing = [...found.keys()].filter(k => !it.get(k));
    assert.deepEqual(missing, [], "strings without an Italian translation");
    // Placeholders survive translation.
    for (const k of found.keys()) {
        const ph = (s) => (s.match(/\$\d/g) || []).sort().join();
        assert.equal(ph(it.get(k)), ph(k), "placeholders differ in the translation of: " + k);
    }
});

test("the helper's sentences by id in the page's language", async () => {
    // cockpit.js reads window.cockpit: a catalog with Italian by context.
    const catalog = {
        "sync.done\u0004%1 files, %2 sent in %3.": "%1 file, %2 inviati in %3.",
        "step.start.check\u0004Check the destination": "Verifica della destinazione",
        "a.b\u0004%1 and %2": "%2 e %1",
    };
    globalThis.window = {
        cockpit: {
            language: "it",
            gettext(ctx, s) { return catalog[ctx + "\u0004" + s] || s },
        },
    };
    const { fillTemplate, helperText, helperTexts, jobMessage, stepTitle, noticeText, checkText } = await import("../src/texts.js");
    // One pass, as Text::english(): an argument's "%1" stays, a lone % stays.
    assert.equal(fillTemplate("%1 of %2", ["%2", "x"]), "%2 of x");
    assert.equal(fillTemplate("Less than 20 % left; %3 %1", ["a"]), "Less than 20 % left; %3 a");
    assert.equal(fillTemplate("100%", []), "100%");
    assert.equal(helperText(["sync.done", "%1 files, %2 sent in %3.", ["12", "2.1 MiB", "4 s"]]), "12 file, 2.1 MiB inviati in 4 s.");
    assert.equal(helperText(["a.b", "%1 and %2", ["x", "y"]]), "y e x");
    assert.equal(helperText(["", "Not yet by id: %1", ["z"]]), "Not yet by id: z");
    assert.equal(helperText(["x.unknown", "Untranslated %1.", ["w"]]), "Untranslated w.");
    assert.equal(helperTexts([["a.b", "%1 and %2", ["1", "2"]], ["", "More.", []]]), "2 e 1 More.");
    assert.equal(jobMessage({ Message: "English.", MessageTexts: [] }), "English.");
    assert.equal(jobMessage({ Message: "12 files", MessageTexts: [["sync.done", "%1 files, %2 sent in %3.", ["12", "1 B", "1 s"]]] }),
                 "12 file, 1 B inviati in 1 s.");
    // Step titles: the helper's own by step.<operation>.<id>, a profile's by App.Texts step.<id>.
    const app = { Texts: { "step.files": { en: "Copy the files", it: "Copia dei file" },
                           "notice.proxy": { en: "Configure the proxy.", it: "Configurare il proxy." } } };
    assert.equal(stepTitle({ Operation: "start" }, ["check", "Check the destination", 0], app), "Verifica della destinazione");
    assert.equal(stepTitle({ Operation: "start" }, ["files", "Copy the files", 0], app), "Copia dei file");
    assert.equal(stepTitle({ Operation: "start" }, ["other", "Other", 0], app), "Other");
    assert.equal(noticeText(app, "Configure the proxy."), "Configurare il proxy.");
    assert.equal(noticeText(app, "Unknown notice."), "Unknown notice.");
    // With where the helper installed it, as Start reports the notice.
    assert.equal(noticeText(app, "Configure the proxy. (nethvoice-proxy2 on node 1)"), "Configurare il proxy. (nethvoice-proxy2 on node 1)");
    // Preflight: *_text when given, the English otherwise.
    assert.equal(checkText({ detail: "12 files", detail_text: ["sync.done", "%1 files, %2 sent in %3.", ["12", "1 B", "1 s"]] }, "detail"),
                 "12 file, 1 B inviati in 1 s.");
    assert.equal(checkText({ detail: "English only." }, "detail"), "English only.");
    delete globalThis.window;
});

test("a D-Bus error's English is said in Italian sentence by sentence", async () => {
    const catalog = {
        "finish.cannot\u0004Cannot finish:": "Impossibile completare:",
        "ns8.network\u0004Cannot talk to %1: %2": "Impossibile comunicare con %1: %2",
        "field.fqdn.no-domain\u0004\"%1\" has no domain: give a fully qualified name such as %1.example.com.":
            "\"%1\" non ha un dominio: inserisci un nome completo come %1.example.com.",
        "sync.done\u0004%1 files, %2 sent in %3.": "%1 file, %2 inviati in %3.",
    };
    globalThis.window = { cockpit: {} };
    // cockpit.js keeps the object it found first (an earlier test's): speak through it.
    const cockpit = (await import("../src/cockpit.js")).default;
    cockpit.language = "it";
    cockpit.gettext = (ctx, s) => catalog[ctx + "\u0004" + s] || s;
    const { helperMessage, setHelperTemplates, stepTitle } = await import("../src/texts.js");
    setHelperTemplates([
        ["finish.cannot", "Cannot finish:"],
        ["ns8.network", "Cannot talk to %1: %2"],
        ["field.fqdn.no-domain", "\"%1\" has no domain: give a fully qualified name such as %1.example.com."],
        ["sync.done", "%1 files, %2 sent in %3."],
        ["finish.configure.invalid", "%1: %2"], // too little of its own to be told apart: never matched
    ]);
    // Two sentences, the second's last argument with spaces in it (what a remote system said).
    assert.equal(helperMessage("Cannot finish: Cannot talk to leader.example: Connection refused by peer"),
                 "Impossibile completare: Impossibile comunicare con leader.example: Connection refused by peer");
    // A repeated placeholder is the same text both times.
    assert.equal(helperMessage("\"voice\" has no domain: give a fully qualified name such as voice.example.com."),
                 "\"voice\" non ha un dominio: inserisci un nome completo come voice.example.com.");
    assert.equal(helperMessage("12 files, 1 B sent in 1 s. 3 files, 2 B sent in 2 s."),
                 "12 file, 1 B inviati in 1 s. 3 file, 2 B inviati in 2 s.");
    // A step title the helper filled in before it went on the bus.
    catalog["step.start.proxy\u0004Install %1 when missing"] = "Installazione di %1 se manca";
    setHelperTemplates([["step.start.proxy", "Install %1 when missing"]]);
    assert.equal(stepTitle({ Operation: "start" }, ["proxy", "Install Some Proxy when missing", 0], {}),
                 "Installazione di Some Proxy se manca");
    setHelperTemplates([
        ["finish.cannot", "Cannot finish:"],
        ["ns8.network", "Cannot talk to %1: %2"],
    ]);
    // Not made of the helper's sentences: as it is.
    assert.equal(helperMessage("Cannot finish: something else entirely."), "Cannot finish: something else entirely.");
    assert.equal(helperMessage("Access denied"), "Access denied");
    assert.equal(helperMessage(""), "");
    cockpit.language = "en";
    assert.equal(helperMessage("Cannot finish: Cannot talk to x: y"), "Cannot finish: Cannot talk to x: y");
    delete globalThis.window;
});
