import React, { useEffect, useRef, useState } from "react";
import {
    Checkbox, FormGroup, FormHelperText, HelperText, HelperTextItem, FormSelect, FormSelectOption, TextInput,
} from "@patternfly/react-core";
import cockpit, { _, isItalian } from "./cockpit.js";
import { checkFqdn } from "./format.js";
import { unvariant } from "./helper.js";
import { appText, helperText } from "./texts.js";

// What the Start dialog asks: the app's fields as its profile describes
// them (App.Fields); an app without fields asks nothing.
export function appFields(app) {
    return (app.Fields || []).map(f => unvariant(f));
}

export function fieldTitle(f) {
    return (isItalian() && f.title_it) || f.title || f.id;
}

export function fieldHelp(f) {
    return (isItalian() && f.help_it) || f.help || "";
}

// An example value for a field: its profile's placeholder, or a generic name.
export function fieldExample(f) {
    return (f && f.placeholder) || (f && f.kind === "fqdn" ? "server.example.com" : "");
}

export function fqdnProblem(code, example = "server.example.com") {
    switch (code) {
    case "": return "";
    case "empty": return cockpit.format(_("Give a fully qualified domain name, e.g. $0."), example);
    case "url": return cockpit.format(_("Give only the host name, without \"https://\", e.g. $0."), example);
    case "ip": return _("Give a host name, not an IP address.");
    case "short": return cockpit.format(_("Give a fully qualified domain name, with the domain, e.g. $0."), example);
    case "long": return _("The name is too long.");
    default: return cockpit.format(_("Only letters, digits, '-' and dots are allowed, e.g. $0."), example);
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
                    p[f.id] = fqdnProblem(code, fieldExample(f));
            }
        } else if (f.kind === "string" && f.required && !(v || "").trim()) {
            p[f.id] = _("This field is required.");
        }
    }
    const hosts = fields.filter(f => f.kind === "fqdn").map(f => (values[f.id] || "").trim().toLowerCase()).filter(Boolean);
    if (new Set(hosts).size !== hosts.length) {
        const last = fields.filter(f => f.kind === "fqdn").pop();
        p[last.id] = p[last.id] || _("The host names must be different.");
    }
    return p;
}

// Field id → the problem in the page's language: a text by id
// (CheckOptionTexts) translated, an English sentence as it is.
function problemTexts(problems) {
    const out = {};
    for (const [field, p] of Object.entries(problems || {}))
        out[field] = Array.isArray(p) ? helperText(p) : p;
    return out;
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
                    .then(p => { if (mine === seq.current) setProblems(problemTexts(p)) })
                    .catch(() => { if (mine === seq.current) setProblems({}) });
        }, 300);
        return () => clearTimeout(t);
        // eslint-disable-next-line react-hooks/exhaustive-deps
    }, [key, enabled, method]);
    return problems;
}

// The inputs of FIELDS; APP's texts may add a note to a field
// (`field.<id>.note`).
export function FieldInputs({ app, fields, values, setValue, problems, touched, setTouched, idPrefix }) {
    return fields.map(f => {
        const id = `${idPrefix}-${f.id}`;
        const problem = touched[f.id] || values[f.id] ? problems[f.id] : null;
        if (f.kind === "bool") {
            return (
                <FormGroup key={f.id} fieldId={id}>
                    <Checkbox id={id} isChecked={!!values[f.id]} label={fieldTitle(f)}
                              description={<FieldDescription app={app} field={f} />}
                              onChange={(_e, v) => setValue(f.id, v)} />
                    {problem && <FormHelperText><HelperText><HelperTextItem variant="error" data-test="field-error">{problem}</HelperTextItem></HelperText></FormHelperText>}
                </FormGroup>
            );
        }
        // The values NS8 offered at the last Start (App.FieldChoices): a list.
        const choices = ((app && app.FieldChoices) || {})[f.id] || [];
        return (
            <FormGroup key={f.id} label={fieldTitle(f)} isRequired={f.required} fieldId={id}>
                {choices.length > 0
                    ? <FormSelect id={id} value={values[f.id] || ""} data-test="field-choices"
                                  validated={problem ? "error" : "default"}
                                  onBlur={() => setTouched(f.id)}
                                  onChange={(_e, v) => setValue(f.id, v)}>
                        <FormSelectOption value="" label={_("Choose one")} />
                        {choices.map(([v, label]) => <FormSelectOption key={v} value={v} label={label ? `${v} (${label})` : v} />)}
                    </FormSelect>
                    : <TextInput id={id} value={values[f.id] || ""} isRequired={f.required}
                                 placeholder={f.placeholder || ""}
                                 validated={problem ? "error" : "default"}
                                 onBlur={() => setTouched(f.id)}
                                 onChange={(_e, v) => setValue(f.id, v)} />}
                <FormHelperText>
                    <HelperText>
                        {problem
                            ? <HelperTextItem variant="error" data-test="field-error" data-field={f.id}>{problem}</HelperTextItem>
                            : <HelperTextItem data-test="field-help" data-field={f.id}>
                                {fieldHelp(f) || (f.kind === "fqdn" ? _("A fully qualified domain name, unique and not in use yet.") : "")}
                                {fieldNote(app, f) && <span className="ns8m-field-note" data-test="field-note">{fieldNote(app, f)}</span>}
                            </HelperTextItem>}
                    </HelperText>
                </FormHelperText>
            </FormGroup>
        );
    });
}

function fieldNote(app, f) {
    return appText(app, "field." + f.id + ".note");
}

// A checkbox's description: the field's help and the profile's note.
function FieldDescription({ app, field }) {
    const note = fieldNote(app, field);
    return (
        <span data-test="field-help" data-field={field.id}>
            {fieldHelp(field)}
            {note && <span className="ns8m-field-note" data-test="field-note">{note}</span>}
        </span>
    );
}

export { cockpit };
