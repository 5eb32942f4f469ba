import React, { useState } from "react";
import {
    Alert, Button, Card, CardBody, CardHeader, CardTitle, DescriptionList, DescriptionListDescription,
    DescriptionListGroup, DescriptionListTerm, Progress, ProgressMeasureLocation, ProgressVariant, Spinner,
    Stack, StackItem,
} from "@patternfly/react-core";
import cockpit, { _ } from "./cockpit.js";
import { formatBytes, formatDuration, formatRate, formatTime, timeLeft, usToMs } from "./format.js";
import { useNow } from "./hooks.js";
import { shortName } from "./errors.js";
import { helperMessage, jobMessage, stepTitle } from "./texts.js";
import { CheckCircleIcon, ExclamationCircleIcon, OutlinedCircleIcon } from "@patternfly/react-icons";

export function operationTitle(op) {
    switch (op) {
    case "scan": return _("Scan");
    case "connect": return _("Connection to the NS8 cluster");
    case "disconnect": return _("Disconnection from the NS8 cluster");
    case "start": return _("Start migration");
    case "sync": return _("Data synchronization");
    case "finish": return _("Finish migration");
    case "abort": return _("Abort migration");
    default: return op;
    }
}

// StepTimes as {id: {began, ended}} in ms (0 when not yet).
function stepTimes(job) {
    const out = {};
    for (const [id, began, ended] of job.StepTimes || [])
        out[id] = { began: usToMs(began), ended: usToMs(ended) };
    return out;
}

function StepIcon({ state }) {
    switch (state) {
    case "done": return <CheckCircleIcon className="ns8m-step-icon ns8m-icon-done" aria-label={_("Done")} />;
    case "running": return <Spinner size="sm" className="ns8m-step-icon" aria-label={_("Running")} />;
    case "failed": return <ExclamationCircleIcon className="ns8m-step-icon ns8m-icon-failed" aria-label={_("Failed")} />;
    default: return <OutlinedCircleIcon className="ns8m-step-icon ns8m-icon-pending" aria-label={_("Not started")} />;
    }
}

// The steps as a list: an icon for each one's state, its duration when it
// ran, and a bar only for the one running now.
function StepList({ job, app, now }) {
    const times = stepTimes(job);
    const failedStep = job.Finished && !job.Success
        ? (job.Steps || []).find(([id, , value]) => times[id] && times[id].began && value < 1) : null;
    return (
        <ul className="ns8m-steps" data-test="job-steps">
            {(job.Steps || []).map(step => {
                const [id, , value] = step;
                const title = stepTitle(job, step, app);
                const pct = Math.round((value || 0) * 100);
                const isCurrent = id === job.CurrentStep && !job.Finished;
                const t = times[id] || { began: 0, ended: 0 };
                let state = isCurrent ? "running" : value >= 1 || t.ended ? "done" : "pending";
                if (failedStep && failedStep[0] === id)
                    state = "failed";
                const seconds = t.began ? ((t.ended || (isCurrent ? now : t.began)) - t.began) / 1000 : null;
                return (
                    <li key={id} className={"ns8m-step ns8m-step-" + state} data-test="job-step" data-step={id}
                        data-value={pct} data-state={state} data-current={isCurrent ? "true" : "false"}>
                        <StepIcon state={state} />
                        <span className="ns8m-step-title" data-test="job-step-title">{title}</span>
                        {seconds !== null && (state !== "pending") && (
                            <span className="ns8m-step-duration" data-test="job-step-duration">{formatDuration(seconds)}</span>
                        )}
                        {isCurrent && value > 0 && value < 1 && (
                            <Progress value={pct} size="sm" measureLocation={ProgressMeasureLocation.outside}
                                      className="ns8m-step-bar" aria-label={title} />
                        )}
                    </li>
                );
            })}
        </ul>
    );
}

// The overall bar's label: percent, rate and time left while it runs.
function overallLabel(job, overall, left) {
    const parts = [overall + "%"];
    if (!job.Finished && job.Rate > 0)
        parts.push(formatRate(job.Rate));
    if (left !== null)
        parts.push(cockpit.format(_("$0 left"), formatDuration(left)));
    return <span data-test="job-overall-label">{parts.join(" · ")}</span>;
}

