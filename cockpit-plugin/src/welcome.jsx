import React from "react";
import {
    Alert, Card, CardBody, CardTitle, Grid, GridItem, List, ListComponent, ListItem, OrderType, Stack, StackItem, Title,
} from "@patternfly/react-core";
import { _ } from "./cockpit.js";

// The first screen of the migration manual's wizard: what will happen,
// what the administrator needs, and a snapshot or backup of NS7 first.
// Shown above the connection form while this server is not connected.
export function Welcome() {
    return (
        <Card isFlat className="ns8m-gap" data-test="welcome">
            <CardTitle component="h2">{_("Welcome")}</CardTitle>
            <CardBody>
                <Stack hasGutter>
                    <StackItem>
                        <Grid hasGutter md={6}>
                            <GridItem>
                                <Title headingLevel="h3" size="md">{_("What will happen")}</Title>
                                <List component={ListComponent.ol} type={OrderType.number} data-test="welcome-phases">
                                    <ListItem>{_("Connect: this server joins the NS8 cluster through an encrypted VPN tunnel. Its services are not touched.")}</ListItem>
                                    <ListItem>{_("Start: each application is created on NS8 and its data copied, while NS7 keeps working.")}</ListItem>
                                    <ListItem>{_("Sync: what changed is copied again, as many times as needed; each sync is shorter than the one before.")}</ListItem>
                                    <ListItem>{_("Finish: at a quiet time the application stops on NS7, the last changes are copied and NS8 takes over. Users see a short downtime.")}</ListItem>
                                    <ListItem>{_("DNS: the application's host names are pointed to NS8.")}</ListItem>
                                </List>
                            </GridItem>
                            <GridItem>
                                <Title headingLevel="h3" size="md">{_("What you need")}</Title>
                                <List data-test="welcome-needs">
                                    <ListItem>{_("The host name of the NS8 cluster's leader and an NS8 administrator account, with its one-time code when it uses two-factor authentication.")}</ListItem>
                                    <ListItem>{_("An NS8 node with enough free disk space for the data: Measure on each application tells how much.")}</ListItem>
                                    <ListItem>{_("NS7 up to date, and UDP port 55820 of the leader reachable from NS7 for the VPN.")}</ListItem>
                                    <ListItem>{_("Access to the DNS records of the applications' host names.")}</ListItem>
                                    <ListItem>{_("A quiet time for the final step, and the users told in advance.")}</ListItem>
                                </List>
                            </GridItem>
                        </Grid>
                    </StackItem>
                    <StackItem>
                        <Alert isInline variant="warning" title={_("Take a snapshot or a full backup of NS7 before you start")}
                               data-test="welcome-backup">
                            {_("Nothing is deleted from NS7, but Finish stops and disables the migrated applications there: a snapshot of the virtual machine or a backup lets you go back to where you started.")}
                        </Alert>
                    </StackItem>
                </Stack>
            </CardBody>
        </Card>
    );
}
