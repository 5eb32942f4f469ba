import React, { useEffect, useState } from "react";
import {
    Alert, Card, CardBody, CardTitle, DescriptionList, DescriptionListDescription, DescriptionListGroup,
    DescriptionListTerm, List, ListItem, Stack, StackItem,
} from "@patternfly/react-core";
import cockpit, { _ } from "./cockpit.js";
import { MANAGER, unvariant } from "./helper.js";
import { SimpleTable } from "./table.jsx";
import { formatBytes, formatTime } from "./format.js";
import { appName, helperMessage } from "./texts.js";

// Manager.DescribeSource's reply, its lists of dictionaries made plain.
export function sourceView(reply) {
    const s = unvariant(reply || {});
    return {
        ...s,
        interfaces: (s.interfaces || []).map(unvariant),
        apps: (s.apps || []).map(unvariant),
    };
}

export function providerText(id, detail) {
    const kind = {
        none: _("None"),
        openldap: _("Local OpenLDAP"),
        "samba-ad": _("Local Samba Active Directory"),
        "remote-ldap": _("Remote LDAP"),
        "remote-ad": _("Remote Active Directory"),
    }[id] || id;
    return detail ? cockpit.format(_("$0: $1"), kind, detail) : kind;
}

function roleText(role) {
    return {
        green: _("green (LAN)"), red: _("red (Internet)"), blue: _("blue (guests)"), orange: _("orange (DMZ)"),
    }[role] || role || _("no role");
}

export function interfaceText(i) {
    const address = i.address
        ? (i.netmask ? i.address + "/" + i.netmask : i.address)
        : (i.bootproto === "dhcp" ? _("address from DHCP") : _("no address"));
    return cockpit.format(_("$0, $1: $2"), i.name, roleText(i.role), address);
}

// APPS: DescribeSource's; OBJECTS: the App objects, whose profile may name
// the app in the page's language.
function appRows(apps, objects) {
    const byId = new Map((objects || []).map(o => [o.Id, o]));
    return apps.map(a => [
        byId.has(a.id) ? appName(byId.get(a.id)) : a.name,
        a.scan_time ? String(a.source_files) : "–",
        a.scan_time ? formatBytes(a.source_bytes) : "–",
        a.scan_time ? formatBytes(a.database_bytes) : "–",
        a.scan_time ? formatTime(a.scan_time, cockpit.language) : _("Not measured yet"),
    ]);
}

function Facts({ s }) {
    const fact = (term, value, testId) => (
        <DescriptionListGroup>
            <DescriptionListTerm>{term}</DescriptionListTerm>
            <DescriptionListDescription data-test={testId}>{value}</DescriptionListDescription>
        </DescriptionListGroup>
    );
    return (
        <DescriptionList isHorizontal isCompact columnModifier={{ default: "1Col", lg: "2Col" }}>
            {fact(_("Host name"), s.host_name || "–", "source-host")}
            {fact(_("Domain"), s.domain_name || "–", "source-domain")}
            {fact(_("Release"), s.release || _("Unknown: /etc/nethserver-release cannot be read"), "source-release")}
            {fact(_("Subscription"), s.subscription
                ? cockpit.format(_("Yes, system ID $0"), s.system_id)
                : _("No subscription"), "source-subscription")}
            {fact(_("Account provider"), providerText(s.account_provider, s.account_provider_detail), "source-provider")}
            {fact(_("IP addresses"), s.interfaces.length
                ? <List isPlain>{s.interfaces.map(i => <ListItem key={i.name} data-test="source-interface">{interfaceText(i)}</ListItem>)}</List>
                : "–", "source-addresses")}
        </DescriptionList>
    );
}

// The manual's "Source Info": this NS7 as it describes itself, for the
// administrator to check that it is the server to migrate, and the
// applications with the size their last measurement found.
export function SourceSummary({ helper, apps }) {
    const [source, setSource] = useState(null);
    const [error, setError] = useState(null);
    const has = helper.hasMethod(MANAGER, "DescribeSource");
    const scans = (apps || []).map(a => a.path + ":" + a.ScanTime).join(",");
    useEffect(() => {
        if (!has)
            return;
        helper.describeSource()
                .then(r => { setSource(sourceView(r)); setError(null) })
                .catch(ex => setError(helperMessage(ex.message)));
    }, [has, scans]); // eslint-disable-line react-hooks/exhaustive-deps
    if (!has)
        return null;
    return (
        <Card isFlat className="ns8m-gap" data-test="source">
            <CardTitle component="h2">{_("Source: this NethServer 7")}</CardTitle>
            <CardBody>
                {error && <Alert isInline variant="danger" title={error} data-test="source-error" />}
                {source && (
                    <Stack hasGutter>
                        <StackItem>{_("Check that this is the server whose applications you want to move.")}</StackItem>
                        <StackItem><Facts s={source} /></StackItem>
                        <StackItem>
                            {source.apps.length > 0
                                ? <SimpleTable label={_("Applications")} testId="source-apps"
                                               columns={[_("Name"), _("Files"), _("Data"), _("Databases"), _("Measured")]}
                                               rows={appRows(source.apps, apps)} />
                                : <p data-test="source-no-apps">{_("No application of this server can be migrated.")}</p>}
                        </StackItem>
                        {source.apps.some(a => !a.scan_time) && (
                            <StackItem>
                                <Alert isInline isPlain variant="info" data-test="source-measure"
                                       title={_("Measure each application in the Applications tab to know how much data the NS8 node will need.")} />
                            </StackItem>
                        )}
                    </Stack>
                )}
            </CardBody>
        </Card>
    );
}
