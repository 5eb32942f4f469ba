import React, { useEffect, useState } from "react";
import {
    Alert, Button, Card, CardBody, CardHeader, CardTitle, Checkbox, DescriptionList, DescriptionListDescription,
    DescriptionListGroup, DescriptionListTerm, Label, Modal, ModalVariant, Stack, StackItem, Tooltip,
} from "@patternfly/react-core";
import cockpit, { _ } from "./cockpit.js";
import { SimpleTable } from "./table.jsx";
import { MANAGER } from "./helper.js";
import { colonHex, formatBytes } from "./format.js";
import { JobPanel } from "./job.jsx";
import { SubscriptionWarning } from "./connect.jsx";
import { appName, helperMessage } from "./texts.js";

export function stateLabel(state) {
    switch (state) {
    case "connected": return <Label color="green" data-test="cluster-state">{_("Connected")}</Label>;
    case "connecting": return <Label color="blue" data-test="cluster-state">{_("Connecting")}</Label>;
    case "disconnecting": return <Label color="orange" data-test="cluster-state">{_("Disconnecting")}</Label>;
    default: return <Label color="grey" data-test="cluster-state">{_("Disconnected")}</Label>;
    }
}

export function useNodes(helper, connected) {
    const [nodes, setNodes] = useState(null);
    const available = helper.hasMethod(MANAGER, "ListNodes");
    useEffect(() => {
        if (!available || !connected) {
            setNodes(null);
            return;
        }
        let live = true;
        helper.listNodes().then(n => live && setNodes(n), () => live && setNodes(null));
        return () => { live = false };
    }, [helper, available, connected]);
    return nodes;
}

function NodesTable({ nodes }) {
    return (
        <SimpleTable label={_("NS8 nodes")} testId="nodes"
                     columns={[_("Node"), _("VPN address"), _("State"), _("Free disk space")]}
                     rows={nodes.map(n => [
                         <>
                             {n.ui_name ? cockpit.format("$0 ($1)", n.ui_name, n.id) : cockpit.format(_("Node $0"), n.id)}
                             {n.local && <> <Label isCompact color="blue">{_("Leader")}</Label></>}
                         </>,
                         n.vpn_address,
                         n.online ? <Label isCompact color="green">{_("Online")}</Label> : <Label isCompact color="red">{_("Offline")}</Label>,
                         n.total_bytes ? cockpit.format(_("$0 of $1"), formatBytes(n.free_bytes), formatBytes(n.total_bytes)) : "—",
                     ])} />
    );
}

// After leaving the cluster (asked, forced or at the end of the migration):
// how that went, while its job lingers on the bus.
export function LastLeave({ helper }) {
    const job = helper.jobs.filter(j => j.Operation === "disconnect" && j.Finished).pop();
    return job ? <div className="ns8m-gap" data-test="last-leave"><JobPanel helper={helper} job={job} compact /></div> : null;
}

