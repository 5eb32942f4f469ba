// Gettext catalogs for Cockpit pages: extracts the strings of src/ into
// po/ns8-migration.pot and turns po/<lang>.po into the po.<lang>.js that
// Cockpit serves to the page as "po.js" (cockpit.locale({...})).
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";

// -- reading .po ---------------------------------------------------------------

function unquote(s) {
    return JSON.parse(s.replace(/\t/g, "\\t"));
}

export function parsePo(text) {
    const entries = [];
    let cur = null;
    let last = null;
    const flush = () => {
        if (cur && cur.msgid !== undefined)
            entries.push(cur);
        cur = null;
    };
    for (const raw of text.split(/\r?\n/)) {
        const line = raw.trim();
        if (line === "") {
            flush();
            continue;
        }
        if (line.startsWith("#")) {
            if (cur && cur.msgid !== undefined)
                flush();
            cur = cur || { flags: [], refs: [] };
            if (line.startsWith("#,"))
                cur.flags.push(...line.slice(2).split(",").map(f => f.trim()));
            else if (line.startsWith("#:"))
                cur.refs.push(line.slice(2).trim());
            continue;
        }
        let m = line.match(/^(msgctxt|msgid|msgid_plural|msgstr)(?:\[(\d+)\])?\s+(".*")$/);
        if (m) {
            if ((m[1] === "msgctxt" || m[1] === "msgid") && cur && cur.msgid !== undefined)
                flush();
            cur = cur || { flags: [], refs: [] };
            const value = unquote(m[3]);
            if (m[1] === "msgstr") {
                cur.msgstr = cur.msgstr || [];
                cur.msgstr[m[2] ? Number(m[2]) : 0] = value;
                last = ["msgstr", m[2] ? Number(m[2]) : 0];
            } else {
                cur[m[1]] = value;
                last = [m[1]];
            }
            continue;
        }
        m = line.match(/^(".*")$/);
        if (m && cur && last) {
            const value = unquote(m[1]);
            if (last[0] === "msgstr")
                cur.msgstr[last[1]] += value;
            else
                cur[last[0]] += value;
            continue;
        }
        throw new Error("po: cannot parse line: " + raw);
    }
    flush();
    return entries;
}

function headerField(entries, name) {
    const h = entries.find(e => e.msgid === "" && !e.msgctxt);
    if (!h)
        return null;
    const m = (h.msgstr[0] || "").match(new RegExp("^" + name + ":\\s*(.*)$", "mi"));
    return m ? m[1].trim() : null;
}

// -- writing po.<lang>.js --------------------------------------------------------

export function poToJs(text, lang) {
    const entries = parsePo(text);
    const forms = headerField(entries, "Plural-Forms") || "nplurals=2; plural=(n != 1);";
    const pm = forms.match(/plural\s*=\s*([^;]+);?/);
    const expr = pm ? pm[1] : "(n != 1)";
    if (!/^[\sn0-9!=<>&|?:%()]+$/.test(expr))
        throw new Error("po: unexpected Plural-Forms expression: " + expr);
    const out = {};
    for (const e of entries) {
        if (e.msgid === "" || e.flags.includes("fuzzy"))
            continue;
        const strs = e.msgstr || [];
        if (!strs.length || strs.some(s => !s))
            continue;
        const key = (e.msgctxt ? e.msgctxt + "\u0004" : "") + e.msgid;
        out[key] = [e.msgid_plural || null, ...strs];
    }
    const body = Object.keys(out).sort().map(k => JSON.stringify(k) + ":" + JSON.stringify(out[k])).join(",\n");
    return "cockpit.locale({\"\":{\"plural-forms\":function(n){return " + expr + ";}," +
        "\"language\":" + JSON.stringify(lang) + ",\"language-direction\":\"ltr\"},\n" + body + "\n});\n";
}

export function buildTranslations(poDir, outDir) {
    const written = [];
    for (const f of fs.readdirSync(poDir).filter(f => f.endsWith(".po")).sort()) {
        const lang = f.replace(/\.po$/, "");
        const js = poToJs(fs.readFileSync(path.join(poDir, f), "utf8"), lang);
        const dest = path.join(outDir, `po.${lang}.js`);
        fs.writeFileSync(dest, js);
        written.push(dest);
    }
    return written;
}

