import React, { useEffect, useState } from "react";
import { Alert, Button, Checkbox, ExpandableSection, Flex, List, ListItem, Stack, StackItem } from "@patternfly/react-core";
import { _ } from "./cockpit.js";
import { formatBytes } from "./format.js";
import { APP } from "./helper.js";
import { appText, helperMessage } from "./texts.js";

// The tables an app's profile exports (its App.Texts export.<id>), in order.
export function exportTables(app) {
    return Object.keys((app && app.Texts) || {}).filter(id => id.startsWith("export.")).map(id => id.slice(7));
}

// A download link for each file the helper returned; the object URLs are
// released when the list changes or the panel goes.
function FileLinks({ files }) {
    const [links, setLinks] = useState([]);
    useEffect(() => {
        const made = Object.entries(files).map(([name, text]) => {
            const type = name.endsWith(".csv") ? "text/csv" : "application/json";
            const blob = new Blob([text], { type: type + ";charset=utf-8" });
            return { name, size: blob.size, url: URL.createObjectURL(blob) };
        });
        setLinks(made);
        return () => made.forEach(l => URL.revokeObjectURL(l.url));
    }, [files]);
    return (
        <List isPlain data-test="export-files">
            {links.map(l => (
                <ListItem key={l.name}>
                    <a href={l.url} download={l.name} data-test="export-file" data-name={l.name}>{l.name}</a>
                    {" (" + formatBytes(l.size) + ")"}
                </ListItem>
            ))}
        </List>
    );
}

// The PBX's documentation (the prerequisites' checklist) as NS7 holds it
// now: App.Export as JSON or CSV files to download, credentials only when
// asked for (the helper lets only who may migrate see them).
export function ExportPanel({ helper, app }) {
    const [expanded, setExpanded] = useState(false);
    const [secrets, setSecrets] = useState(false);
    const [busy, setBusy] = useState(null);
    const [files, setFiles] = useState(null);
    const [error, setError] = useState(null);
    const tables = exportTables(app);
    if (tables.length === 0 || !helper.hasMethod(APP, "Export"))
        return null;
    const run = (format) => {
        setBusy(format);
        setError(null);
        setFiles(null);
        helper.exportFiles(app, { format, secrets })
                .then(setFiles)
                .catch(ex => setError(helperMessage(ex.message)))
                .finally(() => setBusy(null));
    };
    return (
        <ExpandableSection toggleText={_("Documentation of the configuration")} isExpanded={expanded}
                           onToggle={(_ev, v) => setExpanded(v)} data-test="export">
            <Stack hasGutter>
                <StackItem>
                    {_("Keep a copy of the configuration as NS7 holds it now, to check NS8 against it after the migration:")}
                    {" " + tables.map(t => appText(app, "export." + t, t)).join(", ") + "."}
                </StackItem>
                <StackItem>
                    <Checkbox id={"export-secrets-" + app.Id} isChecked={secrets} onChange={(_ev, v) => setSecrets(v)}
                              label={_("Include the credentials (passwords and PINs)")}
                              description={_("Only administrators may include them. Keep such a file as safe as the server itself.")}
                              data-test="export-secrets" />
                </StackItem>
                <StackItem>
                    <Flex spaceItems={{ default: "spaceItemsSm" }}>
                        <Button variant="secondary" onClick={() => run("json")} isLoading={busy === "json"} isDisabled={!!busy}
                                data-test="export-json">{_("Export as JSON")}</Button>
                        <Button variant="secondary" onClick={() => run("csv")} isLoading={busy === "csv"} isDisabled={!!busy}
                                data-test="export-csv">{_("Export as CSV")}</Button>
                    </Flex>
                </StackItem>
                {error && <StackItem><Alert isInline variant="danger" title={error} data-test="export-error" /></StackItem>}
                {files && <StackItem><FileLinks files={files} /></StackItem>}
            </Stack>
        </ExpandableSection>
    );
}