// The Cluster screen: where NS7 is connected, and the way out.
export function ClusterView({ helper, manager, apps }) {
    const [confirm, setConfirm] = useState(false);
    const [error, setError] = useState(null);
    const [jobPath, setJobPath] = useState(null);
    const [busy, setBusy] = useState(false);
    const [force, setForce] = useState(false);
    const nodes = useNodes(helper, manager.State === "connected");
    const migrating = apps.filter(a => ["migrating", "syncing", "finishing"].includes(a.Status));
    // Migrated apps whose users come from the temporary user domain.
    const dependents = manager.DomainDependents || [];
    const job = helper.job(jobPath) || helper.jobs.find(j => j.Operation === "disconnect" && !j.Finished) || null;
    const reason = migrating.length
        ? cockpit.format(_("$0 is being migrated: finish or abort its migration before disconnecting."),
                         migrating.map(a => appName(a)).join(", "))
        : null;

    const disconnect = () => {
        setBusy(true);
        setError(null);
        helper.disconnect(dependents.length ? { force } : {})
                .then(path => { setJobPath(path); setConfirm(false); setForce(false) })
                .catch(ex => setError(helperMessage(ex.message)))
                .finally(() => setBusy(false));
    };

    const button = (
        <Button variant="secondary" isDanger isAriaDisabled={!!reason || manager.State !== "connected"}
                onClick={() => setConfirm(true)} data-test="disconnect">
            {_("Disconnect")}
        </Button>
    );

    return (
        <Card data-test="cluster-card">
            <CardHeader actions={{ actions: reason ? <Tooltip content={reason}>{button}</Tooltip> : button, hasNoOffset: false }}>
                <CardTitle component="h2">{_("NS8 cluster")}</CardTitle>
            </CardHeader>
            <CardBody>
                <Stack hasGutter>
                    <StackItem>
                        <DescriptionList isHorizontal isCompact columnModifier={{ default: "1Col", lg: "2Col" }}>
                            <DescriptionListGroup>
                                <DescriptionListTerm>{_("State")}</DescriptionListTerm>
                                <DescriptionListDescription>{stateLabel(manager.State)}</DescriptionListDescription>
                            </DescriptionListGroup>
                            <DescriptionListGroup>
                                <DescriptionListTerm>{_("Leader")}</DescriptionListTerm>
                                <DescriptionListDescription data-test="cluster-leader">{manager.Leader || "—"}</DescriptionListDescription>
                            </DescriptionListGroup>
                            <DescriptionListGroup>
                                <DescriptionListTerm>{_("This server's node")}</DescriptionListTerm>
                                <DescriptionListDescription data-test="cluster-node">{manager.NodeId ? String(manager.NodeId) : "—"}</DescriptionListDescription>
                            </DescriptionListGroup>
                            <DescriptionListGroup>
                                <DescriptionListTerm>{_("VPN address")}</DescriptionListTerm>
                                <DescriptionListDescription data-test="cluster-vpn">{manager.VpnAddress || "—"}</DescriptionListDescription>
                            </DescriptionListGroup>
                            <DescriptionListGroup>
                                <DescriptionListTerm>{_("User domain")}</DescriptionListTerm>
                                <DescriptionListDescription>{manager.UserDomain || "—"}</DescriptionListDescription>
                            </DescriptionListGroup>
                            <DescriptionListGroup>
                                <DescriptionListTerm>{_("Certificate fingerprint")}</DescriptionListTerm>
                                <DescriptionListDescription className="ns8m-fingerprint">
                                    {manager.TlsFingerprint ? colonHex(manager.TlsFingerprint) : "—"}
                                </DescriptionListDescription>
                            </DescriptionListGroup>
                            <DescriptionListGroup>
                                <DescriptionListTerm>{_("Migration service version")}</DescriptionListTerm>
                                <DescriptionListDescription>{manager.Version}</DescriptionListDescription>
                            </DescriptionListGroup>
                        </DescriptionList>
                    </StackItem>
                    {reason && <StackItem><Alert isInline isPlain variant="info" title={reason} data-test="disconnect-reason" /></StackItem>}
                    {nodes && nodes.length > 0 && <StackItem><NodesTable nodes={nodes} /></StackItem>}
                    {error && <StackItem><Alert isInline variant="danger" title={error} /></StackItem>}
                    {job && <StackItem><JobPanel helper={helper} job={job} compact onError={setError} /></StackItem>}
                    <StackItem><SubscriptionWarning /></StackItem>
                </Stack>
            </CardBody>
            <Modal variant={ModalVariant.small} title={_("Disconnect from the NS8 cluster?")} titleIconVariant="warning"
                   isOpen={confirm} onClose={() => setConfirm(false)} data-test="disconnect-dialog"
                   actions={[
                       <Button key="ok" variant="danger" onClick={disconnect} isLoading={busy}
                               isDisabled={busy || (dependents.length > 0 && !force)} data-test="disconnect-confirm">
                           {_("Disconnect")}
                       </Button>,
                       <Button key="cancel" variant="link" onClick={() => setConfirm(false)}>{_("Cancel")}</Button>,
                   ]}>
                {_("This server leaves the cluster: the node, the temporary migration account and, if it was created for the migration, the temporary user domain are removed from NS8; the VPN is taken down. Apps already migrated keep running on NS8.")}
                {dependents.length > 0 && (
                    <Alert isInline variant="danger" className="ns8m-gap" data-test="disconnect-dependents"
                           title={cockpit.format(_("$0 on NS8 signs its users in through the temporary user domain $1"), dependents.join(", "), manager.UserDomain)}>
                        <p>{_("That domain reads this server's accounts. Disconnecting removes it, and nobody can log in to those apps until a user domain of that name exists on NS8 again. Migrate the account provider instead: the migration then ends by itself.")}</p>
                        <Checkbox id="ns8m-disconnect-force" isChecked={force} onChange={(_e, c) => setForce(c)} data-test="disconnect-force"
                                  label={_("Disconnect anyway: I understand that those apps lose their users")} />
                    </Alert>
                )}
            </Modal>
        </Card>
    );
}
