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

function stepVariant(job, step, value) {
    if (job.Finished && !job.Success && (step === job.CurrentStep || (value > 0 && value < 1)))
        return ProgressVariant.danger;
    if (value >= 1)
        return ProgressVariant.success;
    return undefined;
}

// The Execution screen: one progress bar per step, the current step, the
// bytes moved, the rate and the time left; Cancel where the job allows it.
export function JobPanel({ helper, job, onError, compact, app }) {
    const now = useNow(job && !job.Finished);
    const [canceling, setCanceling] = useState(false);
    if (!job)
        return null;
    const steps = job.Steps || [];
    const current = steps.find(s => s[0] === job.CurrentStep);
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
                                      variant={job.Finished ? (job.Success ? ProgressVariant.success : ProgressVariant.danger) : undefined}
                                      aria-label={_("Overall progress")} data-test="job-overall" data-value={overall} />
                        </StackItem>
                    )}
                    {!(compact && job.Finished) && steps.map(step => {
                        const [id, , value] = step;
                        const title = stepTitle(job, step, app);
                        const pct = Math.round((value || 0) * 100);
                        const isCurrent = id === job.CurrentStep && !job.Finished;
                        return (
                            <StackItem key={id}>
                                <Progress value={pct} size="sm"
                                          title={isCurrent ? cockpit.format(_("$0 (running)"), title) : title}
                                          measureLocation={ProgressMeasureLocation.outside}
                                          variant={stepVariant(job, id, value)}
                                          className={isCurrent ? "ns8m-step-current" : "ns8m-step"}
                                          aria-label={title}
                                          data-test="job-step" data-step={id} data-value={pct}
                                          data-current={isCurrent ? "true" : "false"} />
                            </StackItem>
                        );
                    })}
                    {!(compact && job.Finished) && (
                        <StackItem>
                            <DescriptionList isCompact isHorizontal isAutoFit columnModifier={{ default: "2Col" }}>
                                {current && !job.Finished && (
                                    <DescriptionListGroup>
                                        <DescriptionListTerm>{_("Current step")}</DescriptionListTerm>
                                        <DescriptionListDescription data-test="job-current">{stepTitle(job, current, app)}</DescriptionListDescription>
                                    </DescriptionListGroup>
                                )}
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
                                {!job.Finished && job.Rate > 0 && (
                                    <DescriptionListGroup>
                                        <DescriptionListTerm>{_("Rate")}</DescriptionListTerm>
                                        <DescriptionListDescription data-test="job-rate">{formatRate(job.Rate)}</DescriptionListDescription>
                                    </DescriptionListGroup>
                                )}
                                {left !== null && (
                                    <DescriptionListGroup>
                                        <DescriptionListTerm>{_("Time left")}</DescriptionListTerm>
                                        <DescriptionListDescription data-test="job-left">{formatDuration(left)}</DescriptionListDescription>
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
