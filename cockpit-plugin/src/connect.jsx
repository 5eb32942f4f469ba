import React, { useEffect, useState } from "react";
import {
    ActionGroup, Alert, Button, Card, CardBody, CardTitle, Checkbox, ClipboardCopy, ExpandableSection, Form,
    FormGroup, FormHelperText, HelperText, HelperTextItem, List, ListItem, Stack, StackItem, TextInput,
} from "@patternfly/react-core";
import cockpit, { _ } from "./cockpit.js";
import { classifyConnectError } from "./errors.js";
import { colonHex } from "./format.js";
import { JobPanel } from "./job.jsx";
import { PreflightReport, usePreflight } from "./preflight.jsx";
import { guideUrl, helperMessage, jobMessage } from "./texts.js";

function FieldError({ text, hint }) {
    if (!text && !hint)
        return null;
    return (
        <FormHelperText>
            <HelperText>
                {text
                    ? <HelperTextItem variant="error" data-test="field-error">{text}</HelperTextItem>
                    : <HelperTextItem>{hint}</HelperTextItem>}
            </HelperText>
        </FormHelperText>
    );
}

// The guide's "Risoluzione dei problemi di connessione", by kind of error.
export function Troubleshooting({ advice, leader }) {
    if (!advice || advice === "tls")
        return null;
    let items;
    if (advice === "unreachable") {
        items = [
            _("Check that the NS8 leader's address is correct and reachable from this server."),
            _("Check that the leader's name resolves from this server (DNS): the VPN endpoint of the cluster is, by default, the leader's FQDN."),
            _("Check that firewalls do not block the VPN port 55820 (UDP), on NS7, on NS8 and in between."),
            cockpit.format(_("Test the connectivity from NS7: $0"), "nc -zv " + (leader || "<ns8-leader>") + " 55820"),
            _("Make sure that the NS8 cluster is running."),
        ];
    } else if (advice === "credentials") {
        items = [
            _("Check that the administrator's user name and password are correct."),
            _("Make sure that the administrator account is active in NS8."),
            _("Check the password complexity requirements."),
        ];
    } else if (advice === "domain") {
        items = [
            _("Choose a different domain name."),
            _("Check the existing domains in NS8, in \"Domains and users\"."),
            _("Make sure that the name is unique in the whole cluster."),
            _("For a remote account provider, NS8 must already have an external user domain named after NS7's BaseDN (e.g. dc=directory,dc=nh → directory.nh)."),
        ];
    } else {
        return null;
    }
    return (
        <ExpandableSection toggleText={_("Troubleshooting")} isExpanded data-test="troubleshooting">
            <List>{items.map((t, i) => <ListItem key={i}>{t}</ListItem>)}</List>
        </ExpandableSection>
    );
}

export function SubscriptionWarning() {
    return (
        <Alert isInline variant="warning" title={_("Impact of an active subscription")} data-test="subscription-warning">
            {_("If NS8 has an active subscription plan, automatic system updates are suspended during the migration. Updates resume automatically once NS7 is removed from the cluster at the end of the migration.")}
        </Alert>
    );
}

