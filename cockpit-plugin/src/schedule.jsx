// Schedules (docs/api.md, "Schedules"): the Syncs the helper runs by itself
// (App.SetSchedule, App.Schedule) and a Finish at a set time
// (App.ScheduledFinish; scheduled from the Finish dialog, cancelled here).
import React, { useState } from "react";
import {
    Alert, Button, DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm,
    ExpandableSection, Flex, Form, FormGroup, FormSelect, FormSelectOption, Stack, StackItem, TextInput, Title,
} from "@patternfly/react-core";
import cockpit, { _ } from "./cockpit.js";
import { APP, unvariant } from "./helper.js";
import { formatTime } from "./format.js";
import { helperMessage, helperTexts } from "./texts.js";

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

// The form's values from App.Schedule (or the defaults: every hour).
function formOf(s) {
    const hours = s.kind === "interval" && s.interval % 60 === 0;
    return {
        kind: s.kind || "interval",
        interval: String(s.kind === "interval" ? (hours ? s.interval / 60 : s.interval) : 1),
        unit: s.kind === "interval" && !hours ? "minutes" : "hours",
        at: s.at || "02:00",
        quietFrom: s.quiet_from || "",
        quietTo: s.quiet_to || "",
        bwlimit: s.bwlimit ? String(s.bwlimit) : "",
    };
}

// SetSchedule's options from the form, or a sentence saying what is wrong.
export function scheduleOptions(f) {
    const o = { kind: f.kind };
    if (f.kind === "interval") {
        if (!/^\d{1,5}$/.test(f.interval.trim()) || Number(f.interval) < 1)
            return { problem: _("Give how often, as a whole number.") };
        o.interval = Number(f.interval);
        o.interval_unit = f.unit;
    } else if (!HHMM.test(f.at)) {
        return { problem: _("Give the time of day as HH:MM.") };
    } else {
        o.at = f.at;
    }
    if (f.quietFrom || f.quietTo) {
        if (!HHMM.test(f.quietFrom) || !HHMM.test(f.quietTo))
            return { problem: _("Give both ends of the quiet window as HH:MM, or neither.") };
        o.quiet_from = f.quietFrom;
        o.quiet_to = f.quietTo;
    }
    if (f.bwlimit.trim()) {
        if (!/^\d{1,9}$/.test(f.bwlimit.trim()))
            return { problem: _("The bandwidth limit is a number of KiB/s, or empty for none.") };
        o.bwlimit = Number(f.bwlimit);
    }
    return { options: o };
}

// What a schedule does, in a sentence.
export function scheduleSummary(s) {
    let what = s.kind === "daily"
        ? cockpit.format(_("Every day at $0"), s.at)
        : s.interval === 60
            ? _("Every hour")
            : s.interval === 1
                ? _("Every minute")
                : s.interval % 60 === 0
                    ? cockpit.format(_("Every $0 hours"), s.interval / 60)
                    : cockpit.format(_("Every $0 minutes"), s.interval);
    if (s.quiet_from)
        what += "; " + cockpit.format(_("none from $0 to $1"), s.quiet_from, s.quiet_to);
    if (s.bwlimit)
        what += "; " + cockpit.format(_("at most $0 KiB/s"), s.bwlimit);
    return what;
}

function outcomeText(outcome) {
    return {
        running: _("running"), succeeded: _("succeeded"), failed: _("failed"), canceled: _("canceled"), skipped: _("skipped"),
    }[outcome] || outcome;
}

function LastRun({ s }) {
    if (!s.last_run)
        return null;
    const when = formatTime(s.last_run, cockpit.language);
    const message = helperTexts(s.last_message_texts) || helperMessage(s.last_message || "");
    if (s.last_outcome === "failed")
        return <Alert isInline variant="danger" data-test="schedule-failed"
                      title={cockpit.format(_("The scheduled sync of $0 failed"), when)}>{message}</Alert>;
    if (s.last_outcome === "skipped")
        return <Alert isInline isPlain variant="warning" data-test="schedule-skipped"
                      title={cockpit.format(_("The scheduled sync of $0 was skipped"), when)}>{message}</Alert>;
    return <span data-test="schedule-last">{cockpit.format(_("Last run: $0, $1"), when, outcomeText(s.last_outcome))}</span>;
}

