#!/usr/bin/env node
// Builds the page into dist/ (or --outdir): index.js and index.css bundled
// by esbuild, index.html, manifest.json (its search keywords completed
// with the apps of ../apps/*.yaml), po.<lang>.js, and NethServer 7's
// Applications entry: icon.svg and ns7-application.json (ns7/ns8-migration.json
// with the release of ../VERSION; installed as
// share/cockpit/nethserver/applications/ns8-migration.json).  --pot refreshes
// po/ns8-migration.pot from the sources (the page's src/ and the helper's
// sentences by id in ../helper/src, with xgettext).  --watch rebuilds on changes.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import esbuild from "esbuild";
import { buildTranslations, extract, extractHelper, helperTemplates, writePot } from "./po.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : null;
};
const outdir = path.resolve(arg("--outdir") || path.join(here, "dist"));
const production = !args.includes("--dev");

if (args.includes("--pot")) {
    const manifest = JSON.parse(fs.readFileSync(path.join(here, "src/manifest.json"), "utf8"));
    const found = extract(path.join(here, "src"), [[manifest.menu.index.label, "src/manifest.json"]]);
    const helper = extractHelper(path.join(here, "..", "helper", "src"));
    writePot(found, path.join(here, "po/ns8-migration.pot"), helper);
    console.log(`po/ns8-migration.pot: ${found.size} strings of the page, ${helper.size} of the helper`);
    process.exit(0);
}

// PatternFly's Red Hat fonts are the ones Cockpit already serves from
// static/fonts.  Its icon fonts are only used through CSS classes this page
// does not use (the icons are SVG): they stay out of the bundle.
const cockpitFonts = {
    name: "cockpit-fonts",
    setup(build) {
        build.onResolve({ filter: /assets\/fonts\/RedHat/ }, a => ({
            path: "../../static/fonts/" + path.basename(a.path).replace(/VF(-Italic)?\.woff2$/, "-Regular.woff2"),
            external: true,
        }));
        build.onResolve({ filter: /assets\/(pficon|fonts\/webfonts)\// }, a => ({ path: a.path, external: true }));
    },
};

// The ids and names of the app profiles (../apps/*.yaml, their top-level
// `id:` and `name:`), lower-case: Cockpit's menu search finds the page by
// them.  The page's code names no app; only the built manifest does.
function appKeywords(appsDir) {
    if (!fs.existsSync(appsDir))
        return [];
    const words = [];
    for (const f of fs.readdirSync(appsDir).filter(f => f.endsWith(".yaml")).sort()) {
        const text = fs.readFileSync(path.join(appsDir, f), "utf8");
        for (const m of text.matchAll(/^(?:id|name):[ \t]*["']?([^"'#\n]*?)["']?[ \t]*(?:#.*)?$/gm))
            if (m[1])
                words.push(m[1].toLowerCase());
    }
    return [...new Set(words)];
}

// NethServer 7 lists an application from share/cockpit/nethserver/applications/<id>.json
// and shows its icon from share/cockpit/<id>/: the page's own folder.  Its
// Applications table shows release.version, so the entry gets the project's.
function ns7Application() {
    const app = JSON.parse(fs.readFileSync(path.join(here, "ns7", "ns8-migration.json"), "utf8"));
    const version = fs.readFileSync(path.join(here, "..", "VERSION"), "utf8").split("\n")[0].trim();
    if (!/^[0-9]+(\.[0-9]+)*$/.test(version))
        throw new Error(`../VERSION does not hold a version: ${JSON.stringify(version)}`);
    return { ...app, release: { version } };
}

const copyStatic = {
    name: "copy-static",
    setup(build) {
        build.onEnd(result => {
            if (result.errors.length)
                return;
            fs.copyFileSync(path.join(here, "src/index.html"), path.join(outdir, "index.html"));
            const manifest = JSON.parse(fs.readFileSync(path.join(here, "src/manifest.json"), "utf8"));
            delete manifest.name;
            const keywords = manifest.menu.index.keywords[0];
            keywords.matches = [...new Set([...keywords.matches, ...appKeywords(path.join(here, "..", "apps"))])];
            fs.writeFileSync(path.join(outdir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
            buildTranslations(path.join(here, "po"), outdir);
            fs.copyFileSync(path.join(here, "ns7", "icon.svg"), path.join(outdir, "icon.svg"));
            fs.writeFileSync(path.join(outdir, "ns7-application.json"), JSON.stringify(ns7Application(), null, 4) + "\n");
        });
    },
};

// Start from an empty folder so that nothing stale gets installed; only a
// folder this script made (it holds our manifest) is ever emptied.
if (fs.existsSync(path.join(outdir, "manifest.json")) && fs.existsSync(path.join(outdir, "index.html")))
    fs.rmSync(outdir, { recursive: true, force: true });
fs.mkdirSync(outdir, { recursive: true });
const options = {
    entryPoints: [path.join(here, "src/index.jsx")],
    outdir,
    bundle: true,
    minify: production,
    sourcemap: production ? false : "inline",
    target: ["es2020"],
    loader: { ".js": "jsx" },
    jsx: "automatic",
    define: {
        "process.env.NODE_ENV": JSON.stringify(production ? "production" : "development"),
        // The helper's (id, template) pairs, for its D-Bus errors (src/texts.js).
        NS8M_HELPER_TEMPLATES: JSON.stringify(helperTemplates(path.join(here, "po/ns8-migration.pot"))),
    },
    legalComments: "eof",
    logLevel: "warning",
    plugins: [cockpitFonts, copyStatic],
};

if (args.includes("--watch")) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
    console.log("watching", outdir);
} else {
    await esbuild.build(options);
    console.log("built", outdir);
}
