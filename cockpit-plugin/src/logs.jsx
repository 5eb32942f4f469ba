import React, { useEffect, useMemo, useRef, useState } from "react";
import {
    Alert, Card, CardBody, CardTitle, SearchInput, Switch, Toolbar, ToolbarContent, ToolbarItem,
} from "@patternfly/react-core";
import cockpit, { _ } from "./cockpit.js";

export const DEFAULT_LOG = "/var/log/ns8-migration.log";
const MAX_LINES = 5000;

// The log file is shown as "tail -F" streams it: the last lines at once, then
// what the helper appends, across rotations.  Reading a log is not
// migration work; the helper is never driven through a process.
export function LogsView({ path }) {
    const [lines, setLines] = useState([]);
    const [filter, setFilter] = useState("");
    const [follow, setFollow] = useState(true);
    const [problem, setProblem] = useState(null);
    const box = useRef(null);

    useEffect(() => {
        let partial = "";
        setLines([]);
        setProblem(null);
        const proc = cockpit.spawn(["tail", "-n", "500", "-F", path], { superuser: "require", err: "message" });
        proc.stream(data => {
            const text = partial + data;
            const parts = text.split("\n");
            partial = parts.pop();
            if (parts.length)
                setLines(old => old.concat(parts).slice(-MAX_LINES));
        });
        proc.catch(ex => {
            if (ex.problem !== "cancelled")
                setProblem(ex.message || String(ex));
        });
        return () => proc.close("cancelled");
    }, [path]);

    const shown = useMemo(() => {
        const f = filter.trim().toLowerCase();
        return f ? lines.filter(l => l.toLowerCase().includes(f)) : lines;
    }, [lines, filter]);

    useEffect(() => {
        if (follow && box.current)
            box.current.scrollTop = box.current.scrollHeight;
    }, [shown, follow]);

    return (
        <Card data-test="logs">
            <CardTitle component="h2">{path}</CardTitle>
            <CardBody>
                <Toolbar>
                    <ToolbarContent>
                        <ToolbarItem variant="search-filter">
                            <SearchInput aria-label={_("Filter")} placeholder={_("Filter")} value={filter}
                                         onChange={(_e, v) => setFilter(v)} onClear={() => setFilter("")} data-test="log-filter" />
                        </ToolbarItem>
                        <ToolbarItem alignSelf="center">
                            <Switch id="ns8m-log-follow" label={_("Follow")} isChecked={follow} onChange={(_e, v) => setFollow(v)} />
                        </ToolbarItem>
                        <ToolbarItem alignSelf="center" data-test="log-count">
                            {cockpit.format(_("$0 of $1 lines"), shown.length, lines.length)}
                        </ToolbarItem>
                    </ToolbarContent>
                </Toolbar>
                {problem && <Alert isInline variant="warning" title={_("The log cannot be read")}>{problem}</Alert>}
                <pre className="ns8m-log" ref={box} tabIndex={0} role="log" aria-label={_("Migration log")} data-test="log-lines">
                    {shown.join("\n")}
                </pre>
            </CardBody>
        </Card>
    );
}
