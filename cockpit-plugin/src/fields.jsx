import React, { useEffect, useRef, useState } from "react";
import {
    Checkbox, FormGroup, FormHelperText, HelperText, HelperTextItem, TextInput,
} from "@patternfly/react-core";
import cockpit, { _, isItalian } from "./cockpit.js";
import { checkFqdn } from "./format.js";
import { unvariant } from "./helper.js";

// What the Start dialog asks when the helper does not describe its fields
// (App.Fields): NethVoice's two FQDNs and Let's Encrypt.
export const NETHVOICE_FIELDS = [
    { id: "nethvoice_host", kind: "fqdn", required: true, title: "NethVoice base host", help: "" },
    { id: "nethcti_ui_host", kind: "fqdn", required: true, title: "NethVoice CTI base host", help: "" },
    { id: "lets_encrypt", kind: "bool", required: false, title: "Request a Let's Encrypt certificate", help: "", default: false },
];

export function appFields(app) {
    if (app.Fields && app.Fields.length)
        return app.Fields.map(f => {
            const o = unvariant(f);
            return { ...o, default: o.default };
        });
    return app.Id === "nethvoice" ? NETHVOICE_FIELDS : [];
}

export function fieldTitle(f) {
    return (isItalian() && f.title_it) || f.title || f.id;
}

export function fieldHelp(f) {
    return (isItalian() && f.help_it) || f.help || "";
}

export function fqdnProblem(code) {
    switch (code) {
    case "": return "";
    case "empty": return _("Give a fully qualified domain name, e.g. nethvoice.example.com.");
    case "url": return _("Give only the host name, without \"https://\", e.g. nethvoice.example.com.");
    case "ip": return _("Give a host name, not an IP address.");
    case "short": return _("Give a fully qualified domain name, with the domain, e.g. nethvoice.example.com.");
    case "long": return _("The name is too long.");
    default: return _("Only letters, digits, '-' and dots are allowed, e.g. nethvoice.example.com.");
    }
}

export function initialValues(fields, settings) {
    const s = unvariant(settings || {});
    const v = {};
    for (const f of fields) {
        if (s[f.id] !== undefined)
            v[f.id] = s[f.id];
        else if (f.default !== undefined)
            v[f.id] = f.default && typeof f.default === "object" && "v" in f.default ? f.default.v : f.default;
        else
            v[f.id] = f.kind === "bool" ? false : "";
    }
    return v;
}

// Problems found by the page itself, as the administrator types.
export function localProblems(fields, values) {
    const p = {};
    for (const f of fields) {
        const v = values[f.id];
        if (f.kind === "fqdn") {
            if (v || f.required) {
                const code = checkFqdn(v);
                if (code && !(code === "empty" && !f.required))
                    p[f.id] = fqdnProblem(code);
            }
        } else if (f.kind === "string" && f.required && !(v || "").trim()) {
            p[f.id] = _("This field is required.");
        }
    }
    const hosts = fields.filter(f => f.kind === "fqdn").map(f => (values[f.id] || "").trim().toLowerCase()).filter(Boolean);
    if (new Set(hosts).size !== hosts.length) {
        const last = fields.filter(f => f.kind === "fqdn").pop();
        p[last.id] = p[last.id] || _("The two host names must be different.");
    }
    return p;
}

// The helper's own check (App.CheckOptions), debounced while typing.
export function useRemoteCheck(helper, app, method, values, enabled) {
    const [problems, setProblems] = useState({});
    const seq = useRef(0);
    const key = JSON.stringify(values);
    useEffect(() => {
        if (!enabled || !helper.hasMethod("org.nethserver.Ns8Migration1.App", "CheckOptions")) {
            setProblems({});
            return undefined;
        }
        const mine = ++seq.current;
        const t = setTimeout(() => {
            helper.checkOptions(app, method, values)
                    .then(p => { if (mine === seq.current) setProblems(p || {}) })
                    .catch(() => { if (mine === seq.current) setProblems({}) });
        }, 300);
        return () => clearTimeout(t);
        // eslint-disable-next-line react-hooks/exhaustive-deps
    }, [key, enabled, method]);
    return problems;
}

export function FieldInputs({ fields, values, setValue, problems, touched, setTouched, idPrefix }) {
    return fields.map(f => {
        const id = `${idPrefix}-${f.id}`;
        const problem = touched[f.id] || values[f.id] ? problems[f.id] : null;
        if (f.kind === "bool") {
            return (
                <FormGroup key={f.id} fieldId={id}>
                    <Checkbox id={id} isChecked={!!values[f.id]} label={fieldTitle(f)}
                              description={f.id === "lets_encrypt" ? <LetsEncryptConditions /> : fieldHelp(f)}
                              onChange={(_e, v) => setValue(f.id, v)} />
                    {problem && <FormHelperText><HelperText><HelperTextItem variant="error" data-test="field-error">{problem}</HelperTextItem></HelperText></FormHelperText>}
                </FormGroup>
            );
        }
        return (
            <FormGroup key={f.id} label={fieldTitle(f)} isRequired={f.required} fieldId={id}>
                <TextInput id={id} value={values[f.id] || ""} isRequired={f.required}
                           placeholder={f.id === "nethcti_ui_host" ? "cti.example.com" : f.kind === "fqdn" ? "nethvoice.example.com" : ""}
                           validated={problem ? "error" : "default"}
                           onBlur={() => setTouched(f.id)}
                           onChange={(_e, v) => setValue(f.id, v)} />
                <FormHelperText>
                    <HelperText>
                        {problem
                            ? <HelperTextItem variant="error" data-test="field-error" data-field={f.id}>{problem}</HelperTextItem>
                            : <HelperTextItem>{fieldHelp(f) || (f.kind === "fqdn" ? _("A fully qualified domain name, unique and not in use yet.") : "")}</HelperTextItem>}
                    </HelperText>
                </FormHelperText>
            </FormGroup>
        );
    });
}

export function LetsEncryptConditions() {
    return (
        <>
            {_("Request the certificate only if:")}
            <ul className="ns8m-list">
                <li>{_("the NethVoice FQDNs resolve publicly to the NS8 node;")}</li>
                <li>{_("TCP port 443 of the node is reachable from the Internet.")}</li>
            </ul>
            {_("Until the DNS records point to NS8 the request fails: you can also enable it later in the NethVoice settings on NS8.")}
        </>
    );
}

export { cockpit };
