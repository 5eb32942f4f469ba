import React from "react";
import { Label } from "@patternfly/react-core";
import {
    BanIcon, CheckCircleIcon, ExclamationCircleIcon, InProgressIcon, OutlinedClockIcon, SyncAltIcon,
} from "@patternfly/react-icons";
import { _ } from "./cockpit.js";

// An App's Status as a label.
export function statusLabel(status) {
    const s = {
        not_migrated: ["grey", <OutlinedClockIcon key="i" />, _("Not migrated")],
        migrating: ["blue", <InProgressIcon key="i" />, _("Migrating")],
        syncing: ["cyan", <SyncAltIcon key="i" />, _("Syncing")],
        finishing: ["orange", <InProgressIcon key="i" />, _("Finishing")],
        migrated: ["green", <CheckCircleIcon key="i" />, _("Migrated")],
        skipped: ["grey", <BanIcon key="i" />, _("Skipped")],
        not_available: ["grey", <BanIcon key="i" />, _("Not available")],
        failed: ["red", <ExclamationCircleIcon key="i" />, _("Failed")],
    }[status] || ["grey", null, status];
    return <Label color={s[0]} icon={s[1]} data-test="app-status" data-status={status}>{s[2]}</Label>;
}
