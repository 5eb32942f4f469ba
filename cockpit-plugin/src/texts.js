// The sentences an app's profile gives the page (App.Texts, a{sa{ss}}:
// {id: {en: ..., it: ...}}), in the page's language.  The page knows no
// app: everything it says about one comes from here or from App.Fields.
import cockpit, { isItalian } from "./cockpit.js";

// The text ID of APP in the page's language; FALLBACK ("" unless given)
// when the profile has none.
export function appText(app, id, fallback = "") {
    const t = ((app && app.Texts) || {})[id];
    if (!t)
        return fallback;
    return (isItalian() && t.it) || t.en || fallback;
}

// The app's name in the page's language: the profile's `name` text, else
// App.Name.
export function appName(app) {
    return appText(app, "name", (app && app.Name) || "");
}

// A text whose lines are the items of a list (e.g. steps to follow).
export function appTextLines(app, id) {
    return appText(app, id).split("\n").map(l => l.trim()).filter(Boolean);
}

// The guide's page the preflight checks' `doc` anchors point into: the
// profile's `guide.url` of the first app that has one.
export function guideUrl(apps) {
    for (const app of apps || []) {
        const url = appText(app, "guide.url");
        if (/^https:\/\//.test(url))
            return url;
    }
    return "";
}

// Where a check's `doc` leads: a full URL as it is, an anchor into GUIDE;
// "" when there is nowhere to go.
export function docLink(guide, doc) {
    if (!doc)
        return "";
    if (/^https:\/\//.test(doc))
        return doc;
    return guide ? guide + "#" + doc : "";
}

// -- the helper's sentences by id (docs/api.md, "Texts by id") --------------

// TEMPLATE with %1..%9 replaced by ARGS in one pass, as the helper's
// Text::english() does: an argument holding "%1" stays as it is, a '%' not
// followed by the number of an argument is itself.
export function fillTemplate(template, args) {
    args = args || [];
    return String(template).replace(/%([1-9])/g, (m, n) => (Number(n) <= args.length ? String(args[n - 1]) : m));
}

// One sentence of the helper, (ID, English TEMPLATE, ARGS) as on the bus,
// in the page's language: the template translated by its id through the
// page's catalog (po/, where the id is the message context), then filled.
// An id of "" has no translation yet: the English as it is.
export function helperText(text) {
    if (!Array.isArray(text))
        return "";
    const [id, template, args] = text;
    const t = id ? cockpit.gettext(id, template) : template;
    return fillTemplate(t, args);
}

// Sentences said one after the other (Job.MessageTexts, a(ssas)).
export function helperTexts(texts) {
    return (texts || []).map(helperText).filter(Boolean).join(" ");
}

// A job's closing message in the page's language: Job.MessageTexts when the
// helper gives it, Job.Message otherwise.
export function jobMessage(job) {
    if (!job)
        return "";
    const texts = job.MessageTexts || [];
    return texts.length ? helperTexts(texts) : (job.Message || "");
}

// The title of a step of a job (Job.Steps, (id, title, progress)) in the
// page's language: a step the helper names has the text id
// step.<operation>.<step id>; a step from the app's profile (a transfer, a
// dump) is in App.Texts as step.<step id>.  The helper's English otherwise.
export function stepTitle(job, step, app) {
    const [id, title] = step;
    const own = job && job.Operation ? cockpit.gettext("step." + job.Operation + "." + id, title) : title;
    if (own !== title)
        return own;
    const fromApp = appText(app, "step." + id, "");
    // A title with an argument (e.g. the companion modules to install) is
    // on the bus filled in: its template is found again from the English.
    return fromApp || helperMessage(title);
}

// An App.Notices sentence (English, from the profile's companions) in the
// page's language: the "it" of the App.Texts notice.<image> whose "en" is it.
export function noticeText(app, notice) {
    if (!isItalian())
        return notice;
    // The helper adds where the module went: "<notice> (<module id> on node N)".
    for (const [id, t] of Object.entries((app && app.Texts) || {}))
        if (id.startsWith("notice.") && t && t.it && t.en && notice.startsWith(t.en))
            return t.it + notice.slice(t.en.length);
    return notice;
}

// A preflight check's title, detail or remedy (KEY) in the page's language:
// its KEY_text (id, template, args) when the helper gives one, else the
// English KEY.  A detail goes on with the sentences of detail_more (the
// items of what it lists), each by id.
export function checkText(check, key) {
    const t = check && check[key + "_text"];
    if (!Array.isArray(t) || t.length !== 3)
        return (check && check[key]) || "";
    const more = key === "detail" && Array.isArray(check.detail_more) ? check.detail_more : [];
    return [t, ...more].map(helperText).filter(s => s).join(" ");
}

// -- the helper's sentences without their ids: D-Bus errors ------------------

// A D-Bus error has a name and an English message, no ids: the message is
// the English of the helper's sentences, one after the other.  The page
// finds which templates made it (their ids and English are in the catalog;
// the build hands them over as NS8M_HELPER_TEMPLATES, [[id, template]...])
// and says each in the page's language.  A message that is not made of
// helper sentences stays as it is.
/* global NS8M_HELPER_TEMPLATES */
let templates = typeof NS8M_HELPER_TEMPLATES !== "undefined" ? NS8M_HELPER_TEMPLATES : [];
let matchers = null;

export function setHelperTemplates(list) {
    templates = list || [];
    matchers = null;
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// A template as an anchored pattern: %N a group (a repeated %N the same
// text again), the rest literal.  Templates with little literal text
// ("%1: %2") would match anything and are left out.
function matcherOf([id, template]) {
    const numbers = [];
    const re = template.split(/(%[1-9])/).map(part => {
        const m = part.match(/^%([1-9])$/);
        if (!m)
            return escapeRe(part);
        const i = numbers.indexOf(m[1]);
        if (i >= 0)
            return "\\" + (i + 1);
        numbers.push(m[1]);
        return "([^]+?)";
    }).join("");
    const literal = template.replace(/%[1-9]/g, "");
    return { id, template, numbers, literal: literal.length, head: template.split(/%[1-9]/)[0], re: new RegExp("^" + re + "$") };
}

function allMatchers() {
    if (!matchers)
        matchers = templates.map(matcherOf).filter(m => m.literal >= 6).sort((a, b) => b.literal - a.literal);
    return matchers;
}

// The sentences of S from index AT on, as (id, template, args) texts; null
// when S cannot be split into helper sentences there.  MEMO: at → result.
function split(s, at, memo) {
    if (at >= s.length)
        return [];
    if (memo.has(at))
        return memo.get(at);
    memo.set(at, null);
    const rest = s.slice(at);
    const ends = [];
    for (let i = rest.indexOf(" "); i >= 0; i = rest.indexOf(" ", i + 1))
        ends.push(i);
    ends.push(rest.length);
    for (const m of allMatchers()) {
        if (!rest.startsWith(m.head))
            continue;
        for (let e = 0; e < ends.length; e++) { // the shortest sentence that lets the rest be ones too
            const found = m.re.exec(rest.slice(0, ends[e]));
            if (!found)
                continue;
            const tail = split(s, at + ends[e] + 1, memo);
            if (tail === null)
                continue;
            const args = [];
            m.numbers.forEach((n, i) => { args[Number(n) - 1] = found[i + 1] });
            const result = [[m.id, m.template, Array.from(args, a => a ?? "")], ...tail];
            memo.set(at, result);
            return result;
        }
    }
    return null;
}

// MESSAGE (a D-Bus error's English) in the page's language.
export function helperMessage(message) {
    if (!message || !isItalian())
        return message || "";
    const texts = split(String(message), 0, new Map());
    return texts ? helperTexts(texts) : message;
}
