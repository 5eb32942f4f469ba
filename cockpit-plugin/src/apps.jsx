import React, { useState } from "react";
import {
    Alert, Button, Card, CardBody, CardHeader, CardTitle, Checkbox, DescriptionList, DescriptionListDescription,
    DescriptionListGroup, DescriptionListTerm, ExpandableSection, Flex, Form, FormGroup, FormSelect, FormSelectOption,
    List, ListItem, Modal, ModalVariant, Stack, StackItem, TextInput, Tooltip,
} from "@patternfly/react-core";
import cockpit, { _ } from "./cockpit.js";
import { APP, unvariant } from "./helper.js";
import { fieldOfError } from "./errors.js";
import { formatBytes, formatDuration, formatTime, parseHistory, usToSeconds } from "./format.js";
import { appFields, FieldInputs, initialValues, localProblems, useRemoteCheck } from "./fields.jsx";
import { JobPanel } from "./job.jsx";
import { SyncHistory } from "./history.jsx";
import { ExportPanel } from "./export.jsx";
import { ResultView } from "./result.jsx";
import { appName, appText, helperMessage, noticeText } from "./texts.js";
import { useNodes } from "./cluster.jsx";
import { PreflightReport, usePreflight, verdict } from "./preflight.jsx";
import { InventoryCard } from "./inventory.jsx";
import { statusLabel } from "./status.jsx";
import { SchedulePanel, ScheduledFinishPanel, whenFromInput } from "./schedule.jsx";

// Manager.Preflight's options for an app: its id, the node, its host names.
function preflightOptions(app, fields, values, node) {
    const o = { app: app.Id };
    if (node !== null && node !== undefined)
        o.node = Number(node);
    for (const f of fields)
        if (f.kind === "fqdn" && values[f.id])
            o[f.id] = values[f.id];
    return o;
}

function hasOwnJob(helper, app) {
    const job = helper.job(app.Job);
    return job && !job.Finished ? job : null;
}

// -- dialogs ----------------------------------------------------------------

function useFieldForm(helper, app, method, fields, initial, open) {
    const [values, setValues] = useState(initial);
    const [touched, setTouchedState] = useState({});
    const [serverErrors, setServerErrors] = useState({});
    const local = localProblems(fields, values);
    const remote = useRemoteCheck(helper, app, method, values, open);
    const problems = { ...remote, ...local, ...serverErrors };
    const setValue = (id, v) => {
        setValues(x => ({ ...x, [id]: v }));
        setServerErrors(e => { const n = { ...e }; delete n[id]; return n });
    };
    const setTouched = (id) => setTouchedState(t => ({ ...t, [id]: true }));
    return { values, setValue, touched, setTouched, problems, setServerErrors, hasProblems: Object.keys({ ...local, ...remote }).length > 0 };
}