// -- extracting strings -----------------------------------------------------------

const CALL = /(?<![\w.])(?:_|N_|cockpit\.gettext)\(\s*("(?:[^"\\]|\\.)*")\s*\)/g;

export function extract(srcDir, extra) {
    const found = new Map();
    const add = (msgid, ref) => {
        if (!found.has(msgid))
            found.set(msgid, []);
        found.get(msgid).push(ref);
    };
    for (const f of fs.readdirSync(srcDir).filter(f => /\.(js|jsx)$/.test(f)).sort()) {
        const text = fs.readFileSync(path.join(srcDir, f), "utf8");
        for (const m of text.matchAll(CALL)) {
            const line = text.slice(0, m.index).split("\n").length;
            add(JSON.parse(m[1]), `src/${f}:${line}`);
        }
    }
    for (const [msgid, ref] of extra || [])
        add(msgid, ref);
    return found;
}

// The helper's sentences by id (helper/src/core/text.h): every
// Text("id", "template") of HELPER_SRC (its .cpp and .h files), as xgettext
// finds them, the id being the message context.  A Map "id\u0004template" ->
// [refs], in the order of the sources.
export function extractHelper(helperSrc) {
    const files = [];
    const walk = (dir) => {
        for (const f of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
            const p = path.join(dir, f.name);
            if (f.isDirectory())
                walk(p);
            else if (/\.(cpp|h)$/.test(f.name))
                files.push(path.relative(path.dirname(helperSrc), p));
        }
    };
    walk(helperSrc);
    const out = execFileSync("xgettext", ["--language=C++", "--from-code=UTF-8", "--keyword=", "--keyword=Text:1c,2",
        "--no-wrap", "--omit-header", "-o", "-", ...files], { cwd: path.dirname(helperSrc), encoding: "utf8" });
    const found = new Map();
    for (const e of parsePo(out)) {
        if (!e.msgctxt)
            continue;
        const key = e.msgctxt + "\u0004" + e.msgid;
        const refs = e.refs.join(" ").split(/\s+/).filter(Boolean).map(r => "helper/src/" + r.replace(/^src\//, ""));
        found.set(key, [...(found.get(key) || []), ...refs]);
    }
    return found;
}

function poString(s) {
    return JSON.stringify(s).replace(/\\u0004/g, "\\004");
}

export function writePot(found, dest, helper) {
    let out = "# Strings of the NS8 Migration page for Cockpit.\n" +
        "msgid \"\"\nmsgstr \"\"\n\"Project-Id-Version: ns8-migration\\n\"\n" +
        "\"MIME-Version: 1.0\\n\"\n\"Content-Type: text/plain; charset=UTF-8\\n\"\n" +
        "\"Content-Transfer-Encoding: 8bit\\n\"\n\"Plural-Forms: nplurals=2; plural=(n != 1);\\n\"\n";
    for (const [msgid, refs] of found) {
        out += "\n#: " + refs.join(" ") + "\n";
        if (/\$\d/.test(msgid))
            out += "#, javascript-format\n";
        out += "msgid " + poString(msgid) + "\nmsgstr \"\"\n";
    }
    // The helper's sentences: the id is the context, the template the msgid.
    for (const [key, refs] of helper || []) {
        const [ctxt, msgid] = key.split("\u0004");
        out += "\n#: " + refs.join(" ") + "\n";
        if (/%[1-9]/.test(msgid))
            out += "#, qt-format\n";
        out += "msgctxt " + poString(ctxt) + "\nmsgid " + poString(msgid) + "\nmsgstr \"\"\n";
    }
    fs.writeFileSync(dest, out);
}

// The helper's sentences in the catalog POT: [[id, template]...] (the
// entries with a context).
export function helperTemplates(pot) {
    return parsePo(fs.readFileSync(pot, "utf8")).filter(e => e.msgctxt).map(e => [e.msgctxt, e.msgid]);
}
