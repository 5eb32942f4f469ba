// Serves a built page to Playwright without any server: requests under
// /cockpit/@localhost/ns8-migration/ come from dist/, ../base1/cockpit.js is
// the fake, po.js is po.<lang>.js as Cockpit picks it from Accept-Language.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const ORIGIN = "http://ns8m.test";
export const PAGE = ORIGIN + "/cockpit/@localhost/ns8-migration/index.html";

const TYPES = { ".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".json": "application/json", ".woff2": "font/woff2" };

export async function routeFake(context, distDir, lang) {
    await context.route(ORIGIN + "/**", route => {
        const url = new URL(route.request().url());
        const p = url.pathname;
        let file = null;
        let body = null;
        if (p.endsWith("/base1/cockpit.js"))
            file = path.join(here, "fake-cockpit.js");
        else if (p.endsWith("/base1/po.js"))
            body = "";
        else if (p === "/cockpit/@localhost/manifests.json")
            body = JSON.stringify({ "ns8-migration": JSON.parse(fs.readFileSync(path.join(distDir, "manifest.json"), "utf8")) });
        else if (p.endsWith("/ns8-migration/po.js"))
            file = lang && lang !== "en" ? path.join(distDir, `po.${lang}.js`) : null, body = file ? null : "";
        else if (p.startsWith("/cockpit/@localhost/ns8-migration/"))
            file = path.join(distDir, p.slice("/cockpit/@localhost/ns8-migration/".length));
        else if (p.startsWith("/cockpit/static/fonts/"))
            file = path.join("/usr/share/cockpit/static/fonts", path.basename(p));
        if (file && !fs.existsSync(file))
            return route.fulfill({ status: 404, body: "not found" });
        const type = TYPES[path.extname(file || p)] || "application/octet-stream";
        return route.fulfill({ status: 200, contentType: type, body: file ? fs.readFileSync(file) : body });
    });
}