function StartDialog({ helper, app, onClose, onStarted }) {
    const fields = appFields(app);
    const form = useFieldForm(helper, app, "Start", fields, initialValues(fields, app.Settings), true);
    const nodes = useNodes(helper, true);
    const choices = (nodes || []).filter(n => !n.ns7);
    const leader = choices.find(n => n.local) || choices[0];
    const [node, setNode] = useState(null);
    const [error, setError] = useState(null);
    const [busy, setBusy] = useState(false);
    const chosen = node !== null ? node : (leader ? leader.id : null);
    const preflight = usePreflight(helper, preflightOptions(app, fields, form.values, chosen), true);
    const [acceptPreflight, setAcceptPreflight] = useState(false);
    const pfWarnings = verdict(preflight.checks, "start").warnings.length > 0;

    const start = () => {
        const options = { ...form.values };
        if (choices.length > 1 && chosen !== null)
            options.node = Number(chosen);
        if (pfWarnings && acceptPreflight)
            options.accept_warnings = true;
        setBusy(true);
        setError(null);
        helper.appCall(app, "Start", options)
                .then(path => onStarted(path))
                .catch(ex => {
                    const f = fieldOfError(ex.message, fields.map(x => x.id));
                    if (f.field)
                        form.setServerErrors({ [f.field]: helperMessage(f.text) });
                    else
                        setError(helperMessage(ex.message));
                })
                .finally(() => setBusy(false));
    };

    return (
        <Modal variant={ModalVariant.medium} isOpen onClose={onClose} data-test="start-dialog"
               title={cockpit.format(_("Start the migration of $0"), appName(app))}
               actions={[
                   <Button key="start" variant="primary" onClick={start} isLoading={busy}
                           isDisabled={busy || form.hasProblems || (pfWarnings && !acceptPreflight)} data-test="start-confirm">{_("Start migration")}</Button>,
                   <Button key="cancel" variant="link" onClick={onClose}>{_("Cancel")}</Button>,
               ]}>
            <Stack hasGutter>
                <StackItem data-test="start-intro">
                    {appText(app, "start.intro",
                             cockpit.format(_("$0 is installed on the NS8 node and the first data synchronization starts. The first sync can take several hours, depending on the amount of data."), appName(app)))}
                </StackItem>
                <StackItem>
                    <Form onSubmit={e => { e.preventDefault(); if (!form.hasProblems) start() }}>
                        {choices.length > 1 && (
                            <FormGroup label={_("Destination node")} fieldId="ns8m-start-node" isRequired>
                                <FormSelect id="ns8m-start-node" value={String(chosen)} onChange={(_e, v) => setNode(Number(v))}
                                            aria-label={_("Destination node")}>
                                    {choices.map(n => (
                                        <FormSelectOption key={n.id} value={String(n.id)} isDisabled={!n.online}
                                                          label={cockpit.format(_("$0 — $1 free"),
                                                                                (n.ui_name || cockpit.format(_("Node $0"), n.id)) + (n.local ? " (" + _("leader") + ")" : ""),
                                                                                formatBytes(n.free_bytes))} />
                                    ))}
                                </FormSelect>
                            </FormGroup>
                        )}
                        <FieldInputs app={app} fields={fields} values={form.values} setValue={form.setValue} problems={form.problems}
                                     touched={form.touched} setTouched={form.setTouched} idPrefix="ns8m-start" />
                        {fields.some(f => f.kind === "fqdn") && (
                            <Alert isInline variant="warning" title={_("FQDN requirements")}>
                                <List>
                                    <ListItem>{_("Each FQDN must be unique and not currently in use.")}</ListItem>
                                    <ListItem>{_("You will have to update the DNS records after the migration.")}</ListItem>
                                    <ListItem>{_("They cannot easily be changed once the migration is complete.")}</ListItem>
                                </List>
                            </Alert>
                        )}
                        {appText(app, "start.companion") &&
                            <Alert isInline isPlain variant="info" title={appText(app, "start.companion")} data-test="start-companion" />}
                        <PreflightReport preflight={preflight} operation="start" guide={appText(app, "guide.url")} accepted={acceptPreflight}
                                         onAccept={setAcceptPreflight} />
                        {error && <Alert isInline variant="danger" title={error} data-test="dialog-error" />}
                    </Form>
                </StackItem>
            </Stack>
        </Modal>
    );
}

const CHECKLIST = [
    () => _("At least 3-4 data sync cycles done"),
    () => _("The last sync completed successfully, without errors"),
    () => _("Downtime window planned and communicated to the users"),
    () => _("DNS records ready to be updated"),
    () => _("Support team on standby"),
    () => _("Rollback plan documented"),
];

// The parts of App.EstimatedDowntimeParts, in Finish's order.
const DOWNTIME_PARTS = {
    stop: () => _("stopping the services"),
    walk: () => _("finding what changed"),
    sync: () => _("last sync"),
    dump: () => _("database dumps"),
    upload: () => _("sending the dumps"),
    verify: () => _("verification"),
    import: () => _("restore on NS8"),
};

// "stopping the services 1 s, finding what changed 5 s, ..." (a part under
// half a second shows as "< 1 s").
function downtimeParts(app) {
    return (app.EstimatedDowntimeParts || []).map(([id, us]) => {
        const label = DOWNTIME_PARTS[id] ? DOWNTIME_PARTS[id]() : id;
        const seconds = usToSeconds(us);
        return label + " " + (seconds < 0.5 ? "< 1 s" : formatDuration(seconds));
    }).join(", ");
}