// "Passaggio 2" of the guide: connect NS7 to the NS8 cluster.
export function ConnectForm({ helper, manager }) {
    const [leader, setLeader] = useState("");
    const [username, setUsername] = useState("admin");
    const [password, setPassword] = useState("");
    const [otp, setOtp] = useState("");
    const [userDomain, setUserDomain] = useState("");
    const [tlsVerify, setTlsVerify] = useState(true);
    const [fpConfirmed, setFpConfirmed] = useState(false);
    const [showOtp, setShowOtp] = useState(false);
    const [showUserDomain, setShowUserDomain] = useState(false);
    const [errors, setErrors] = useState({});
    const [general, setGeneral] = useState(null);
    const [advice, setAdvice] = useState(null);
    const [fingerprint, setFingerprint] = useState("");
    const [busy, setBusy] = useState(false);
    const [jobPath, setJobPath] = useState(null);
    const [acceptWarnings, setAcceptWarnings] = useState(false);

    const state = manager ? manager.State : "disconnected";
    const job = helper.job(jobPath) ||
        helper.jobs.find(j => j.Operation === "connect" && !j.Finished) || null;
    const propFingerprint = manager && manager.TlsFingerprint ? colonHex(manager.TlsFingerprint) : "";
    const knownFingerprint = fingerprint || propFingerprint;

    // A failed connect job names the kind of failure: put it on its field.
    useEffect(() => {
        if (job && job.Finished && !job.Success && job.path === jobPath) {
            const c = classifyConnectError(job.ErrorName, job.Message);
            setErrors(c.field ? { [c.field]: jobMessage(job) } : {});
            setGeneral(c.field ? null : jobMessage(job));
            setAdvice(c.advice);
        }
    }, [job, jobPath]);

    const clear = (field) => setErrors(e => {
        if (!e[field])
            return e;
        const n = { ...e };
        delete n[field];
        return n;
    });

    const needsConfirm = !tlsVerify && knownFingerprint !== "";
    const preflightOptions = { leader: leader.trim() || undefined, tls_verify: tlsVerify };
    if (!tlsVerify && knownFingerprint && fpConfirmed)
        preflightOptions.tls_fingerprint = knownFingerprint;
    if (showUserDomain && userDomain.trim())
        preflightOptions.user_domain = userDomain.trim();
    const preflight = usePreflight(helper, preflightOptions, false);
    const canConnect = leader.trim() && username.trim() && password && !busy &&
        !(job && !job.Finished) && (!needsConfirm || fpConfirmed) &&
        (!showUserDomain || userDomain.trim()) && (!showOtp || otp.trim());

    const submit = (ev) => {
        ev.preventDefault();
        if (!canConnect)
            return;
        const options = {
            leader: leader.trim(),
            username: username.trim(),
            password,
        };
        if (showOtp && otp.trim())
            options.otp = otp.trim();
        if (showUserDomain && userDomain.trim())
            options.user_domain = userDomain.trim();
        // Without validation the certificate must be the one the
        // administrator confirmed; until a fingerprint is known, the first
        // attempt validates and, if refused, brings the fingerprint back.
        if (!tlsVerify && knownFingerprint && fpConfirmed) {
            options.tls_verify = false;
            options.tls_fingerprint = knownFingerprint;
        }
        if (acceptWarnings)
            options.accept_warnings = true;
        setBusy(true);
        setErrors({});
        setGeneral(null);
        setAdvice(null);
        helper.connect(options)
                .then(path => setJobPath(path))
                .catch(ex => {
                    // The prerequisites said no: show the report that says why.
                    if ((ex.name || "").endsWith(".PreflightFailed"))
                        preflight.run();
                    const c = classifyConnectError(ex.name, ex.message);
                    if (c.showOtp)
                        setShowOtp(true);
                    if (c.showUserDomain)
                        setShowUserDomain(true);
                    if (c.fingerprint) {
                        setFingerprint(c.fingerprint);
                        setFpConfirmed(false);
                    }
                    setErrors(c.field && !c.prompt ? { [c.field]: helperMessage(ex.message) } : {});
                    setGeneral(c.field ? null : helperMessage(ex.message));
                    setAdvice(c.advice);
                })
                .finally(() => setBusy(false));
    };

    return (
        <Card data-test="connect-card">
            <CardTitle component="h2">{_("Connect to the NS8 cluster")}</CardTitle>
            <CardBody>
                <Stack hasGutter>
                    <StackItem>
                        {_("This establishes a secure connection between this NethServer 7 and the NethServer 8 cluster: NS7 joins the cluster as a special node through a VPN, and a temporary migration account is created on NS8.")}
                    </StackItem>
                    <StackItem>
                        <Form onSubmit={submit} isWidthLimited>
                            <FormGroup label={_("NS8 leader node")} isRequired fieldId="ns8m-leader">
                                <TextInput id="ns8m-leader" value={leader} isRequired placeholder="ns8.example.com"
                                           validated={errors.leader ? "error" : "default"}
                                           onChange={(_e, v) => { setLeader(v); clear("leader") }} />
                                <FieldError text={errors.leader}
                                            hint={_("Host name or IP address of the NS8 cluster leader: the same address you use for the NS8 web interface.")} />
                            </FormGroup>
                            <FormGroup label={_("NS8 admin username")} isRequired fieldId="ns8m-username">
                                <TextInput id="ns8m-username" value={username} isRequired autoComplete="username"
                                           validated={errors.username ? "error" : "default"}
                                           onChange={(_e, v) => { setUsername(v); clear("username") }} />
                                <FieldError text={errors.username} />
                            </FormGroup>
                            <FormGroup label={_("NS8 admin password")} isRequired fieldId="ns8m-password">
                                <TextInput id="ns8m-password" type="password" value={password} isRequired autoComplete="current-password"
                                           validated={errors.password ? "error" : "default"}
                                           onChange={(_e, v) => { setPassword(v); clear("password") }} />
                                <FieldError text={errors.password}
                                            hint={_("Used only to create the temporary migration account; the password is not stored.")} />
                            </FormGroup>
                            {showOtp && (
                                <FormGroup label={_("OTP code")} isRequired fieldId="ns8m-otp">
                                    <TextInput id="ns8m-otp" value={otp} isRequired inputMode="numeric" autoComplete="one-time-code"
                                               validated={errors.otp ? "error" : "default"}
                                               onChange={(_e, v) => { setOtp(v); clear("otp") }} />
                                    <FieldError text={errors.otp}
                                                hint={_("The account has two-factor authentication: type the current code of the authenticator app.")} />
                                </FormGroup>
                            )}
                            {showUserDomain && (
                                <FormGroup label={_("LDAP user domain")} isRequired fieldId="ns8m-user-domain">
                                    <TextInput id="ns8m-user-domain" value={userDomain} isRequired placeholder="ns7.example.local"
                                               validated={errors.user_domain ? "error" : "default"}
                                               onChange={(_e, v) => { setUserDomain(v); clear("user_domain") }} />
                                    <FieldError text={errors.user_domain} />
                                    <HelperText className="ns8m-explain">
                                        <HelperTextItem>
                                            {_("NS7 uses a local OpenLDAP account provider. Choose a unique name that does not conflict with the existing NS8 domains: NS7's LDAP database will be seen under this domain during the migration. Example: if your NS7 domain is example.local, you could use ns7-example.local.")}
                                        </HelperTextItem>
                                    </HelperText>
                                </FormGroup>
                            )}
                            <FormGroup fieldId="ns8m-tls" label={_("TLS validation")}>
                                <Checkbox id="ns8m-tls" isChecked={tlsVerify}
                                          label={_("Validate the leader's TLS certificate")}
                                          description={_("Check it if the NS8 leader has a valid, trusted TLS certificate; uncheck it for self-signed certificates or access by IP address.")}
                                          onChange={(_e, v) => { setTlsVerify(v); setFpConfirmed(false); clear("tls") }} />
                                <FieldError text={errors.tls} />
                            </FormGroup>
                            {!tlsVerify && (
                                <FormGroup fieldId="ns8m-fingerprint" label={_("Certificate fingerprint (SHA-256)")} data-test="fingerprint-group">
                                    {knownFingerprint
                                        ? <>
                                            <ClipboardCopy isReadOnly hoverTip={_("Copy")} clickTip={_("Copied")} id="ns8m-fingerprint"
                                                           data-test="fingerprint">{knownFingerprint}</ClipboardCopy>
                                            <Checkbox id="ns8m-fingerprint-ok" isChecked={fpConfirmed}
                                                      label={_("I have checked that this is the fingerprint of the NS8 leader's certificate")}
                                                      onChange={(_e, v) => setFpConfirmed(v)} />
                                        </>
                                        : <HelperText>
                                            <HelperTextItem>
                                                {_("The fingerprint is read from the leader at the first attempt and shown here for you to confirm.")}
                                            </HelperTextItem>
                                        </HelperText>}
                                </FormGroup>
                            )}
                            {general && (
                                <Alert isInline variant="danger" title={_("The connection failed")} data-test="connect-error">
                                    {general}
                                </Alert>
                            )}
                            <Troubleshooting advice={advice} leader={leader.trim()} />
                            <PreflightReport preflight={preflight} operation="connect" guide={guideUrl(helper.apps)} accepted={acceptWarnings}
                                             onAccept={setAcceptWarnings} />
                            <ActionGroup>
                                <Button type="submit" variant="primary" isDisabled={!canConnect} isLoading={busy || (job && !job.Finished)}
                                        data-test="connect">
                                    {_("Connect")}
                                </Button>
                            </ActionGroup>
                        </Form>
                    </StackItem>
                    {job && (!job.Finished || job.path === jobPath) && state !== "connected" && (
                        <StackItem>
                            <JobPanel helper={helper} job={job} compact onError={setGeneral} />
                        </StackItem>
                    )}
                    <StackItem>
                        <SubscriptionWarning />
                    </StackItem>
                </Stack>
            </CardBody>
        </Card>
    );
}
