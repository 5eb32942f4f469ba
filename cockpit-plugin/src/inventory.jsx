import React from "react";
import { Alert, Card, CardBody, CardHeader, CardTitle, Label, Stack, StackItem } from "@patternfly/react-core";
import { BanIcon, CheckCircleIcon, InfoCircleIcon, OutlinedClockIcon } from "@patternfly/react-icons";
import cockpit, { _, isItalian } from "./cockpit.js";
import { unvariant } from "./helper.js";
import { SimpleTable } from "./table.jsx";
import { statusLabel } from "./status.jsx";

// Manager.Inventory as plain objects: every NS7 application the migration
// knows of, the account provider last.
export function inventoryItems(manager) {
    return ((manager && manager.Inventory) || []).map(unvariant);
}

// Where the migration of everything stands: "done" when something was
// migrated and nothing that needs NS7 is left, otherwise what is left.
export function migrationEnd(items) {
    const left = items.filter(i => i.status === "unsupported" ||
        (i.status === "migratable" && !["migrated", "skipped"].includes(i.app_status)));
    const migrated = items.some(i => i.status === "migratable" && i.app_status === "migrated");
    return { done: items.length > 0 && migrated && left.length === 0, left };
}

function itemLabel(item) {
    switch (item.status) {
    case "migratable": return statusLabel(item.app_status);
    case "kept": return <Label color="green" icon={<CheckCircleIcon />} data-test="inventory-status" data-status="kept">{_("Kept")}</Label>;
    case "not_available": return <Label color="grey" icon={<BanIcon />} data-test="inventory-status" data-status="not_available">{_("Not in use")}</Label>;
    case "unsupported": return <Label color="orange" icon={<InfoCircleIcon />} data-test="inventory-status" data-status="unsupported">{_("Not supported yet")}</Label>;
    default: return <Label color="grey" icon={<OutlinedClockIcon />} data-test="inventory-status" data-status="not_installed">{_("Not installed")}</Label>;
    }
}

function itemName(item) {
    const names = item.names || {};
    return (isItalian() && names.it) || names.en || item.name;
}

function itemNote(item) {
    const reason = item.reason || {};
    const text = (isItalian() && reason.it) || reason.en;
    if (text)
        return text;
    if (item.status === "migratable")
        return item.provider ? _("Migrated last, after the apps that read its users.") : _("Migrated by this tool.");
    if (item.status === "not_available")
        return _("Installed but not in use: nothing to migrate.");
    return "";
}

// The whole list, so that the administrator sees what is left before NS7
// can be switched off.
export function InventoryCard({ manager }) {
    const items = inventoryItems(manager);
    if (items.length === 0)
        return null;
    const { done, left } = migrationEnd(items);
    const installed = items.filter(i => i.status !== "not_installed");
    const absent = items.filter(i => i.status === "not_installed");
    return (
        <Card data-test="inventory">
            <CardHeader><CardTitle component="h2">{_("Everything on this NS7")}</CardTitle></CardHeader>
            <CardBody>
                <Stack hasGutter>
                    {!done && left.length > 0 && (
                        <StackItem>
                            <Alert isInline isPlain variant="info" data-test="inventory-left"
                                   title={cockpit.format(_("NS7 is still needed for: $0"), left.map(itemName).join(", "))} />
                        </StackItem>
                    )}
                    <StackItem>
                        <SimpleTable label={_("Applications on NS7")} testId="inventory-table"
                                     columns={[_("Application"), _("State"), _("Note")]}
                                     rows={installed.map(i => [itemName(i), itemLabel(i), itemNote(i)])} />
                    </StackItem>
                    {absent.length > 0 && (
                        <StackItem data-test="inventory-absent">
                            {cockpit.format(_("Not installed on this server: $0."), absent.map(itemName).join(", "))}
                        </StackItem>
                    )}
                </Stack>
            </CardBody>
        </Card>
    );
}

// The end: shown once this server left the cluster with nothing left to migrate.
export function EndBanner({ manager }) {
    const { done } = migrationEnd(inventoryItems(manager));
    if (!done || !manager || manager.State !== "disconnected")
        return null;
    return (
        <Alert variant="success" isInline className="ns8m-gap" data-test="migration-end"
               title={_("The migration is complete: NS7 can be switched off")}>
            <p>{_("Every application is migrated or skipped and this server has left the NS8 cluster: its node, the migration account and the VPN are removed.")}</p>
            <p>{_("What remains on NS7 are the pages that send the old addresses to NS8, until the DNS records point there. Keep a backup of NS7 for a while before you delete it.")}</p>
        </Alert>
    );
}