export function downtimeText(app) {
    if (app.EstimatedDowntime) {
        const total = formatDuration(usToSeconds(app.EstimatedDowntime));
        const parts = downtimeParts(app);
        return parts
            ? cockpit.format(_("about $0, estimated from the last syncs: $1"), total, parts)
            : cockpit.format(_("about $0, estimated from the last sync"), total);
    }
    if (app.LastSyncDuration)
        return cockpit.format(_("at least $0 (the duration of the last sync) plus the time to start $1 on NS8"),
                              formatDuration(usToSeconds(app.LastSyncDuration)), appName(app));
    return _("unknown: sync the data first; plan 30 minutes to 2 hours");
}

function FinishDialog({ helper, app, onClose, onStarted }) {
    const fields = appFields(app);
    const form = useFieldForm(helper, app, "Finish", fields, initialValues(fields, app.Settings), true);
    const [checked, setChecked] = useState(CHECKLIST.map(() => false));
    const [understood, setUnderstood] = useState(false);
    const [acceptWarnings, setAcceptWarnings] = useState(false);
    const [error, setError] = useState(null);
    const [busy, setBusy] = useState(false);
    const history = parseHistory(app.SyncHistory);
    const lastWarnings = history.length ? history[history.length - 1].warnings : 0;
    const preflight = usePreflight(helper, preflightOptions(app, fields, form.values, null), true);
    const [acceptPreflight, setAcceptPreflight] = useState(false);
    const pfWarnings = verdict(preflight.checks, "finish").warnings.length > 0;
    // Later: Finish at a date and time, checked now as it would be now.
    const canSchedule = helper.hasMethod(APP, "ScheduleFinish");
    const [later, setLater] = useState(false);
    const [laterAt, setLaterAt] = useState("");
    const when = later ? whenFromInput(laterAt) : 0;
    const ready = checked.every(Boolean) && understood && !form.hasProblems && (!lastWarnings || acceptWarnings) &&
        (!pfWarnings || acceptPreflight) && (!later || when > 0);

    const finish = () => {
        const options = { ...form.values };
        if (lastWarnings)
            options.accept_warnings = acceptWarnings;
        if (pfWarnings && acceptPreflight && (!lastWarnings || acceptWarnings))
            options.accept_warnings = true;
        setBusy(true);
        setError(null);
        (later ? helper.scheduleFinish(app, when, options) : helper.appCall(app, "Finish", options))
                .then(path => onStarted(path))
                .catch(ex => {
                    const f = fieldOfError(ex.message, fields.map(x => x.id));
                    if (f.field)
                        form.setServerErrors({ [f.field]: helperMessage(f.text) });
                    else
                        setError(helperMessage(ex.message));
                })
                .finally(() => setBusy(false));
    };

    return (
        <Modal variant={ModalVariant.medium} isOpen onClose={onClose} data-test="finish-dialog" titleIconVariant="warning"
               title={cockpit.format(_("Finish the migration of $0"), appName(app))}
               actions={[
                   <Button key="finish" variant="danger" onClick={finish} isLoading={busy}
                           isDisabled={busy || !ready} data-test="finish-confirm">{later ? _("Schedule Finish") : _("Finish migration")}</Button>,
                   <Button key="cancel" variant="link" onClick={onClose}>{_("Cancel")}</Button>,
               ]}>
            <Stack hasGutter>
                <StackItem>
                    <Alert isInline variant="danger" title={_("This step cannot be undone")} data-test="irreversible">
                        {appText(app, "finish.intro",
                                 cockpit.format(_("A final sync copies the last changes, $0 is configured and started on NS8, then stopped and disabled on NS7. $0 is not available until the end."), appName(app)))}
                    </Alert>
                </StackItem>
                <StackItem data-test="downtime">
                    <strong>{_("Expected downtime:")}</strong> {downtimeText(app)}
                </StackItem>
                <StackItem>
                    <Form>
                        <FormGroup role="group" label={_("Pre-cutover checklist")} fieldId="ns8m-checklist" isStack>
                            {CHECKLIST.map((t, i) => (
                                <Checkbox key={i} id={"ns8m-check-" + i} label={t()} isChecked={checked[i]} data-test="checklist-item"
                                          onChange={(_e, v) => setChecked(c => c.map((x, j) => j === i ? v : x))} />
                            ))}
                        </FormGroup>
                        {lastWarnings > 0 && (
                            <Checkbox id="ns8m-accept-warnings" isChecked={acceptWarnings}
                                      label={cockpit.format(_("The last sync reported $0 warnings: finish anyway"), lastWarnings)}
                                      onChange={(_e, v) => setAcceptWarnings(v)} />
                        )}
                        {fields.length > 0 && (
                            <ExpandableSection toggleText={_("Change the host names")}>
                                <FieldInputs app={app} fields={fields} values={form.values} setValue={form.setValue} problems={form.problems}
                                             touched={form.touched} setTouched={form.setTouched} idPrefix="ns8m-finish" />
                            </ExpandableSection>
                        )}
                        <PreflightReport preflight={preflight} operation="finish" guide={appText(app, "guide.url")} accepted={acceptPreflight}
                                         onAccept={setAcceptPreflight} />
                        <Checkbox id="ns8m-understood" isChecked={understood} data-test="finish-understood"
                                  label={_("I understand that the migration cannot be undone")}
                                  onChange={(_e, v) => setUnderstood(v)} />
                        {canSchedule && (
                            <FormGroup fieldId="ns8m-finish-later" data-test="finish-later-group">
                                <Checkbox id="ns8m-finish-later" isChecked={later} data-test="finish-later"
                                          label={_("Schedule it for later: the prerequisites are checked again then, and a sync runs 10 minutes before")}
                                          onChange={(_e, v) => setLater(v)} />
                                {later && (
                                    <TextInput id="ns8m-finish-at" type="datetime-local" value={laterAt} onChange={(_e, v) => setLaterAt(v)}
                                               aria-label={_("Date and time of the Finish")} style={{ width: "16em" }}
                                               validated={when > 0 || !laterAt ? "default" : "error"} data-test="finish-at" />
                                )}
                            </FormGroup>
                        )}
                        {error && <Alert isInline variant="danger" title={error} data-test="dialog-error" />}
                    </Form>
                </StackItem>
            </Stack>
        </Modal>
    );
}

