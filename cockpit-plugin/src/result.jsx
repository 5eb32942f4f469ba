import React from "react";
import {
    Alert, CodeBlock, CodeBlockCode, List, ListItem, Stack, StackItem, Title,
} from "@patternfly/react-core";
import cockpit, { _ } from "./cockpit.js";
import { SimpleTable } from "./table.jsx";
import { unvariant } from "./helper.js";

// The Result screen, in the guide's order: check NethVoice on NS8 first,
// configure the proxy, and only then point the DNS at NS8.
export function ResultView({ app }) {
    const settings = unvariant(app.Settings || {});
    const records = app.DnsRecords || [];
    const notices = app.Notices || [];
    const hosts = [
        [settings.nethvoice_host, _("NethVoice administration")],
        [settings.nethcti_ui_host, _("NethVoice CTI")],
    ].filter(h => h[0]);
    const zone = records.map(([name, type, value]) => `${name}.\tIN\t${type}\t${value}`).join("\n");

    return (
        <Stack hasGutter data-test="result">
            <StackItem>
                <Alert isInline variant="success" title={cockpit.format(_("$0 now runs on NS8"), app.Name)}>
                    {_("NethVoice was stopped and disabled on NS7, which now shows a redirect page with links to the new FQDNs.")}
                </Alert>
            </StackItem>
            <StackItem>
                <Title headingLevel="h3">{_("1. Verify the NS8 services")}</Title>
                <List>
                    <ListItem>{_("Check that NethVoice is running on NS8 and look at its logs for errors.")}</ListItem>
                    {hosts.map(([host, what]) => (
                        <ListItem key={host}>
                            {what}: <a href={"https://" + host + "/"} target="_blank" rel="noopener noreferrer" data-test="result-link">{"https://" + host + "/"}</a>
                        </ListItem>
                    ))}
                </List>
                <Alert isInline isPlain variant="warning" title={_("Do not update the DNS yet: first make sure that everything works.")} data-test="dns-not-yet" />
            </StackItem>
            <StackItem>
                <Title headingLevel="h3">{_("2. Configure NethVoice Proxy")}</Title>
                {notices.map((n, i) => <Alert key={i} isInline variant="info" title={n} data-test="notice" />)}
                <List>
                    <ListItem>{_("Proxy FQDN: a valid fully qualified domain name, e.g. proxy.example.com.")}</ListItem>
                    <ListItem>{_("Network interface: the one for the VoIP traffic, usually the main one.")}</ListItem>
                    <ListItem>{_("Public IP address: required if the node is behind NAT.")}</ListItem>
                    <ListItem>{_("SIP/RTP ports: check the defaults and open them in the firewall.")}</ListItem>
                </List>
                <Alert isInline isPlain variant="warning" title={_("External calls and phone registrations do not work until the proxy is configured.")} data-test="proxy-reminder" />
            </StackItem>
            <StackItem>
                <Title headingLevel="h3">{_("3. Update the DNS records")}</Title>
                <p>{_("Once NethVoice works on NS8, create or update these records so that the names point to the NS8 node:")}</p>
                {records.length > 0
                    ? <>
                        <SimpleTable label={_("DNS records")} testId="dns-records"
                                     columns={[_("Name"), _("Type"), _("Points to")]} rows={records} />
                        <CodeBlock className="ns8m-zone"><CodeBlockCode>{zone}</CodeBlockCode></CodeBlock>
                    </>
                    : <p>{_("The A records of the NethVoice FQDNs must point to the NS8 node's IP address.")}</p>}
                <List>
                    <ListItem>{_("Internal DNS: usually immediate. Public DNS: it can take 24-48 hours; a low TTL speeds it up.")}</ListItem>
                    <ListItem>{_("Test the names from different places (internal network, external network) before switching NS7 off.")}</ListItem>
                </List>
            </StackItem>
            <StackItem>
                <Title headingLevel="h3">{_("4. Let's Encrypt certificate (optional)")}</Title>
                <p>{_("When the FQDNs resolve publicly to the NS8 node and TCP port 443 is reachable from the Internet, enable \"Request Let's Encrypt certificate\" in the NethVoice settings on NS8.")}</p>
            </StackItem>
        </Stack>
    );
}