// The Execution screen: one overall bar with the rate and the time left,
// the steps as a list (state, duration, a bar for the running one), the
// bytes moved; Cancel where the job allows it.
export function JobPanel({ helper, job, onError, compact, app }) {
    const now = useNow(job && !job.Finished);
    const [canceling, setCanceling] = useState(false);
    if (!job)
        return null;
    const steps = job.Steps || [];
    const left = timeLeft(job, now);
    const elapsed = job.StartTime ? (now - usToMs(job.StartTime)) / 1000 : null;
    const overall = job.ProgressValid ? Math.round((job.Progress || 0) * 100) : null;
    const cancel = () => {
        setCanceling(true);
        helper.cancel(job.path)
                .catch(ex => onError && onError(helperMessage(ex.message)))
                .finally(() => setCanceling(false));
    };

    return (
        <Card isFlat className="ns8m-job" data-test="job" data-job={job.path} data-operation={job.Operation}
              data-finished={job.Finished ? "true" : "false"}>
            <CardHeader actions={{
                actions: !job.Finished && job.Cancelable
                    ? <Button variant="secondary" onClick={cancel} isLoading={canceling} isDisabled={canceling}
                              data-test="job-cancel">{_("Cancel")}</Button>
                    : null,
                hasNoOffset: true,
            }}>
                <CardTitle component="h3">
                    {!job.Finished && <Spinner size="md" aria-hidden="true" className="ns8m-inline-spinner" />}
                    {operationTitle(job.Operation)}
                </CardTitle>
            </CardHeader>
            <CardBody>
                <Stack hasGutter>
                    {job.Finished && (
                        <StackItem>
                            <Alert isInline variant={job.Success ? "success" : shortName(job.ErrorName) === "Canceled" ? "info" : "danger"}
                                   title={job.Success ? _("Completed") : shortName(job.ErrorName) === "Canceled" ? _("Canceled") : _("Failed")}
                                   data-test="job-outcome">
                                {jobMessage(job)}
                            </Alert>
                        </StackItem>
                    )}
                    {!compact && overall !== null && (
                        <StackItem>
                            <Progress value={overall} title={_("Overall")} measureLocation={ProgressMeasureLocation.outside}
                                      label={overallLabel(job, overall, left)}
                                      variant={job.Finished ? (job.Success ? ProgressVariant.success : ProgressVariant.danger) : undefined}
                                      aria-label={_("Overall progress")} data-test="job-overall" data-value={overall} />
                        </StackItem>
                    )}
                    {!(compact && job.Finished) && steps.length > 0 && (
                        <StackItem><StepList job={job} app={app} now={now} /></StackItem>
                    )}
                    {!(compact && job.Finished) && (
                        <StackItem>
                            <DescriptionList isCompact isHorizontal isAutoFit columnModifier={{ default: "2Col" }}>
                                {(job.Bytes > 0 || job.BytesTotal > 0) && (
                                    <DescriptionListGroup>
                                        <DescriptionListTerm>{_("Transferred")}</DescriptionListTerm>
                                        <DescriptionListDescription data-test="job-bytes" data-bytes={job.Bytes}>
                                            {job.BytesTotal
                                                ? cockpit.format(_("$0 of $1"), formatBytes(job.Bytes), formatBytes(job.BytesTotal))
                                                : formatBytes(job.Bytes)}
                                        </DescriptionListDescription>
                                    </DescriptionListGroup>
                                )}
                                {job.StartTime > 0 && (
                                    <DescriptionListGroup>
                                        <DescriptionListTerm>{_("Started")}</DescriptionListTerm>
                                        <DescriptionListDescription>
                                            {formatTime(job.StartTime, cockpit.language)}
                                            {!job.Finished && elapsed !== null && " (" + formatDuration(elapsed) + ")"}
                                        </DescriptionListDescription>
                                    </DescriptionListGroup>
                                )}
                            </DescriptionList>
                        </StackItem>
                    )}
                    {!job.Finished && (
                        <StackItem>
                            <Alert isInline isPlain variant="info"
                                   title={_("You can close this page: the migration service goes on, and the page shows this job again when you come back.")} />
                        </StackItem>
                    )}
                </Stack>
            </CardBody>
        </Card>
    );
}