function AbortDialog({ helper, app, onClose, onStarted }) {
    const [error, setError] = useState(null);
    const [busy, setBusy] = useState(false);
    const abort = () => {
        setBusy(true);
        helper.appCall(app, "Abort", {})
                .then(path => onStarted(path))
                .catch(ex => setError(helperMessage(ex.message)))
                .finally(() => setBusy(false));
    };
    return (
        <Modal variant={ModalVariant.small} isOpen onClose={onClose} data-test="abort-dialog" titleIconVariant="warning"
               title={cockpit.format(_("Abort the migration of $0?"), appName(app))}
               actions={[
                   <Button key="abort" variant="danger" onClick={abort} isLoading={busy} isDisabled={busy}
                           data-test="abort-confirm">{_("Abort migration")}</Button>,
                   <Button key="cancel" variant="link" onClick={onClose}>{_("Cancel")}</Button>,
               ]}>
            <Stack hasGutter>
                <StackItem>
                    {appText(app, "abort.intro",
                             cockpit.format(_("This removes $0 from NS8, with all the data synchronized so far. Nothing on NS7 is touched: $0 keeps working there, and you can start the migration again."), appName(app)))}
                </StackItem>
                <StackItem>
                    <Alert isInline isPlain variant="warning" title={_("Abort only for persistent errors that cannot be solved otherwise.")} />
                </StackItem>
                {error && <StackItem><Alert isInline variant="danger" title={error} data-test="dialog-error" /></StackItem>}
            </Stack>
        </Modal>
    );
}

// -- one app ----------------------------------------------------------------

