// Turns the helper's named D-Bus errors into what the page shows: which
// field to mark, and which part of the guide's troubleshooting to offer.
// No React and no cockpit here, so node can test it.

export const ERR = "org.nethserver.Ns8Migration1.Error.";

export function shortName(name) {
    if (!name)
        return "";
    return name.startsWith(ERR) ? name.slice(ERR.length) : name.split(".").pop();
}

// Connect errors -> { field, advice, showOtp, showUserDomain, fingerprint }
// field: "leader" | "username" | "password" | "otp" | "user_domain" | "tls" | null
// advice: "unreachable" | "credentials" | "domain" | "tls" | null
export function classifyConnectError(name, message) {
    const kind = shortName(name);
    const msg = message || "";
    const out = { kind, field: null, advice: null, showOtp: false, showUserDomain: false, fingerprint: "", prompt: false };
    switch (kind) {
    case "ClusterUnreachable":
        out.field = "leader";
        out.advice = "unreachable";
        break;
    case "TlsNotTrusted": {
        out.field = "tls";
        out.advice = "tls";
        const m = msg.match(/(([0-9A-F]{2}:){31}[0-9A-F]{2})/i);
        if (m)
            out.fingerprint = m[1].toUpperCase();
        break;
    }
    case "AuthenticationFailed":
        out.advice = "credentials";
        if (/OTP/.test(msg)) {
            out.field = "otp";
            out.showOtp = true;
        } else {
            out.field = "password";
        }
        break;
    case "OtpRequired":
        out.field = "otp";
        out.showOtp = true;
        break;
    case "DomainConflict":
        out.advice = "domain";
        if (/user domain named|choose a different|LDAP user domain/i.test(msg)) {
            out.field = "user_domain";
            out.showUserDomain = true;
        }
        break;
    case "InvalidArgument":
        if (/OpenLDAP|user domain|domain name/i.test(msg)) {
            out.field = "user_domain";
            out.showUserDomain = !/Leave it empty/.test(msg);
            // The first answer only asks for the field: no error to show.
            out.prompt = /choose the name of its user domain/.test(msg);
            if (!out.showUserDomain)
                out.field = null;
        } else if (/OTP/.test(msg)) {
            out.field = "otp";
            out.showOtp = true;
        } else if (/fingerprint|TLS/i.test(msg)) {
            out.field = "tls";
        } else if (/password/i.test(msg)) {
            out.field = "password";
        } else if (/user name/i.test(msg)) {
            out.field = "username";
        } else if (/leader|host name|URL|address/i.test(msg)) {
            out.field = "leader";
        }
        break;
    default:
        break;
    }
    return out;
}

// Start/Finish: "<field id>: ..." -> { field: "<field id>", text: "..." }
export function fieldOfError(message, knownIds) {
    const m = (message || "").match(/^([a-z][a-z0-9_]*):\s*(.*)$/s);
    if (m && (!knownIds || knownIds.includes(m[1])))
        return { field: m[1], text: m[2] };
    return { field: null, text: message || "" };
}
