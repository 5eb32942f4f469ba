import React, { useEffect, useState } from "react";
import {
    Alert, Bullseye, EmptyState, EmptyStateBody, EmptyStateHeader, EmptyStateIcon, Page, PageSection,
    ProgressStep, ProgressStepper, Spinner, Stack, StackItem, Tab, Tabs, TabTitleText, Title,
} from "@patternfly/react-core";
import { ExclamationCircleIcon, LockIcon } from "@patternfly/react-icons";
import cockpit, { _ } from "./cockpit.js";
import { useHelper, useNarrow } from "./hooks.js";
import { ConnectForm } from "./connect.jsx";
import { Welcome } from "./welcome.jsx";
import { SourceSummary } from "./source.jsx";
import { ClusterView, LastLeave } from "./cluster.jsx";
import { AppsView } from "./apps.jsx";
import { LogsView, DEFAULT_LOG } from "./logs.jsx";
import { parseHistory } from "./format.js";
import { EndBanner } from "./inventory.jsx";

// The guide's steps, as a map of where the administrator is.
function Steps({ manager, apps, narrow }) {
    const connected = manager && manager.State === "connected";
    const started = apps.some(a => ["migrating", "syncing", "migrated"].includes(a.Status));
    const synced = apps.some(a => parseHistory(a.SyncHistory).length > 0 || a.LastSyncTime > 0);
    const finished = apps.length > 0 && apps.every(a => ["migrated", "skipped", "not_available"].includes(a.Status)) &&
        apps.some(a => a.Status === "migrated");
    const steps = [
        ["connect", _("Connect"), _("Join the NS8 cluster"), connected || finished],
        ["start", _("Start migration"), _("Install the app on NS8"), started],
        ["sync", _("Sync data"), _("As many times as needed"), synced && (finished || started)],
        ["finish", _("Finish migration"), _("Cutover"), finished],
        ["dns", _("Update DNS"), _("Point the names to NS8"), false],
    ];
    const current = steps.findIndex(s => !s[3]);
    return (
        <ProgressStepper isCompact={narrow} isVertical={narrow} aria-label={_("Migration steps")} data-test="steps">
            {steps.map(([id, title, desc, done], i) => (
                <ProgressStep key={id} id={"ns8m-step-" + id} titleId={"ns8m-step-" + id + "-title"}
                              variant={done ? "success" : i === current ? "info" : "pending"}
                              isCurrent={i === current} description={narrow ? undefined : desc}
                              aria-label={title}>
                    {title}
                </ProgressStep>
            ))}
        </ProgressStepper>
    );
}

function Problem({ helper }) {
    if (helper.problem === "access-denied" || helper.problem === "not-authorized") {
        return (
            <EmptyState>
                <EmptyStateHeader titleText={_("Administrative access is required")} headingLevel="h2"
                                  icon={<EmptyStateIcon icon={LockIcon} />} />
                <EmptyStateBody>{_("Turn on administrative access in Cockpit to use the NS8 migration.")}</EmptyStateBody>
            </EmptyState>
        );
    }
    return (
        <EmptyState>
            <EmptyStateHeader titleText={_("The migration service is not available")} headingLevel="h2"
                              icon={<EmptyStateIcon icon={ExclamationCircleIcon} />} />
            <EmptyStateBody>
                {_("ns8-migration-helper does not answer on the system bus. Check it with \"systemctl status ns8-migration-helper\" and look at /var/log/ns8-migration.log.")}
                {helper.problem && <p><code>{cockpit.message(helper.problem)}</code></p>}
            </EmptyStateBody>
        </EmptyState>
    );
}

function tabFromHash() {
    const h = (window.location.hash || "").replace(/^#\/?/, "");
    return ["cluster", "apps", "logs"].includes(h) ? h : null;
}

export function Application({ helper, logPath }) {
    useHelper(helper);
    const narrow = useNarrow();
    const manager = helper.manager;
    const apps = helper.apps;
    const connected = !!manager && manager.State === "connected";
    const [tab, setTab] = useState(tabFromHash());
    const [wasConnected, setWasConnected] = useState(null);

    // After connecting, go to the applications, as the guide says.
    useEffect(() => {
        if (!manager)
            return;
        if (wasConnected === false && connected && tab !== "logs")
            setTab("apps");
        setWasConnected(connected);
    }, [connected, manager]); // eslint-disable-line react-hooks/exhaustive-deps

    useEffect(() => {
        const on = () => setTab(tabFromHash());
        window.addEventListener("hashchange", on);
        return () => window.removeEventListener("hashchange", on);
    }, []);

    const active = tab || (connected ? "apps" : "cluster");
    const select = (_e, key) => {
        setTab(key);
        window.history.replaceState(null, "", "#/" + key);
    };

    let body;
    if (!helper.ready && !helper.problem) {
        body = <Bullseye><Spinner aria-label={_("Loading")} /></Bullseye>;
    } else if (!manager) {
        body = <Problem helper={helper} />;
    } else {
        body = (
            <Tabs activeKey={active} onSelect={select} aria-label={_("NS8 Migration")} mountOnEnter unmountOnExit
                  className="ns8m-tabs" data-test="tabs">
                <Tab eventKey="cluster" title={<TabTitleText>{connected ? _("Cluster") : _("Connect")}</TabTitleText>} data-test="tab-cluster">
                    <div className="ns8m-tab-body">
                        {manager.State === "disconnected" || manager.State === "connecting"
                            ? <>{manager.State === "disconnected" && <><LastLeave helper={helper} /><Welcome /><SourceSummary helper={helper} apps={apps} /></>}<ConnectForm helper={helper} manager={manager} /></>
                            : <ClusterView helper={helper} manager={manager} apps={apps} />}
                    </div>
                </Tab>
                <Tab eventKey="apps" title={<TabTitleText>{_("Applications")}</TabTitleText>} data-test="tab-apps">
                    <div className="ns8m-tab-body"><AppsView helper={helper} apps={apps} connected={connected} /></div>
                </Tab>
                <Tab eventKey="logs" title={<TabTitleText>{_("Logs")}</TabTitleText>} data-test="tab-logs">
                    <div className="ns8m-tab-body"><LogsView path={logPath || DEFAULT_LOG} /></div>
                </Tab>
            </Tabs>
        );
    }

    return (
        <Page className="ns8m-page" data-test="page" data-ready={helper.ready ? "true" : "false"}>
            <PageSection variant="light" className="ns8m-header">
                <Stack hasGutter>
                    <StackItem><Title headingLevel="h1">{_("NS8 Migration")}</Title></StackItem>
                    <StackItem>
                        {_("Moves the applications of this NethServer 7 to a NethServer 8 cluster: connect, start the migration, sync the data as many times as needed, then finish it with a short downtime.")}
                    </StackItem>
                    {manager && <StackItem><Steps manager={manager} apps={apps} narrow={narrow} /></StackItem>}
                </Stack>
            </PageSection>
            <PageSection>
                {manager && manager.State === "disconnecting" && (
                    <Alert isInline variant="info" title={_("Disconnecting from the NS8 cluster…")} className="ns8m-gap" />
                )}
                <EndBanner manager={manager} />
                {body}
            </PageSection>
        </Page>
    );
}
