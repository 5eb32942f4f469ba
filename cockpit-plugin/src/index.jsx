import "@patternfly/patternfly/patternfly-base.css";
// Tables are plain HTML with PatternFly's classes (no react-table needed).
import "@patternfly/patternfly/components/Table/table.css";
import "./app.css";

import React from "react";
import { createRoot } from "react-dom/client";
import cockpit from "./cockpit.js";
import { HelperClient } from "./helper.js";
import { Application } from "./app.jsx";
import { DEFAULT_LOG } from "./logs.jsx";

// The log's location can be changed by an override manifest
// (/etc/cockpit/ns8-migration.override.json: {"config": {"log_file": ...}}).
function logPath() {
    return fetch("../manifests.json", { credentials: "same-origin" })
            .then(r => (r.ok ? r.json() : {}))
            .then(m => (m["ns8-migration"] && m["ns8-migration"].config && m["ns8-migration"].config.log_file) || DEFAULT_LOG)
            .catch(() => DEFAULT_LOG);
}

document.addEventListener("DOMContentLoaded", () => {
    document.documentElement.lang = cockpit.language || "en";
    document.title = cockpit.gettext("NS8 Migration");
    const helper = new HelperClient(cockpit).start();
    const root = createRoot(document.getElementById("app"));
    logPath().then(path => root.render(<Application helper={helper} logPath={path} />));
});
