import React, { useCallback, useEffect, useRef, useState } from "react";
import {
    Alert, Button, Checkbox, DataList, DataListCell, DataListItem, DataListItemCells, DataListItemRow, Flex,
    FlexItem, Spinner, Stack, StackItem, Title,
} from "@patternfly/react-core";
import {
    CheckCircleIcon, ExclamationCircleIcon, ExclamationTriangleIcon, OutlinedQuestionCircleIcon,
} from "@patternfly/react-icons";
import cockpit, { _, N_ } from "./cockpit.js";
import { MANAGER } from "./helper.js";
import { checkText, docLink, helperMessage } from "./texts.js";

const GROUPS = [
    ["source", N_("Source system (NethServer 7)")],
    ["destination", N_("Destination system (NethServer 8)")],
    ["network", N_("Network")],
    ["dns", N_("DNS")],
    ["account", N_("Account provider")],
    ["data", N_("Data")],
    ["backup", N_("Backup")],
];

// What the report says about one operation: its blockers and warnings.
export function verdict(checks, operation) {
    const gating = (checks || []).filter(c => !operation || (c.gates || []).includes(operation));
    return {
        blockers: gating.filter(c => c.severity === "blocker"),
        warnings: gating.filter(c => c.severity === "warning"),
    };
}

// "helper" when the check's KEY is only the helper's English (no KEY_text):
// the Italian page's leftover-English check skips what is so marked.
function fromHelper(check, key) {
    return Array.isArray(check[key + "_text"]) ? undefined : "helper";
}

function SeverityIcon({ check }) {
    if (!check.checked)
        return <OutlinedQuestionCircleIcon className="ns8m-pf-unchecked" aria-label={_("Not checked yet")} />;
    if (check.severity === "blocker")
        return <ExclamationCircleIcon color="var(--pf-v5-global--danger-color--100)" aria-label={_("Blocker")} />;
    if (check.severity === "warning")
        return <ExclamationTriangleIcon color="var(--pf-v5-global--warning-color--100)" aria-label={_("Warning")} />;
    return <CheckCircleIcon color="var(--pf-v5-global--success-color--100)" aria-label={_("OK")} />;
}

// Runs Manager.Preflight with OPTIONS when asked (run()), keeping the last answer.
export function usePreflight(helper, options, auto) {
    const [checks, setChecks] = useState(null);
    const [error, setError] = useState(null);
    const [busy, setBusy] = useState(false);
    const available = helper.hasMethod(MANAGER, "Preflight");
    const latest = useRef(options);
    latest.current = options;
    const run = useCallback(() => {
        if (!helper.hasMethod(MANAGER, "Preflight"))
            return;
        setBusy(true);
        setError(null);
        helper.preflight(latest.current)
                .then(c => setChecks(c))
                .catch(ex => setError(helperMessage(ex.message)))
                .finally(() => setBusy(false));
    }, [helper]);
    useEffect(() => {
        if (auto && available)
            run();
    }, [auto, available, run]);
    return { available, checks, error, busy, run };
}

// The report: the checks grouped as the guide groups them, each with its
// severity, what was found, what to do and a link to the guide.  OPERATION
// ("connect", "start", "finish") marks the checks that can stop it; with
// onAccept, a checkbox accepts its warnings.  GUIDE is the app's guide page
// (its profile's `guide.url`): each check's `doc` is a section anchor of it;
// without one, no link.
export function PreflightReport({ preflight, operation, guide, accepted, onAccept }) {
    const { available, checks, error, busy, run } = preflight;
    if (!available)
        return null;
    const v = verdict(checks, operation);
    return (
        <Stack hasGutter data-test="preflight" data-busy={busy}>
            <StackItem>
                <Flex alignItems={{ default: "alignItemsCenter" }}>
                    <FlexItem><Title headingLevel="h3" size="md">{_("Prerequisites")}</Title></FlexItem>
                    <FlexItem>
                        <Button variant="secondary" size="sm" onClick={run} isLoading={busy} isDisabled={busy}
                                data-test="preflight-run">
                            {checks ? _("Check again") : _("Check the prerequisites")}
                        </Button>
                    </FlexItem>
                    {busy && !checks && <FlexItem><Spinner size="md" /></FlexItem>}
                </Flex>
            </StackItem>
            {error && <StackItem><Alert isInline variant="danger" title={error} /></StackItem>}
            {checks && v.blockers.length > 0 && (
                <StackItem>
                    <Alert isInline variant="danger" data-test="preflight-blockers"
                           title={cockpit.format(_("Problems to fix first: $0"), v.blockers.length)} />
                </StackItem>
            )}
            {checks && GROUPS.map(([group, title]) => {
                const items = checks.filter(c => c.group === group);
                if (!items.length)
                    return null;
                return (
                    <StackItem key={group}>
                        <Title headingLevel="h4" size="md">{_(title)}</Title>
                        <DataList aria-label={_(title)} isCompact>
                            {items.map(c => (
                                <DataListItem key={c.id} data-test="preflight-check" data-id={c.id}
                                              data-severity={c.checked ? c.severity : "unchecked"}>
                                    <DataListItemRow>
                                        <DataListItemCells dataListCells={[
                                            <DataListCell key="icon" isFilled={false}><SeverityIcon check={c} /></DataListCell>,
                                            <DataListCell key="text" width={5}>
                                                {/* the helper's words: by id in the page's language
                                                    (title_text...), else its English (marked data-from=helper) */}
                                                <strong data-from={fromHelper(c, "title")}>{checkText(c, "title")}</strong>
                                                {operation && (c.gates || []).includes(operation) && c.severity !== "ok" &&
                                                    <span className="ns8m-pf-gate"> ({_("stops this step")})</span>}
                                                <div data-from={fromHelper(c, "detail")}>{checkText(c, "detail")}</div>
                                                {c.remedy && c.severity !== "ok" &&
                                                    <div className="ns8m-pf-remedy" data-from={fromHelper(c, "remedy")}>{checkText(c, "remedy")}</div>}
                                                {docLink(guide, c.doc) && (
                                                    <a href={docLink(guide, c.doc)} target="_blank" rel="noopener noreferrer" data-test="preflight-doc">
                                                        {_("Read the guide")}
                                                    </a>
                                                )}
                                            </DataListCell>,
                                        ]} />
                                    </DataListItemRow>
                                </DataListItem>
                            ))}
                        </DataList>
                    </StackItem>
                );
            })}
            {checks && onAccept && v.warnings.length > 0 && v.blockers.length === 0 && (
                <StackItem>
                    <Checkbox id={"ns8m-accept-preflight-" + (operation || "all")} isChecked={!!accepted}
                              data-test="preflight-accept"
                              label={cockpit.format(_("I have read the warnings ($0): go on anyway"), v.warnings.length)}
                              onChange={(_e, val) => onAccept(val)} />
                </StackItem>
            )}
        </Stack>
    );
}
