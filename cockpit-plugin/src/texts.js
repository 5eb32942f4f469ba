// The sentences an app's profile gives the page (App.Texts, a{sa{ss}}:
// {id: {en: ..., it: ...}}), in the page's language.  The page knows no
// app: everything it says about one comes from here or from App.Fields.
import { isItalian } from "./cockpit.js";

// The text ID of APP in the page's language; FALLBACK ("" unless given)
// when the profile has none.
export function appText(app, id, fallback = "") {
    const t = ((app && app.Texts) || {})[id];
    if (!t)
        return fallback;
    return (isItalian() && t.it) || t.en || fallback;
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