function AppDetails({ app }) {
    const settings = unvariant(app.Settings || {});
    // The host names given at Start: the values of the app's FQDN fields.
    const hosts = appFields(app).filter(f => f.kind === "fqdn").map(f => settings[f.id]).filter(Boolean);
    return (
        <DescriptionList isHorizontal isCompact columnModifier={{ default: "1Col", lg: "2Col" }} data-test="app-details">
            <DescriptionListGroup>
                <DescriptionListTerm>{_("Size")}</DescriptionListTerm>
                <DescriptionListDescription data-test="app-size">
                    {app.ScanTime
                        ? cockpit.format(_("$0 in $1 files, databases $2"), formatBytes(app.SourceBytes), app.SourceFiles, formatBytes(app.DatabaseBytes))
                        : _("Not measured yet")}
                </DescriptionListDescription>
            </DescriptionListGroup>
            {app.ScanTime > 0 && (
                <DescriptionListGroup>
                    <DescriptionListTerm>{_("Measured")}</DescriptionListTerm>
                    <DescriptionListDescription>{formatTime(app.ScanTime, cockpit.language)}</DescriptionListDescription>
                </DescriptionListGroup>
            )}
            {app.LastSyncTime > 0 && (
                <DescriptionListGroup>
                    <DescriptionListTerm>{_("Last sync")}</DescriptionListTerm>
                    <DescriptionListDescription data-test="app-last-sync">
                        {cockpit.format(_("$0: $1 in $2"), formatTime(app.LastSyncTime, cockpit.language),
                                        formatBytes(app.LastSyncBytes), formatDuration(usToSeconds(app.LastSyncDuration)))}
                    </DescriptionListDescription>
                </DescriptionListGroup>
            )}
            {app.Node > 0 && (
                <DescriptionListGroup>
                    <DescriptionListTerm>{_("NS8 node")}</DescriptionListTerm>
                    <DescriptionListDescription>
                        {app.ModuleId ? cockpit.format(_("node $0, $1"), app.Node, app.ModuleId) : String(app.Node)}
                    </DescriptionListDescription>
                </DescriptionListGroup>
            )}
            {hosts.length > 0 && (
                <DescriptionListGroup>
                    <DescriptionListTerm>{_("Host names")}</DescriptionListTerm>
                    <DescriptionListDescription data-test="app-hosts">{hosts.join(", ")}</DescriptionListDescription>
                </DescriptionListGroup>
            )}
        </DescriptionList>
    );
}

