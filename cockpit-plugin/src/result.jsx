import React, { useEffect, useState } from "react";
import {
    Alert, Button, CodeBlock, CodeBlockCode, ExpandableSection, List, ListItem, Stack, StackItem, Title,
} from "@patternfly/react-core";
import cockpit, { _ } from "./cockpit.js";
import { SimpleTable } from "./table.jsx";
import { APP, unvariant } from "./helper.js";
import { appFields, fieldTitle } from "./fields.jsx";
import { appName, appText, appTextLines, helperMessage, noticeText } from "./texts.js";
import { formatTime, verificationView } from "./format.js";

// The links to the app on NS8: one per field whose profile text
// `result.link.<field id>` names it; when the profile names none, one per
// FQDN field, under the field's title.
function resultLinks(app) {
    const settings = unvariant(app.Settings || {});
    const fields = appFields(app).filter(f => typeof settings[f.id] === "string" && settings[f.id]);
    const named = fields.filter(f => appText(app, "result.link." + f.id));
    const shown = named.length ? named : fields.filter(f => f.kind === "fqdn");
    return shown.map(f => [settings[f.id], appText(app, "result.link." + f.id, fieldTitle(f))]);
}

// Which of the app's names each DNS record serves: the FQDN fields whose
// value (an empty one with a default_field: that field's) is the record's
// name, by their link label or title.  "" for every record of a helper
// whose Settings do not say.
export function recordUses(app, records) {
    const settings = unvariant(app.Settings || {});
    const fields = appFields(app).filter(f => f.kind === "fqdn");
    const valueOf = f => settings[f.id] || (f.default_field ? settings[f.default_field] : "") || "";
    return records.map(([name]) => fields.filter(f => valueOf(f) === name)
            .map(f => appText(app, "result.link." + f.id, fieldTitle(f))).join(", "));
}

// What a row of App.Verification says, in the page's words (the helper's
// detail, in English, is the row's tooltip).
function verificationOutcome(what, outcome) {
    const words = {
        files: { matched: _("The same on NS8"), differs: _("Differs on NS8"), missing: _("Missing on NS8") },
        table: {
            matched: _("Unchanged since the dump"),
            differs: _("Written after the stop: the dump may not hold the change"),
            missing: _("Dropped after the dump"),
        },
        dumps: { matched: _("On NS8 with the same size"), differs: _("Another size on NS8"), missing: _("Missing on NS8") },
    };
    return (words[what] || words.files)[outcome] || outcome;
}

function verificationKind(what) {
    return { files: _("Files"), table: _("Table"), dumps: _("Dump file") }[what] || what;
}

// The verification Finish ran before it ended the transfer: what was
// compared, what matched, every difference by name.
export function VerificationSection({ app }) {
    const rows = app.Verification || [];
    const view = verificationView(rows);
    if (view.empty)
        return null;
    const { files, table, dumps } = view.kinds;
    const verificationTable = (list, testId) => (
        <SimpleTable label={_("Verification")} testId={testId} columns={[_("What"), _("Name"), _("Outcome")]}
                     rows={list.map(([what, name, outcome, detail]) => [
                         verificationKind(what), <code key="n">{name}</code>,
                         <span key="o" title={detail} data-outcome={outcome}>{verificationOutcome(what, outcome)}</span>])} />
    );
    const when = app.VerificationTime ? formatTime(app.VerificationTime) : "";
    return (
        <StackItem data-test="result-verification">
            <Title headingLevel="h3">{_("What the migration verified")}</Title>
            <p>
                {_("Before ending the transfer, with the NS7 services stopped, the migration compared NS7 with what NS8 received:")}
                {when && " "}{when && <span data-test="verification-time">({when})</span>}
            </p>
            <List>
                <ListItem data-test="verified-files">{cockpit.format(_("Files: $0 of $1 checks matched (sizes and modification times; contents of small transfers or of files chosen at random)."), files.matched, files.compared)}</ListItem>
                <ListItem data-test="verified-tables">{cockpit.format(_("Database tables: $0 of $1 unchanged since the dump (row counts and content)."), table.matched, table.compared)}</ListItem>
                <ListItem data-test="verified-dumps">{cockpit.format(_("Dump files: $0 of $1 on NS8 with the same size."), dumps.matched, dumps.compared)}</ListItem>
            </List>
            {view.differences.length === 0
                ? <Alert isInline isPlain variant="success" title={_("Everything matched.")} data-test="verification-matched" />
                : <>
                    <Alert isInline variant="warning" data-test="verification-differences"
                           title={cockpit.format(_("$0 differences: check them on NS8 before updating the DNS."), view.differences.length)} />
                    {verificationTable(view.differences.map(d => [d.what, d.name, d.outcome, d.detail]), "verification-differences-table")}
                </>}
            <ExpandableSection toggleText={_("Everything that was compared")} data-test="verification-all">
                {verificationTable(rows, "verification-table")}
            </ExpandableSection>
        </StackItem>
    );
}

function dnsOutcome(outcome) {
    return { ok: _("Points to the NS8 node"), elsewhere: _("Points elsewhere"), unresolved: _("Does not resolve yet") }[outcome] || outcome;
}