function ScheduleForm({ helper, app, schedule, onDone }) {
    const [f, setF] = useState(formOf(schedule));
    const [error, setError] = useState(null);
    const [busy, setBusy] = useState(false);
    const set = (k) => (_ev, v) => setF(x => ({ ...x, [k]: v }));
    const { options, problem } = scheduleOptions(f);
    const save = () => {
        setBusy(true);
        setError(null);
        helper.setSchedule(app, options)
                .then(onDone)
                .catch(ex => setError(helperMessage(ex.message)))
                .finally(() => setBusy(false));
    };
    const id = (k) => "ns8m-schedule-" + k;
    return (
        <Form data-test="schedule-form" onSubmit={e => e.preventDefault()}>
            <FormGroup label={_("Run")} fieldId={id("kind")}>
                <FormSelect id={id("kind")} value={f.kind} onChange={set("kind")} data-test="schedule-kind">
                    <FormSelectOption value="interval" label={_("At a fixed interval")} />
                    <FormSelectOption value="daily" label={_("Every day at a time")} />
                </FormSelect>
            </FormGroup>
            {f.kind === "interval"
                ? (
                    <FormGroup label={_("Every")} fieldId={id("interval")}>
                        <Flex spaceItems={{ default: "spaceItemsSm" }}>
                            <TextInput id={id("interval")} value={f.interval} onChange={set("interval")} inputMode="numeric"
                                       style={{ width: "6em" }} data-test="schedule-interval" />
                            <FormSelect id={id("unit")} value={f.unit} onChange={set("unit")} style={{ width: "10em" }}
                                        aria-label={_("Unit")} data-test="schedule-unit">
                                <FormSelectOption value="minutes" label={_("minutes")} />
                                <FormSelectOption value="hours" label={_("hours")} />
                            </FormSelect>
                        </Flex>
                    </FormGroup>
                )
                : (
                    <FormGroup label={_("At (this server's time)")} fieldId={id("at")}>
                        <TextInput id={id("at")} type="time" value={f.at} onChange={set("at")} style={{ width: "8em" }}
                                   data-test="schedule-at" />
                    </FormGroup>
                )}
            <FormGroup label={_("Quiet window: no sync starts between")} fieldId={id("quiet-from")}>
                <Flex spaceItems={{ default: "spaceItemsSm" }} alignItems={{ default: "alignItemsCenter" }}>
                    <TextInput id={id("quiet-from")} type="time" value={f.quietFrom} onChange={set("quietFrom")}
                               style={{ width: "8em" }} data-test="schedule-quiet-from" />
                    <span>{_("and")}</span>
                    <TextInput id={id("quiet-to")} type="time" value={f.quietTo} onChange={set("quietTo")}
                               aria-label={_("End of the quiet window")} style={{ width: "8em" }} data-test="schedule-quiet-to" />
                </Flex>
            </FormGroup>
            <FormGroup label={_("Bandwidth limit (KiB/s)")} fieldId={id("bwlimit")}>
                <TextInput id={id("bwlimit")} value={f.bwlimit} onChange={set("bwlimit")} placeholder={_("no limit")}
                           inputMode="numeric" style={{ width: "8em" }} data-test="schedule-bwlimit" />
            </FormGroup>
            {problem && <Alert isInline isPlain variant="warning" title={problem} data-test="schedule-problem" />}
            {error && <Alert isInline variant="danger" title={error} data-test="schedule-error" />}
            <Flex>
                <Button variant="primary" onClick={save} isLoading={busy} isDisabled={busy || !!problem}
                        data-test="schedule-save">{_("Save schedule")}</Button>
            </Flex>
        </Form>
    );
}