export function AppCard({ helper, app, connected }) {
    const [dialog, setDialog] = useState(null);
    const [error, setError] = useState(null);
    const [busy, setBusy] = useState(null);
    // Sync's bandwidth limit in KiB/s: empty for none (the guide suggests
    // syncing at quiet times; a limit keeps the line usable for the users).
    const [bwlimit, setBwlimit] = useState("");
    const bwValid = /^\d{0,9}$/.test(bwlimit.trim());
    const running = hasOwnJob(helper, app);
    const job = helper.job(app.Job);
    const has = (m) => helper.hasMethod(APP, m);
    const st = app.Status;
    const notConnected = connected ? null : _("Connect to an NS8 cluster first.");
    const jobRunning = running ? _("Wait for the running job to end.") : null;

    const simple = (what, call) => {
        setBusy(what);
        setError(null);
        call().catch(ex => setError(helperMessage(ex.message))).finally(() => setBusy(null));
    };
    const started = () => setDialog(null);

    // The actions each status allows; the ones the helper lacks are hidden.
    const actions = [];
    const add = (key, label, variant, onClick, reason) => {
        const b = (
            <Button key={key} variant={variant} onClick={onClick} isAriaDisabled={!!reason} isLoading={busy === key}
                    data-test={"app-" + key}>{label}</Button>
        );
        actions.push(reason ? <Tooltip key={key} content={reason}>{b}</Tooltip> : b);
    };
    if (has("Start") && (st === "not_migrated" || st === "failed"))
        add("start", _("Start migration"), "primary", () => setDialog("start"), notConnected || jobRunning);
    if (has("Sync") && (st === "migrating" || st === "syncing" || (st === "failed" && app.LastSyncTime > 0)))
        add("sync", _("Sync data"), "secondary",
            () => simple("sync", () => helper.appCall(app, "Sync", parseInt(bwlimit, 10) > 0 ? { bwlimit: parseInt(bwlimit, 10) } : {})),
            notConnected || jobRunning || (bwValid ? null : _("The bandwidth limit is a number of KiB/s, or empty for none.")));
    if (has("Finish") && (st === "migrating" || st === "syncing"))
        add("finish", _("Finish migration"), "secondary", () => setDialog("finish"),
            notConnected || jobRunning || (app.LastSyncTime ? null : _("Sync the data at least once first.")));
    if (has("Abort") && (st === "migrating" || st === "syncing" || st === "failed"))
        add("abort", _("Abort migration"), "link", () => setDialog("abort"), jobRunning);
    if (has("Skip") && st === "not_migrated")
        add("skip", _("Skip"), "link", () => simple("skip", () => helper.skip(app, true)), jobRunning);
    if (has("Skip") && st === "skipped")
        add("unskip", _("Do not skip"), "link", () => simple("unskip", () => helper.skip(app, false)), null);
    if (has("Scan") && st !== "migrated")
        add("scan", _("Measure"), "link", () => simple("scan", () => helper.appCall(app, "Scan", {})), jobRunning);

    return (
        <Card data-test="app" data-app={app.Id} className="ns8m-app">
            <CardHeader>
                <Flex alignItems={{ default: "alignItemsCenter" }} spaceItems={{ default: "spaceItemsMd" }}>
                    <CardTitle component="h2">{appName(app)}</CardTitle>
                    {statusLabel(st)}
                </Flex>
            </CardHeader>
            <CardBody>
                <Stack hasGutter>
                    <StackItem><AppDetails app={app} /></StackItem>
                    {st === "not_available" && (
                        <StackItem><Alert isInline isPlain variant="info" title={_("This app cannot be migrated to NS8 by this tool.")} /></StackItem>
                    )}
                    {actions.length > 0 && (
                        <StackItem>
                            <Flex spaceItems={{ default: "spaceItemsSm" }} flexWrap={{ default: "wrap" }}
                                  alignItems={{ default: "alignItemsCenter" }} data-test="app-actions">
                                {actions}
                                {has("Sync") && (st === "migrating" || st === "syncing") && (
                                    <Flex spaceItems={{ default: "spaceItemsXs" }} alignItems={{ default: "alignItemsCenter" }}>
                                        <label htmlFor={"bwlimit-" + app.Id}>{_("Sync bandwidth limit (KiB/s)")}</label>
                                        <TextInput id={"bwlimit-" + app.Id} type="text" inputMode="numeric" value={bwlimit}
                                                   onChange={(_ev, v) => setBwlimit(v)} placeholder={_("no limit")}
                                                   validated={bwValid ? "default" : "error"} style={{ width: "8em" }}
                                                   data-test="sync-bwlimit" />
                                    </Flex>
                                )}
                            </Flex>
                        </StackItem>
                    )}
                    {error && <StackItem><Alert isInline variant="danger" title={error} data-test="app-error" /></StackItem>}
                    {(app.Notices || []).length > 0 && st !== "migrated" && (
                        <StackItem>{app.Notices.map((n, i) => <Alert key={i} isInline isPlain variant="info" title={noticeText(app, n)} />)}</StackItem>
                    )}
                    {job && (job.Operation !== "scan" || !job.Finished) && (
                        <StackItem><JobPanel helper={helper} job={job} app={app} onError={setError} compact={job.Finished} /></StackItem>
                    )}
                    <ScheduledFinishPanel helper={helper} app={app} />
                    <SchedulePanel helper={helper} app={app} />
                    {st === "migrated" && <StackItem><ResultView helper={helper} app={app} leader={helper.manager && helper.manager.Leader} /></StackItem>}
                    <StackItem><SyncHistory app={app} /></StackItem>
                    <StackItem><ExportPanel helper={helper} app={app} /></StackItem>
                </Stack>
            </CardBody>
            {dialog === "start" && <StartDialog helper={helper} app={app} onClose={() => setDialog(null)} onStarted={started} />}
            {dialog === "finish" && <FinishDialog helper={helper} app={app} onClose={() => setDialog(null)} onStarted={started} />}
            {dialog === "abort" && <AbortDialog helper={helper} app={app} onClose={() => setDialog(null)} onStarted={started} />}
        </Card>
    );
}

export function AppsView({ helper, apps, connected }) {
    if (apps.length === 0) {
        return (
            <Stack hasGutter>
                <StackItem>
                    <Alert isInline variant="info" title={_("No application to migrate was found on this server.")}>
                        {_("Check that the applications to migrate are installed and running on NS7, then reload this page; the log of the migration tool may tell more.")}
                    </Alert>
                </StackItem>
                <StackItem><InventoryCard manager={helper.manager} /></StackItem>
            </Stack>
        );
    }
    return (
        <Stack hasGutter>
            {!connected && (
                <StackItem>
                    <Alert isInline variant="info" title={_("Connect this server to an NS8 cluster to migrate its applications.")} />
                </StackItem>
            )}
            {apps.map(app => <StackItem key={app.path}><AppCard helper={helper} app={app} connected={connected} /></StackItem>)}
            <StackItem><InventoryCard manager={helper.manager} /></StackItem>
        </Stack>
    );
}