// The guide's last check, from NS7: does each new name resolve to the NS8
// node yet?  Run when the Result screen shows and again on demand.
function DnsCheck({ helper, app }) {
    const [rows, setRows] = useState(null);
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState(null);
    const [when, setWhen] = useState(null);
    const run = () => {
        setBusy(true);
        setError(null);
        helper.checkDns(app)
                .then(r => { setRows(r); setWhen(new Date()); })
                .catch(ex => setError(helperMessage(ex.message)))
                .finally(() => setBusy(false));
    };
    useEffect(run, [app.path]); // eslint-disable-line react-hooks/exhaustive-deps
    const ok = rows && rows.length > 0 && rows.every(r => r[3] === "ok");
    return (
        <div data-test="dns-check">
            <Title headingLevel="h4">{_("Do the names point to NS8?")}</Title>
            {rows && (
                <SimpleTable label={_("DNS check")} testId="dns-check-table"
                             columns={[_("Name"), _("NS8 node"), _("Resolves to"), _("Outcome")]}
                             rows={rows.map(([name, expected, found, outcome]) => [
                                 name, expected, found || "–",
                                 <span key="o" data-outcome={outcome}>{dnsOutcome(outcome)}</span>])} />
            )}
            {ok && <Alert isInline isPlain variant="success" title={_("Every name points to the NS8 node.")} data-test="dns-check-ok" />}
            {error && <Alert isInline variant="danger" title={error} data-test="dns-check-error" />}
            <Button variant="secondary" onClick={run} isLoading={busy} isDisabled={busy} data-test="dns-check-run">
                {_("Check again")}
            </Button>
            {when && <span className="ns8m-dns-when"> {cockpit.format(_("Last checked at $0"), when.toLocaleTimeString(cockpit.language))}</span>}
        </div>
    );
}

// The Result screen, in the guide's order: check the app on NS8 first,
// then what its profile asks to do on NS8 (e.g. configure a companion
// module), and only then point the DNS at NS8.  Every sentence about the
// app comes from its profile (App.Texts), with generic ones when it has none.
export function ResultView({ helper, app, leader }) {
    const records = app.DnsRecords || [];
    const uses = recordUses(app, records);
    const showUses = uses.some(u => u);
    const notices = app.Notices || [];
    const hosts = resultLinks(app);
    const zone = records.map(([name, type, value]) => `${name}.\tIN\t${type}\t${value}`).join("\n");
    const companion = appText(app, "result.companion.title");
    const companionSteps = appTextLines(app, "result.companion.steps");
    const companionWarning = appText(app, "result.companion.warning");
    const letsEncrypt = appText(app, "result.letsencrypt");
    let n = 0;
    const heading = (title) => <Title headingLevel="h3">{cockpit.format(_("$0. $1"), ++n, title)}</Title>;

    return (
        <Stack hasGutter data-test="result">
            <StackItem>
                <Alert isInline variant="success" title={cockpit.format(_("$0 now runs on NS8"), appName(app))}>
                    {appText(app, "result.retired",
                             cockpit.format(_("$0 was stopped and disabled on NS7, which now shows a redirect page with links to the new addresses."), appName(app)))}
                </Alert>
            </StackItem>
            <VerificationSection app={app} />
            <StackItem>
                {heading(_("Verify the NS8 services"))}
                <List>
                    <ListItem>{cockpit.format(_("Check that $0 is running on NS8 and look at its logs for errors."), appName(app))}</ListItem>
                    {hosts.map(([host, what]) => (
                        <ListItem key={host}>
                            {what}: <a href={"https://" + host + "/"} target="_blank" rel="noopener noreferrer" data-test="result-link">{"https://" + host + "/"}</a>
                        </ListItem>
                    ))}
                    {leader && (
                        <ListItem>
                            {_("NS8 cluster administration (the app's logs and status, its companion modules)")}:{" "}
                            <a href={"https://" + leader + "/cluster-admin/"} target="_blank" rel="noopener noreferrer"
                               data-test="result-cluster-admin">{"https://" + leader + "/cluster-admin/"}</a>
                        </ListItem>
                    )}
                </List>
                <Alert isInline isPlain variant="warning" title={_("Do not update the DNS yet: first make sure that everything works.")} data-test="dns-not-yet" />
            </StackItem>
            {(companion || notices.length > 0) && (
                <StackItem data-test="result-companion">
                    {heading(companion || _("Read the notices"))}
                    {notices.map((x, i) => <Alert key={i} isInline variant="info" title={noticeText(app, x)} data-test="notice" />)}
                    {companionSteps.length > 0 && <List>{companionSteps.map((s, i) => <ListItem key={i}>{s}</ListItem>)}</List>}
                    {companionWarning && <Alert isInline isPlain variant="warning" title={companionWarning} data-test="companion-reminder" />}
                </StackItem>
            )}
            <StackItem>
                {heading(_("Update the DNS records"))}
                <p>{cockpit.format(_("Once $0 works on NS8, create or update these records so that the names point to the NS8 node:"), appName(app))}</p>
                {records.length > 0
                    ? <>
                        <SimpleTable label={_("DNS records")} testId="dns-records"
                                     columns={[_("Name"), _("Type"), _("Points to")].concat(showUses ? [_("For")] : [])}
                                     rows={records.map((r, i) => (showUses ? [...r, uses[i]] : r))} />
                        <CodeBlock className="ns8m-zone"><CodeBlockCode>{zone}</CodeBlockCode></CodeBlock>
                    </>
                    : <p>{cockpit.format(_("The A records of the $0 FQDNs must point to the NS8 node's IP address."), appName(app))}</p>}
                {helper && records.length > 0 && helper.hasMethod(APP, "CheckDns") && <DnsCheck helper={helper} app={app} />}
                <List>
                    <ListItem>{_("Internal DNS: usually immediate. Public DNS: it can take 24-48 hours; a low TTL speeds it up.")}</ListItem>
                    <ListItem>{_("Test the names from different places (internal network, external network) before switching NS7 off.")}</ListItem>
                </List>
            </StackItem>
            {letsEncrypt && (
                <StackItem data-test="result-letsencrypt">
                    {heading(_("Let's Encrypt certificate (optional)"))}
                    <p>{letsEncrypt}</p>
                </StackItem>
            )}
        </Stack>
    );
}