// The app's Sync schedule: what it is, the next run, the last run (a
// failed one in red, with the helper's sentence), and its form.
export function SchedulePanel({ helper, app }) {
    const [editing, setEditing] = useState(false);
    const [error, setError] = useState(null);
    if (!helper.hasMethod(APP, "SetSchedule"))
        return null;
    const s = unvariant(app.Schedule || {});
    const st = app.Status;
    const can = st === "migrating" || st === "syncing";
    if (!can && !s.kind)
        return null;
    const remove = () => {
        setError(null);
        helper.setSchedule(app, {}).catch(ex => setError(helperMessage(ex.message)));
    };
    return (
        <StackItem>
            <Stack hasGutter data-test="schedule" data-kind={s.kind || ""} data-outcome={s.last_outcome || ""}>
                <StackItem><Title headingLevel="h3">{_("Scheduled syncs")}</Title></StackItem>
                <StackItem>
                    {s.kind
                        ? (
                            <DescriptionList isHorizontal isCompact>
                                <DescriptionListGroup>
                                    <DescriptionListTerm>{_("Schedule")}</DescriptionListTerm>
                                    <DescriptionListDescription data-test="schedule-summary">{scheduleSummary(s)}</DescriptionListDescription>
                                </DescriptionListGroup>
                                {s.next_run > 0 && (
                                    <DescriptionListGroup>
                                        <DescriptionListTerm>{_("Next sync")}</DescriptionListTerm>
                                        <DescriptionListDescription data-test="schedule-next">{formatTime(s.next_run, cockpit.language)}</DescriptionListDescription>
                                    </DescriptionListGroup>
                                )}
                                <DescriptionListGroup>
                                    <DescriptionListTerm>{_("Runs")}</DescriptionListTerm>
                                    <DescriptionListDescription data-test="schedule-counts">
                                        {cockpit.format(_("$0 started, $1 failed, $2 skipped"), s.runs || 0, s.failures || 0, s.skipped || 0)}
                                    </DescriptionListDescription>
                                </DescriptionListGroup>
                            </DescriptionList>
                        )
                        : <span data-test="schedule-none">{_("No schedule: the data is synced only when you press Sync data.")}</span>}
                </StackItem>
                {s.kind && <StackItem><LastRun s={s} /></StackItem>}
                {error && <StackItem><Alert isInline variant="danger" title={error} data-test="schedule-error" /></StackItem>}
                {can && (
                    <StackItem>
                        <ExpandableSection toggleText={s.kind ? _("Change the schedule") : _("Sync on a schedule")}
                                           isExpanded={editing} onToggle={(_e, v) => setEditing(v)} data-test="schedule-edit">
                            <ScheduleForm helper={helper} app={app} schedule={s} onDone={() => setEditing(false)} />
                        </ExpandableSection>
                        {s.kind && (
                            <Button variant="link" isInline onClick={remove} data-test="schedule-remove">{_("Remove the schedule")}</Button>
                        )}
                    </StackItem>
                )}
            </Stack>
        </StackItem>
    );
}

function finishStateText(state) {
    return {
        scheduled: _("Scheduled"), presync: _("Syncing before the cutover"), started: _("Started"), succeeded: _("Done"),
        failed: _("Failed"), blocked: _("Did not start"), cancelled: _("Cancelled"),
    }[state] || state;
}

// The scheduled Finish: when, where it stands, why it did not start; Cancel
// until it starts.
export function ScheduledFinishPanel({ helper, app }) {
    const [error, setError] = useState(null);
    const [busy, setBusy] = useState(false);
    const f = unvariant(app.ScheduledFinish || {});
    if (!f.when || !helper.hasMethod(APP, "CancelScheduledFinish"))
        return null;
    const pending = f.state === "scheduled" || f.state === "presync";
    if (!pending && app.Status === "migrated" && f.state === "succeeded")
        return null;
    const when = formatTime(f.when, cockpit.language);
    const reason = helperTexts(f.reason_texts) || helperMessage(f.reason || "");
    const cancel = () => {
        setBusy(true);
        setError(null);
        helper.cancelScheduledFinish(app).catch(ex => setError(helperMessage(ex.message))).finally(() => setBusy(false));
    };
    const variant = { blocked: "warning", failed: "danger", cancelled: "info", started: "info", succeeded: "success" }[f.state] || "info";
    return (
        <StackItem>
            <Alert isInline variant={variant} data-test="scheduled-finish" data-state={f.state}
                   title={cockpit.format(_("Finish scheduled for $0: $1"), when, finishStateText(f.state))}>
                <Stack hasGutter>
                    {pending && (
                        <StackItem>
                            {f.presync_at > 0
                                ? cockpit.format(_("A sync runs at $0. At the scheduled time the prerequisites are checked again; the cutover does not start if anything blocks it."), formatTime(f.presync_at, cockpit.language))
                                : _("At the scheduled time the prerequisites are checked again; the cutover does not start if anything blocks it.")}
                        </StackItem>
                    )}
                    {reason && <StackItem data-test="scheduled-finish-reason">{reason}</StackItem>}
                    {error && <StackItem><Alert isInline variant="danger" title={error} /></StackItem>}
                    {pending && (
                        <StackItem>
                            <Button variant="secondary" onClick={cancel} isLoading={busy} isDisabled={busy}
                                    data-test="scheduled-finish-cancel">{_("Cancel the scheduled Finish")}</Button>
                        </StackItem>
                    )}
                </Stack>
            </Alert>
        </StackItem>
    );
}

// The Finish dialog's "later" choice: a local date and time from the
// datetime-local input, as µs since the epoch (0 when empty or past).
export function whenFromInput(text, nowMs = Date.now()) {
    const ms = text ? new Date(text).getTime() : NaN;
    return Number.isFinite(ms) && ms > nowMs ? ms * 1000 : 0;
}
