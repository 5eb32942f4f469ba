// A stand-in for Cockpit's cockpit.js, for the page's own tests: the parts
// of the API the page uses, and a simulated ns8-migration-helper behind
// cockpit.dbus() with the methods of the migration (Start, Sync, Finish,
// Abort, Skip, CheckOptions, ListNodes).  The tests drive it through
// window.__fake.  It is test scaffolding, never installed.
(function () {
    "use strict";
    const ROOT = "/org/nethserver/Ns8Migration1";
    const M = "org.nethserver.Ns8Migration1.Manager";
    const A = "org.nethserver.Ns8Migration1.App";
    const J = "org.nethserver.Ns8Migration1.Job";
    const E = "org.nethserver.Ns8Migration1.Error.";
    const APP = ROOT + "/apps/nethvoice";
    const params = new URLSearchParams(window.location.search);
    const NOW = Date.now() * 1000;

    function DBusError(name, message) {
        const e = new Error(message);
        e.name = name;
        return e;
    }

    const v = (t, x) => ({ t, v: x });
    const fields = [
        { id: v("s", "nethvoice_host"), kind: v("s", "fqdn"), required: v("b", true), title: v("s", "NethVoice base host"), title_it: v("s", "Host base NethVoice"), help: v("s", "The FQDN of the NethVoice administration interface."), help_it: v("s", "FQDN per l'interfaccia di amministrazione."), placeholder: v("s", "nethvoice.example.com") },
        { id: v("s", "nethcti_ui_host"), kind: v("s", "fqdn"), required: v("b", true), title: v("s", "NethVoice CTI base host"), title_it: v("s", "Host base NethVoice CTI"), help: v("s", "The FQDN of the CTI web application."), help_it: v("s", "FQDN per l'applicazione web CTI."), placeholder: v("s", "cti.example.com") },
        { id: v("s", "proxy_fqdn"), kind: v("s", "fqdn"), required: v("b", false), planning: v("b", true), default_field: v("s", "nethvoice_host"), title: v("s", "NethVoice Proxy FQDN"), title_it: v("s", "FQDN di NethVoice Proxy"), help: v("s", "Leave it empty to use the NethVoice base host."), help_it: v("s", "Lasciarlo vuoto per usare l'host base di NethVoice."), placeholder: v("s", "proxy.example.com") },
        { id: v("s", "lets_encrypt"), kind: v("s", "bool"), required: v("b", false), title: v("s", "Request a Let's Encrypt certificate"), title_it: v("s", "Richiedi certificato Let's Encrypt"), help: v("s", ""), help_it: v("s", ""), default: v("b", false) },
    ];

    // App.Texts as the helper serves a profile's `texts:` (a{sa{ss}}); a
    // shorter version of apps/nethvoice.yaml's, with ?notexts=1 none at all
    // (and no placeholders): an app whose profile says nothing.
    const texts = {
        "guide.url": { en: "https://docs.example.com/migration/prerequisites", it: "https://docs.example.com/migration/prerequisites" },
        "start.intro": { en: "NethVoice is installed on the NS8 node and the first data synchronization starts: call recordings, voicemail.",
            it: "NethVoice viene installato sul nodo NS8 e inizia la sincronizzazione iniziale dei dati: registrazioni delle chiamate, segreteria." },
        "start.companion": { en: "If NethVoice Proxy is not installed on the destination node, it is installed automatically.",
            it: "Se NethVoice Proxy non è già installato sul nodo di destinazione, viene installato automaticamente." },
        "field.lets_encrypt.note": { en: "You can also enable it later in the NethVoice settings on NS8.",
            it: "Potete abilitarla anche in seguito nelle impostazioni di NethVoice su NS8." },
        "finish.intro": { en: "A final sync copies the last changes; NethVoice is not available until the end.",
            it: "Una sincronizzazione finale acquisisce gli ultimi cambiamenti; NethVoice non è disponibile fino al termine." },
        // the transfers' step titles (title, title_it) and the companions' notices
        "step.files": { en: "Copy the files", it: "Copia dei file" },
        "step.db": { en: "Copy the databases", it: "Copia dei database" },
        "notice.nethvoice-proxy": { en: "NethVoice Proxy was installed on node 1: configure it (FQDN, network interface, public IP address) after the migration.",
            it: "NethVoice Proxy è stato installato sul nodo 1: configurarlo (FQDN, interfaccia di rete, indirizzo IP pubblico) dopo la migrazione." },
        "result.link.nethvoice_host": { en: "NethVoice administration", it: "Amministrazione NethVoice" },
        "result.link.nethcti_ui_host": { en: "NethVoice CTI", it: "NethVoice CTI" },
        "result.companion.title": { en: "Configure NethVoice Proxy", it: "Configurare NethVoice Proxy" },
        "result.companion.steps": { en: "Proxy FQDN: a valid fully qualified domain name.\nPublic IP address: required if the node is behind NAT.",
            it: "FQDN proxy: un nome di dominio completamente qualificato valido.\nIndirizzo IP pubblico: obbligatorio se il nodo è dietro NAT." },
        "result.companion.warning": { en: "External calls do not work until the proxy is configured.",
            it: "Le chiamate esterne non funzionano finché il proxy non è configurato." },
        "result.letsencrypt": { en: "Enable \"Request Let's Encrypt certificate\" in the NethVoice settings on NS8.",
            it: "Abilitate \"Richiedi certificato Let's Encrypt\" nelle impostazioni di NethVoice su NS8." },
    };
    const noTexts = params.get("notexts") === "1";
    if (noTexts)
        fields.forEach(f => delete f.placeholder);

    const state = {
        objects: {},
        listeners: { notify: [], meta: [], owner: [], close: [] },
        calls: [],
        jobSeq: 0,
        speed: Number(params.get("speed") || 1),
        legacy: params.get("legacy") === "1",   // a helper without the migration methods
        logLines: ["2025-01-01 10:00:00 ns8-migration-helper started", "2025-01-01 10:00:01 NethVoice found"],
        logStream: null,
    };
    window.__fake = state;

    state.objects[ROOT] = {
        [M]: { Version: "0.1.0", State: params.get("state") || "disconnected", Leader: "", NodeId: 0, VpnAddress: "", UserDomain: "", TlsFingerprint: "" },
    };
    const appStatus = params.get("status");
    const app = {
        Id: "nethvoice", Name: "NethVoice", Status: "not_migrated", SourceFiles: 25000, SourceBytes: 7.5 * 1024 * 1024 * 1024,
        DatabaseBytes: 300 * 1024 * 1024, ScanDetails: [], ScanTime: NOW - 3600e6, Job: "/",
    };
    if (!state.legacy) {
        Object.assign(app, {
            Node: 0, ModuleId: "", Settings: {}, Fields: fields, Texts: noTexts ? {} : texts, LastSyncTime: 0, LastSyncBytes: 0, LastSyncFiles: 0,
            LastSyncDuration: 0, SyncHistory: [], Notices: [], DnsRecords: [], EstimatedDowntime: 0, EstimatedDowntimeParts: [],
            Verification: [], VerificationTime: 0, Schedule: {}, ScheduledFinish: {},
            // ?choices=1: NS8 offered the values of a field at the last Start.
            FieldChoices: params.get("choices") === "1"
                ? { nethcti_ui_host: [["cti.example.com", "eth0"], ["cti2.example.com", "eth1"]] }
                : {},
        });
    }
    if (appStatus)
        app.Status = appStatus;
    state.objects[APP] = { [A]: app };
    Object.assign(state.objects[ROOT][M], inventory());
    if (state.objects[ROOT][M].State === "connected")
        Object.assign(state.objects[ROOT][M], { Leader: "leader.ns8.test", NodeId: 3, VpnAddress: "198.51.100.3", UserDomain: "nethvoice.example.test", TlsFingerprint: "AB:".repeat(31) + "AB" });

    function emit(type, data) {
        setTimeout(() => state.listeners[type].forEach(f => f({ type }, data)), 0);
    }
    function notify(path, iface, props) {
        const o = state.objects[path] = state.objects[path] || {};
        o[iface] = Object.assign(o[iface] || {}, props);
        emit("notify", { [path]: { [iface]: props } });
        if (iface === A && props.Status)
            notify(ROOT, M, inventory());
    }
    // Manager.Inventory and DomainDependents as the helper derives them.
    // ?provider=remote: a remote LDAP (kept, no temporary domain).
    function inventory() {
        const remote = params.get("provider") === "remote";
        const status = state.objects[APP][A].Status;
        const names = { "Account provider (remote LDAP)": "Provider degli account (LDAP remoto)",
                        "Account provider (local OpenLDAP)": "Provider degli account (OpenLDAP locale)", Mail: "Posta" };
        const item = (id, name, st, reason, extra) => Object.assign({
            id: v("s", id), name: v("s", name), names: v("a{ss}", { en: name, it: names[name] || name }),
            status: v("s", st), reason: v("a{ss}", reason || {}),
            app: v("o", "/"), app_status: v("s", ""), provider: v("b", false),
        }, extra || {});
        const provider = remote
            ? item("account-provider", "Account provider (remote LDAP)", "kept",
                   { en: "Kept: already on NS8 as an external user domain; nothing to move.", it: "Mantenuto: è già su NS8 come dominio utenti esterno; nulla da spostare." })
            : item("account-provider", "Account provider (local OpenLDAP)", "unsupported",
                   { en: "Not supported by this version yet. Until it is migrated, NS8's apps read NS7's users through the temporary user domain, and NS7 must stay on.", it: "Non ancora supportato da questa versione. Finché non è migrato, le app di NS8 leggono gli utenti di NS7 attraverso il dominio utenti temporaneo, e NS7 deve restare acceso." });
        provider.provider = v("b", true);
        return {
            Inventory: [
                item("nethvoice", "NethVoice", "migratable", {}, { app: v("o", APP), app_status: v("s", status) }),
                item("mail", "Mail", "not_installed"),
                item("mattermost", "Mattermost", "not_available"),
                provider,
            ],
            DomainDependents: status === "migrated" && !remote ? ["NethVoice"] : [],
        };
    }
    state.set = (path, iface, props) => notify(path, iface, props);
    const mgr = () => state.objects[ROOT][M];
    // As the helper: one record per distinct name of the FQDN fields, an
    // empty one with a default_field sharing that field's.
    function dnsRecords(address) {
        const settings = appProps().Settings || {};
        const val = id => (settings[id] && settings[id].v) || "";
        const names = [];
        for (const f of fields.filter(f => f.kind.v === "fqdn")) {
            const name = val(f.id.v) || (f.default_field ? val(f.default_field.v) : "");
            if (name && !names.includes(name))
                names.push(name);
        }
        return names.map(n => [n, "A", address]);
    }
    const appProps = () => state.objects[APP][A];

    const methods = {
        [M]: { Connect: 1, Disconnect: 1 },
        [A]: { Scan: 1 },
        [J]: { Cancel: 1 },
    };
    if (!state.legacy) {
        methods[M].ListNodes = 1;
        methods[M].DescribeSource = 1;
        methods[M].Preflight = 1;
        Object.assign(methods[A], { Start: 1, Sync: 1, Finish: 1, Abort: 1, Skip: 1, CheckOptions: 1, CheckOptionTexts: 1,
                                    CheckDns: 1, Export: 1, SetSchedule: 1, ScheduleFinish: 1, CancelScheduledFinish: 1 });
    }
    const meta = {};
    for (const iface in methods)
        meta[iface] = { methods: Object.fromEntries(Object.keys(methods[iface]).map(k => [k, {}])), properties: {} };

    // A job that walks its steps in `seconds`, moving `bytes`.
    function runJob(operation, object, steps, seconds, bytes, done) {
        const path = ROOT + "/jobs/" + (++state.jobSeq);
        const start = Date.now() * 1000;
        const total = seconds * 1000 / state.speed;
        const job = {
            Operation: operation, Object: object, Steps: steps.map(([id, title]) => [id, title, 0]), CurrentStep: steps[0][0],
            Progress: 0, ProgressValid: true, Bytes: 0, BytesTotal: bytes, Rate: 0, StartTime: start,
            ExpectedEndTime: start + total * 1000, Cancelable: true, StartedByUID: 0, Finished: false, Success: false,
            Message: "", MessageTexts: [], ErrorName: "",
        };
        notify(path, J, job);
        if (object === APP)
            notify(APP, A, { Job: path });
        const t0 = Date.now();
        const tick = () => {
            const j = state.objects[path][J];
            if (j.Finished)
                return;
            const p = Math.min(1, (Date.now() - t0) / total);
            const n = steps.length;
            const cur = Math.min(n - 1, Math.floor(p * n));
            const st = steps.map(([id, title], i) => [id, title, i < cur ? 1 : i === cur ? Math.min(1, p * n - i) : 0]);
            // When each step began and ended, as the helper's StepTimes.
            const at = (i) => (t0 + (i * total) / n) * 1000;
            const times = (upto) => steps.map(([id], i) => [id, i <= upto ? at(i) : 0, i < upto ? at(i + 1) : 0]);
            if (p >= 1) {
                // DONE gives the closing message's sentences by id, as the
                // helper does: [[id, English template, [args]], ...].
                const texts = done();
                const english = texts.map(([, t, a]) => t.replace(/%([1-9])/g, (m, n) => (n <= a.length ? a[n - 1] : m))).join(" ");
                notify(path, J, { Steps: st.map(s => [s[0], s[1], 1]), StepTimes: times(n), CurrentStep: "", Progress: 1, Bytes: bytes, Rate: 0, Finished: true, Success: true, Cancelable: false, ExpectedEndTime: 0, Message: english, MessageTexts: texts });
                return;
            }
            notify(path, J, { Steps: st, StepTimes: times(cur), CurrentStep: steps[cur][0], Progress: p, Bytes: Math.round(bytes * p), Rate: Math.round(bytes / (total / 1000)) });
            setTimeout(tick, 250);
        };
        setTimeout(tick, 250);
        return path;
    }
    state.hold = false;

    function checkFields(o) {
        const problems = {};
        for (const k of ["nethvoice_host", "nethcti_ui_host"]) {
            const s = o[k] || "";
            if (s.includes("://"))
                problems[k] = `"${s}" is a URL: give only the host name, without "https://".`;
            else if (s && !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(s))
                problems[k] = `"${s}" is not a valid host name.`;
            else if (!s)
                problems[k] = "Give the host name.";
        }
        if (o.nethvoice_host && o.nethvoice_host === o.nethcti_ui_host)
            problems.nethcti_ui_host = "The two host names must be different.";
        return problems;
    }
    const plain = (opts) => Object.fromEntries(Object.entries(opts || {}).map(([k, x]) => [k, x && x.v !== undefined ? x.v : x]));
    function history() {
        return appProps().SyncHistory || [];
    }
    function addSync(bytes, files, seconds) {
        const h = history().concat([[Date.now() * 1000, bytes, files, seconds * 1e6, 0]]);
        notify(APP, A, { SyncHistory: h, LastSyncTime: Date.now() * 1000, LastSyncBytes: bytes, LastSyncFiles: files, LastSyncDuration: seconds * 1e6, EstimatedDowntime: (seconds + 60) * 1e6,
                               EstimatedDowntimeParts: [["stop", 500000], ["walk", 125000], ["sync", 2e6], ["dump", 1.5e6], ["upload", 1e6], ["verify", (seconds + 50) * 1e6], ["import", 4.875e6]] });
    }

    function call(path, iface, method, args) {
        state.calls.push({ path, iface, method, args });
        if (!(methods[iface] && methods[iface][method]))
            return Promise.reject(DBusError("org.freedesktop.DBus.Error.UnknownMethod", "No such method " + method));
        const o = plain(args[0]);
        const secs = Number(params.get("jobseconds") || 4);
        switch (iface + "." + method) {
        case M + ".Connect":
            if (mgr().State !== "disconnected")
                return Promise.reject(DBusError(E + "WrongState", "already connected"));
            if (!o.leader)
                return Promise.reject(DBusError(E + "InvalidArgument", "Give the NS8 leader's host name or IP address, e.g. ns8.example.com."));
            if (o.leader === "blocked.ns8.test")
                return Promise.reject(DBusError(E + "PreflightFailed", "Connect refused: 1 prerequisite must be fixed first. The cluster's VPN endpoint resolves from NS7 [vpn-endpoint]: The VPN endpoint blocked.ns8.test:55820 does not resolve from NS7."));
            if (o.leader === "unreachable.test")
                return Promise.reject(DBusError(E + "ClusterUnreachable", "Cannot reach unreachable.test on port 443."));
            if (o.password !== "Nethesis,1234")
                return Promise.reject(DBusError(E + "AuthenticationFailed", `NS8 refused the user name or the password of ${o.username}. Check them and that the account is active on NS8.`));
            if (o.tls_verify !== false) {
                notify(ROOT, M, { TlsFingerprint: "12:34:".repeat(15) + "12:34" });
                return Promise.reject(DBusError(E + "TlsNotTrusted", "The certificate of " + o.leader + " is not trusted (fingerprint " + "12:34:".repeat(15) + "12:34). If it is self-signed, turn TLS validation off and confirm this fingerprint."));
            }
            if (!o.user_domain)
                return Promise.reject(DBusError(E + "InvalidArgument", "NS7 has a local OpenLDAP account provider: choose the name of its user domain in NS8 (e.g. nethvoice.example.local), unique in the cluster."));
            if (o.user_domain === "directory.nh")
                return Promise.reject(DBusError(E + "DomainConflict", "NS8 already has a user domain named directory.nh. Choose a different name (see \"Domains and users\" in NS8); it must be unique in the whole cluster."));
            notify(ROOT, M, { State: "connecting" });
            return Promise.resolve([runJob("connect", ROOT, [["reach", "Reach the NS8 leader"], ["login", "Log in"], ["add-node", "Add this server as a node"], ["tunnel", "Bring up the VPN"], ["save", "Save the connection"]], 2, 0, () => {
                notify(ROOT, M, { State: "connected", Leader: o.leader, NodeId: 3, VpnAddress: "198.51.100.3", UserDomain: o.user_domain });
                return o.user_domain
                    ? [["connect.done-domain", "Connected to %1 as node %2 (VPN address %3), user domain %4.", [o.leader, "3", "198.51.100.3", o.user_domain]]]
                    : [["connect.done", "Connected to %1 as node %2 (VPN address %3).", [o.leader, "3", "198.51.100.3"]]];
            })]);
        case M + ".Disconnect":
            if (["migrating", "syncing", "finishing"].includes(appProps().Status) && !o.force)
                return Promise.reject(DBusError(E + "MigrationInProgress", "NethVoice is being migrated."));
            if (mgr().DomainDependents.length && !o.force)
                return Promise.reject(DBusError(E + "DomainInUse", "NethVoice on NS8 signs its users in through the temporary user domain."));
            notify(ROOT, M, { State: "disconnecting" });
            return Promise.resolve([runJob("disconnect", ROOT, [["node", "Remove this node"]], 1, 0, () => {
                const leader = mgr().Leader;
                const broken = mgr().DomainDependents;
                notify(ROOT, M, { State: "disconnected", Leader: "", NodeId: 0, VpnAddress: "", UserDomain: "", DomainDependents: [] });
                const done = [["disconnect.done", "Disconnected from %1: node, account and temporary domain removed.", [leader]]];
                if (broken.length)
                    done.push(["disconnect.broke", "Forced: %1 on NS8 used the temporary user domain %2, now removed, and its users cannot log in until a user domain of that name exists on NS8 again.", [broken.join(", "), "nethvoice.example.test"]]);
                return done;
            })]);
        case M + ".Preflight": {
            // ?preflight=warn: no backup (a warning for Start and Finish).
            // Leader "blocked.ns8.test": its VPN endpoint does not resolve.
            const warn = params.get("preflight") === "warn";
            const leader = o.leader || mgr().Leader || "";
            // TEXTS: the title, detail and remedy by id ({title: [id, template, args], ...}),
            // as title_text, detail_text, remedy_text; a check without them has only the English.
            const check = (id, group, severity, title, detail, remedy, doc, gates, checked = true, texts = {}) => ({
                id: v("s", id), group: v("s", group), severity: v("s", severity), title: v("s", title), detail: v("s", detail),
                remedy: v("s", remedy), doc: v("s", doc), checked: v("b", checked), gates: v("as", gates),
                ...Object.fromEntries(Object.entries(texts).map(([k, t]) => [k + "_text", v("(ssas)", t)])),
            });
            return Promise.resolve([[
                check("app-services", "source", "ok", "NethVoice installed and running on NS7",
                      "NethVoice is installed and its services are running: asterisk, httpd-fpbx.", "",
                      "source-system-nethserver-7", ["start", "finish"], true, {
                          title: ["check.app-services.title", "%1 installed and running on NS7", ["NethVoice"]],
                          detail: ["check.app-services.running", "%1 is installed and its services are running: %2.", ["NethVoice", "asterisk, httpd-fpbx"]],
                          remedy: ["", "", []],
                      }),
                check("leader-reach", "destination", "ok", "NS8 leader reachable over HTTPS",
                      leader ? leader + " answers over HTTPS." : "Not checked yet: give the NS8 leader's host name.", "",
                      "destination-system-nethserver-8", ["connect"], !!leader, {
                          title: ["check.leader-reach.title", "NS8 leader reachable over HTTPS", []],
                          detail: leader ? ["check.leader-reach.answers", "%1 answers over HTTPS.", [leader]]
                              : ["check.not-yet.leader", "Not checked yet: give the NS8 leader's host name.", []],
                          remedy: ["", "", []],
                      }),
                leader === "blocked.ns8.test"
                    ? check("vpn-endpoint", "network", "blocker", "The cluster's VPN endpoint resolves from NS7",
                            "The VPN endpoint blocked.ns8.test:55820 does not resolve from NS7.",
                            "Create a DNS record for blocked.ns8.test that NS7 can resolve (or fix the VPN endpoint of the NS8 cluster), and make sure UDP port 55820 is open towards it.",
                            "vpn-connectivity", ["connect"], true, {
                                title: ["check.vpn-endpoint.title", "The cluster's VPN endpoint resolves from NS7", []],
                                detail: ["check.vpn-endpoint.unresolved", "The VPN endpoint %1 does not resolve from NS7.", ["blocked.ns8.test:55820"]],
                                remedy: ["check.vpn-endpoint.remedy", "Create a DNS record for %1 that NS7 can resolve (or fix the VPN endpoint of the NS8 cluster), and make sure UDP port 55820 is open towards it.", ["blocked.ns8.test"]],
                            })
                    : check("vpn-endpoint", "network", "ok", "The cluster's VPN endpoint resolves from NS7",
                            leader ? leader + ":55820 resolves to 192.0.2.1." : "Not checked yet: give the NS8 leader's host name.",
                            "", "vpn-connectivity", ["connect"], !!leader, {
                                title: ["check.vpn-endpoint.title", "The cluster's VPN endpoint resolves from NS7", []],
                                detail: leader ? ["check.vpn-endpoint.resolves", "%1 resolves to %2.", [leader + ":55820", "192.0.2.1"]]
                                    : ["check.not-yet.leader", "Not checked yet: give the NS8 leader's host name.", []],
                                remedy: ["", "", []],
                            }),
                warn
                    ? check("backup", "backup", "warning", "A recent backup of NS7", "No backup is configured on NS7.",
                            "Make a complete backup of NS7 (Backup in the NS7 interface) and check that it can be restored before migrating.",
                            "backup-strategy", ["start", "finish"], true, {
                                title: ["check.backup.title", "A recent backup of NS7", []],
                                detail: ["check.backup.none", "No backup is configured on NS7.", []],
                                remedy: ["check.backup.remedy", "Make a complete backup of NS7 (Backup in the NS7 interface) and check that it can be restored before migrating.", []],
                            })
                    : {
                        ...check("backup", "backup", "ok", "A recent backup of NS7",
                                 "The last run of each backup: nightly (sftp 192.0.2.200) succeeded 2 h ago.", "",
                                 "backup-strategy", ["start", "finish"], true, {
                                     title: ["check.backup.title", "A recent backup of NS7", []],
                                     detail: ["check.backup.runs", "The last run of each backup:", []],
                                     remedy: ["", "", []],
                                 }),
                        detail_more: v("a(ssas)", [["check.backup.succeeded", "%1 (%2) succeeded %3 ago.", ["nightly", "sftp 192.0.2.200", "2 h"]]]),
                    },
            ]]);
        }
        // This NS7 as it describes itself; the apps from their objects.
        case M + ".DescribeSource": {
            const a = appProps();
            const nic = (name, role, address) => ({ name: v("s", name), type: v("s", "ethernet"), role: v("s", role), address: v("s", address),
                                                    netmask: v("s", "255.255.255.0"), gateway: v("s", ""), bootproto: v("s", "none") });
            return Promise.resolve([{
                host_name: v("s", "ns7"), domain_name: v("s", "example.com"), release: v("s", "NethServer release 7.9.2009 (final)"),
                subscription: v("b", true), system_id: v("s", "ABCD1234"), subscription_provider: v("s", "nsent"),
                account_provider: v("s", "openldap"), account_provider_detail: v("s", "OpenLDAP (dc=directory,dc=nh)"),
                interfaces: v("aa{sv}", [nic("eth0", "green", "192.0.2.10"), nic("eth1", "red", "203.0.113.10")]),
                apps: v("aa{sv}", [{ id: v("s", a.Id), name: v("s", a.Name), status: v("s", a.Status), source_files: v("t", a.SourceFiles),
                                     source_bytes: v("t", a.SourceBytes), database_bytes: v("t", a.DatabaseBytes), scan_time: v("t", a.ScanTime) }]),
            }]);
        }
        case M + ".ListNodes":
            return Promise.resolve([[
                { id: v("u", 1), ui_name: v("s", "leader"), vpn_address: v("s", "198.51.100.1"), online: v("b", true), local: v("b", true), free_bytes: v("t", 80 * 2 ** 30), total_bytes: v("t", 100 * 2 ** 30) },
                { id: v("u", 2), ui_name: v("s", "worker"), vpn_address: v("s", "198.51.100.2"), online: v("b", true), local: v("b", false), free_bytes: v("t", 50 * 2 ** 30), total_bytes: v("t", 100 * 2 ** 30) },
            ]]);
        // The first name resolves to the node, the others not yet.
        case A + ".CheckDns":
            return Promise.resolve([appProps().DnsRecords.map(([name, , value], i) =>
                [name, value, i === 0 ? value : "", i === 0 ? "ok" : "unresolved"])]);
        case A + ".Export":
            return Promise.resolve([{ "nethvoice-configuration.json": '{"app": "nethvoice", "tables": []}' }]);
        case A + ".CheckOptions": {
            const p = checkFields(plain(args[1]));
            return Promise.resolve([p]);
        }
        case A + ".CheckOptionTexts": {
            // As the helper says them: by id, with the helper's templates.
            const o2 = plain(args[1]);
            const p = {};
            for (const k of ["nethvoice_host", "nethcti_ui_host"]) {
                const s = o2[k] || "";
                if (s.includes("://"))
                    p[k] = ["field.fqdn.url", "\"%1\" is a URL: give only the host name, without \"%2://\" (e.g. %3).",
                        [s, s.split("://")[0], s.split("://")[1].split("/")[0]]];
            }
            if (o2.nethvoice_host && o2.nethvoice_host === o2.nethcti_ui_host)
                for (const k of ["nethvoice_host", "nethcti_ui_host"])
                    p[k] = ["field.distinct", "This value must differ from another field's, which is %1 too.", [o2[k]]];
            return Promise.resolve([p]);
        }
        case A + ".Start": {
            const p = checkFields(o);
            const k = Object.keys(p)[0];
            if (k)
                return Promise.reject(DBusError(E + "InvalidArgument", k + ": " + p[k]));
            notify(APP, A, { Status: "migrating", Node: o.node || 1, ModuleId: "nethvoice1", Settings: { nethvoice_host: v("s", o.nethvoice_host), nethcti_ui_host: v("s", o.nethcti_ui_host), proxy_fqdn: v("s", o.proxy_fqdn || ""), lets_encrypt: v("b", !!o.lets_encrypt) } });
            return Promise.resolve([runJob("start", APP, [["check", "Check the destination"], ["import", "Create the app on NS8"], ["files", "Copy the files"], ["db", "Copy the databases"]], secs, 7.5 * 2 ** 30, () => {
                addSync(7.5 * 2 ** 30, 25000, 3 * 3600);
                notify(APP, A, { Notices: ["NethVoice Proxy was installed on node 1: configure it (FQDN, network interface, public IP address) after the migration."] });
                return [["start.done", "%1 was created on NS8 (%2, node %3) and the first sync is done:", ["NethVoice", "nethvoice1", "1"]],
                    ["sync.done", "%1 files, %2 sent in %3.", ["25000", "7.5 GiB", "3 h"]]];
            })]);
        }
        case A + ".Sync": {
            const n = history().length;
            const bytes = Math.round(900 * 2 ** 20 / (n * n));
            notify(APP, A, { Status: "syncing" });
            return Promise.resolve([runJob("sync", APP, [["files", "Copy the files"], ["db", "Copy the databases"]], secs / 2, bytes, () => {
                addSync(bytes, 300 / n, Math.max(60, 1800 / (n * n)));
                notify(APP, A, { Status: "migrating" });
                return [["sync.done", "%1 files, %2 sent in %3.", [String(Math.round(300 / n)), "12 MiB", "30 s"]]];
            })]);
        }
        case A + ".Finish":
            notify(APP, A, { Status: "syncing" });
            return Promise.resolve([runJob("finish", APP, [["stop", "Stop the NS7 services that write"], ["sync", "Last sync"], ["configure", "Configure the app on NS8"], ["retire", "Stop and disable the app on NS7"]], secs / 2, 20 * 2 ** 20, () => {
                notify(APP, A, {
                    Status: "migrated", DnsRecords: dnsRecords("192.0.2.10"),
                    Verification: [
                        ["files", "recordings", "matched", "1200 entries the same on NS8."],
                        ["files", "voicemail", "matched", "80 entries the same on NS8."],
                        ["files", "volumes/spool/monitor/2024/01/02/out-201.wav", "differs", "Differs on NS8: size, modification time."],
                        ["table", "asterisk.users", "matched", "12 rows, unchanged since the dump."],
                        ["table", "asteriskcdrdb.cdr", "differs", "Written after the stop (300 rows at the dump, 301 now): the dump may not hold the change."],
                        ["dumps", "restore/60_asterisk_data.sql", "matched", "4096 bytes on both."],
                    ],
                    VerificationTime: Date.now() * 1000,
                });
                return [["finish.done", "%1 now runs on NS8 (%2). Its services on NS7 are stopped and disabled; the old addresses show a page with the new ones. Check %1 on NS8 and the notices below, then update the DNS.", ["NethVoice", "nethvoice1"]]];
            })]);
        case A + ".Abort":
            return Promise.resolve([runJob("abort", APP, [["remove-module", "Remove the app from NS8"]], 1, 0, () => {
                notify(APP, A, { Status: "not_migrated", Node: 0, SyncHistory: [], LastSyncTime: 0 });
                return [["abort.done", "The migration of %1 was aborted: its NS8 data was removed; nothing on NS7 was changed.", ["NethVoice"]]];
            })]);
        // Schedules: kept as the helper shows them (variants); ?schedule=failed
        // makes the next run fail, as a full disk on NS8 would.
        case A + ".SetSchedule": {
            if (!o.kind)
                return notify(APP, A, { Schedule: {} }) || Promise.resolve([]);
            if (o.kind === "interval" && !(o.interval > 0))
                return Promise.reject(DBusError(E + "InvalidArgument", "interval: a schedule runs every 1 minute to every 7 days (168 hours)."));
            const minutes = o.kind === "interval" ? o.interval * (o.interval_unit === "hours" ? 60 : 1) : 0;
            const sched = { kind: v("s", o.kind), interval: v("u", minutes), at: v("s", o.at || ""), quiet_from: v("s", o.quiet_from || ""),
                            quiet_to: v("s", o.quiet_to || ""), bwlimit: v("u", o.bwlimit || 0), created_by: v("u", 0),
                            next_run: v("t", Date.now() * 1000 + (minutes || 60) * 60e6), last_run: v("t", 0), last_outcome: v("s", ""),
                            last_message: v("s", ""), last_message_texts: v("a(ssas)", []), last_job: v("s", ""),
                            runs: v("u", 0), failures: v("u", 0), skipped: v("u", 0) };
            if (params.get("schedule") === "failed")
                Object.assign(sched, { last_run: v("t", Date.now() * 1000 - 60e6), last_outcome: v("s", "failed"), runs: v("u", 1), failures: v("u", 1),
                                       last_message: v("s", "The sync failed. No space left on the receiver's disk."),
                                       last_message_texts: v("a(ssas)", [["sync.failed", "The sync failed.", []], ["", "No space left on the receiver's disk.", []]]) });
            notify(APP, A, { Schedule: sched });
            return Promise.resolve([]);
        }
        case A + ".ScheduleFinish": {
            const when = Number(args[0]);
            if (!(when > Date.now() * 1000))
                return Promise.reject(DBusError(E + "InvalidArgument", "when: a Finish is scheduled for a time in the next 90 days (microseconds since the epoch)."));
            notify(APP, A, { ScheduledFinish: { when: v("t", when), state: v("s", "scheduled"), presync_at: v("t", Math.max(0, when - 600e6)),
                                                created_by: v("u", 0), job: v("s", ""), reason: v("s", ""), reason_texts: v("a(ssas)", []),
                                                accepted_warnings: v("as", []) } });
            return Promise.resolve([]);
        }
        case A + ".CancelScheduledFinish": {
            const f = appProps().ScheduledFinish || {};
            if (!f.state || f.state.v !== "scheduled")
                return Promise.reject(DBusError(E + "WrongState", "No Finish of NethVoice is scheduled."));
            notify(APP, A, { ScheduledFinish: { ...f, state: v("s", "cancelled"), reason: v("s", "Cancelled by uid 0."),
                                                reason_texts: v("a(ssas)", [["schedule.finish.cancelled", "Cancelled by uid %1.", ["0"]]]) } });
            return Promise.resolve([]);
        }
        case A + ".Skip":
            notify(APP, A, { Status: args[0] ? "skipped" : "not_migrated" });
            return Promise.resolve([]);
        case A + ".Scan":
            return Promise.resolve([runJob("scan", APP, [["walk", "Files"]], 1, 0, () => [["scan.done", "%1 files, %2 to copy; databases %3.", ["25000", "7.5 GiB", "1.2 GiB"]]])]);
        case J + ".Cancel": {
            const j = state.objects[path][J];
            notify(path, J, { Finished: true, Success: false, ErrorName: E + "Canceled", Message: "The job was canceled.", Cancelable: false });
            if (j.Object === APP)
                notify(APP, A, { Status: history().length ? "migrating" : "not_migrated" });
            return Promise.resolve([]);
        }
        default:
            return Promise.reject(DBusError("org.freedesktop.DBus.Error.UnknownMethod", method));
        }
    }

    function dbus(name, options) {
        const client = {
            addEventListener(type, fn) { state.listeners[type].push(fn) },
            removeEventListener() {},
            watch() {
                const p = new Promise(resolve => setTimeout(() => {
                    state.listeners.meta.forEach(f => f({ type: "meta" }, meta));
                    state.listeners.owner.forEach(f => f({ type: "owner" }, ":1.42"));
                    const data = {};
                    for (const path in state.objects)
                        data[path] = state.objects[path];
                    state.listeners.notify.forEach(f => f({ type: "notify" }, JSON.parse(JSON.stringify(data))));
                    resolve();
                }, 20));
                p.remove = () => {};
                p.catch(() => {});
                return p;
            },
            call(path, iface, method, args) { return call(path, iface, method, args) },
            close() {},
        };
        return client;
    }

    // gettext: the same catalogue format as Cockpit's (po.<lang>.js).
    let catalog = {};
    const cockpit = {
        language: "en",
        locale(po) {
            if (po) {
                Object.assign(catalog, po);
                if (po[""] && po[""].language)
                    cockpit.language = po[""].language;
            }
        },
        gettext(ctx, s) {
            if (arguments.length === 1) { s = ctx; ctx = undefined }
            const t = catalog[ctx ? ctx + "\u0004" + s : s];
            return t && t[1] ? t[1] : s;
        },
        ngettext(s, p, n) {
            const t = catalog[s];
            return t && t[1] ? (n === 1 ? t[1] : t[2]) : n === 1 ? s : p;
        },
        format(fmt, ...args) {
            if (args.length === 1 && Array.isArray(args[0]))
                args = args[0];
            return String(fmt).replace(/\$([0-9]+)/g, (m, i) => (args[i] === undefined ? "" : String(args[i])));
        },
        message(p) { return String(p && p.message ? p.message : p) },
        dbus,
        spawn(argv) {
            let cb = null;
            const p = new Promise(() => {});
            p.stream = (f) => { cb = f; setTimeout(() => f(state.logLines.join("\n") + "\n"), 10); return p };
            p.close = () => {};
            state.appendLog = (line) => { state.logLines.push(line); cb && cb(line + "\n") };
            state.spawned = argv;
            return p;
        },
        variant: v,
    };
    window.cockpit = cockpit;
})();
