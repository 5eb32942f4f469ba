import React from "react";
import { Alert, Stack, StackItem, Title } from "@patternfly/react-core";
import cockpit, { _ } from "./cockpit.js";
import { SimpleTable } from "./table.jsx";
import { cutoverReadiness, formatBytes, formatDuration, formatTime, parseHistory, usToSeconds, READY_SYNCS } from "./format.js";

// Bytes moved per sync, one bar each: the guide's point is that every sync
// brings NS8 closer, so the bars should shrink.
export function SyncChart({ history }) {
    const n = history.length;
    const max = Math.max(1, ...history.map(h => h.bytes));
    const W = 600;
    const H = 160;
    const pad = 24;
    const slot = (W - pad) / Math.max(n, 1);
    const bar = Math.min(48, slot * 0.7);
    const desc = history.map((h, i) => cockpit.format(_("Sync $0: $1"), i + 1, formatBytes(h.bytes))).join("; ");
    return (
        <svg className="ns8m-chart" viewBox={`0 0 ${W} ${H + 34}`} role="img" aria-labelledby="ns8m-chart-title ns8m-chart-desc"
             data-test="sync-chart" preserveAspectRatio="xMinYMin meet">
            <title id="ns8m-chart-title">{_("Bytes transferred per sync")}</title>
            <desc id="ns8m-chart-desc">{desc}</desc>
            <line x1={pad} y1={H} x2={W} y2={H} className="ns8m-chart-axis" />
            {history.map((h, i) => {
                const height = Math.max(2, (h.bytes / max) * (H - 20));
                const x = pad + i * slot + (slot - bar) / 2;
                const last = i === n - 1;
                return (
                    <g key={i} data-test="sync-bar" data-bytes={h.bytes}>
                        <rect x={x} y={H - height} width={bar} height={height}
                              className={last ? "ns8m-chart-bar ns8m-chart-bar-last" : "ns8m-chart-bar"}>
                            <title>{cockpit.format(_("Sync $0: $1 in $2"), i + 1, formatBytes(h.bytes), formatDuration(usToSeconds(h.duration)))}</title>
                        </rect>
                        <text x={x + bar / 2} y={H - height - 4} textAnchor="middle" className="ns8m-chart-value">{formatBytes(h.bytes)}</text>
                        <text x={x + bar / 2} y={H + 16} textAnchor="middle" className="ns8m-chart-label">#{i + 1}</text>
                    </g>
                );
            })}
        </svg>
    );
}

export function Readiness({ history, estimatedDowntime }) {
    const r = cutoverReadiness(history, estimatedDowntime);
    if (r.state === "none")
        return null;
    const d = formatDuration(r.downtime);
    let variant = "info";
    let title;
    if (r.state === "ready") {
        variant = "success";
        title = cockpit.format(_("Finishing now should take about $0: the difference is small enough to finish the migration."), d);
    } else if (r.state === "warnings") {
        variant = "warning";
        title = _("The last sync reported warnings: check the log and sync again before finishing.");
    } else if (r.state === "more") {
        title = cockpit.format(_("Keep syncing: each sync brings NS8 closer to NS7. Aim for at least $1 syncs before finishing ($0 more)."),
                              r.missing, READY_SYNCS);
    } else {
        title = cockpit.format(_("Finishing now would take about $0: sync again, ideally at a quiet time, until the difference is smaller."), d);
    }
    return <Alert isInline variant={variant} title={title} data-test="readiness" data-state={r.state} />;
}

// The History screen: the chart and the table of every sync.
export function SyncHistory({ app }) {
    const history = parseHistory(app.SyncHistory);
    if (history.length === 0)
        return null;
    return (
        <Stack hasGutter className="ns8m-history" data-test="history">
            <StackItem><Title headingLevel="h3">{_("Sync history")}</Title></StackItem>
            <StackItem><Readiness history={history} estimatedDowntime={app.EstimatedDowntime} /></StackItem>
            <StackItem><SyncChart history={history} /></StackItem>
            <StackItem>
                <SimpleTable label={_("Sync history")} testId="history-table"
                             columns={["#", _("Date"), _("Transferred"), _("Files"), _("Duration"), _("Warnings")]}
                             rows={history.map((h, i) => [i + 1, formatTime(h.time, cockpit.language), formatBytes(h.bytes),
                                 h.files, formatDuration(usToSeconds(h.duration)), h.warnings])} />
            </StackItem>
        </Stack>
    );
}
