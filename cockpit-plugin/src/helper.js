// The page's only link to the system: the helper's objects on the system
// bus, through cockpit.dbus.  Watches on the helper's objects keep a cache
// of every one of them (GetManagedObjects once, then InterfacesAdded,
// InterfacesRemoved and PropertiesChanged); nothing is polled.

export const BUS_NAME = "org.nethserver.Ns8Migration1";
export const ROOT = "/org/nethserver/Ns8Migration1";
export const MANAGER = "org.nethserver.Ns8Migration1.Manager";
export const APP = "org.nethserver.Ns8Migration1.App";
export const JOB = "org.nethserver.Ns8Migration1.Job";

// a{sv} as cockpit delivers it ({key: {t, v}}) -> {key: v}
export function unvariant(dict) {
    const out = {};
    for (const k in dict || {}) {
        const x = dict[k];
        out[k] = x && typeof x === "object" && "v" in x && "t" in x ? x.v : x;
    }
    return out;
}

// {key: value} -> a{sv} with the D-Bus type of each option
export function variants(options, types) {
    const out = {};
    for (const k in options) {
        if (options[k] === undefined || options[k] === null)
            continue;
        const v = options[k];
        const t = types && types[k] ? types[k] : typeof v === "boolean" ? "b" : typeof v === "number" ? "u" : "s";
        out[k] = { t, v };
    }
    return out;
}

// The D-Bus types of the options whose JavaScript type does not say it; an
// app's fields go by their value (a bool field's value is a boolean: "b").
const OPTION_TYPES = { node: "u", bwlimit: "u", interval: "u", presync_lead: "u", accept_warnings: "b", tls_verify: "b", force: "b", secrets: "b" };

export class HelperClient {
    constructor(cockpit) {
        this.cockpit = cockpit;
        this.objects = {};          // path -> iface -> props
        this.meta = {};             // iface -> introspection
        this.ready = false;         // the first answer of the watch arrived
        this.owner = undefined;     // unique name of the helper, null when not running
        this.problem = null;        // why the channel closed
        this.listeners = new Set();
        this.revision = 0;
        this._timer = null;
    }

    start() {
        const client = this.cockpit.dbus(BUS_NAME, { bus: "system", superuser: "require" });
        this.client = client;
        client.addEventListener("notify", (ev, data) => this._notify(data));
        client.addEventListener("meta", (ev, meta) => {
            Object.assign(this.meta, meta);
            this._changed();
        });
        client.addEventListener("owner", (ev, owner) => {
            const restarted = this.owner === null && owner;
            this.owner = owner;
            if (!owner)
                this.objects = {};
            else if (restarted)
                this._watch(); // the helper came back: read everything again
            this._changed();
        });
        client.addEventListener("close", (ev, options) => {
            this.problem = (options && options.problem) || "disconnected";
            this._changed();
        });
        this._watch();
        return this;
    }

    // Two watches: the namespace brings the apps and jobs (the ObjectManager
    // at the root lists the objects below it, not itself), the root path
    // brings the Manager.
    _watch() {
        const previous = this._watching;
        const watches = [this.client.watch({ path: ROOT }), this.client.watch({ path_namespace: ROOT })];
        this._watching = watches;
        if (previous)
            previous.forEach(w => w.remove());
        Promise.all(watches).then(() => {
            if (this._watching !== watches)
                return;
            this.ready = true;
            this.problem = null;
            this._changed();
        }, (ex) => {
            if (this._watching !== watches)
                return; // superseded by a newer watch
            this.ready = true;
            this.problem = ex.problem || ex.name || "not-found";
            this._changed();
        });
    }

    close() {
        if (this.client)
            this.client.close();
    }

    _notify(data) {
        for (const path in data) {
            for (const iface in data[path]) {
                const props = data[path][iface];
                if (props === null) {
                    if (this.objects[path]) {
                        delete this.objects[path][iface];
                        if (Object.keys(this.objects[path]).length === 0)
                            delete this.objects[path];
                    }
                } else {
                    this.objects[path] = this.objects[path] || {};
                    this.objects[path][iface] = { ...(this.objects[path][iface] || {}), ...props, path };
                }
            }
        }
        this._changed();
    }

    // Property changes come at most four times a second per job; group
    // them into one render.
    _changed() {
        if (this._timer)
            return;
        this._timer = setTimeout(() => {
            this._timer = null;
            this.revision++;
            for (const l of this.listeners)
                l(this.revision);
        }, 30);
    }

    subscribe(fn) {
        this.listeners.add(fn);
        return () => this.listeners.delete(fn);
    }

    // -- reading -----------------------------------------------------------
    get manager() {
        return (this.objects[ROOT] && this.objects[ROOT][MANAGER]) || null;
    }

    // By path, the account provider last (the inventory's provider row
    // names its App): it is migrated after every other app.
    get apps() {
        const inventory = (this.manager && this.manager.Inventory) || [];
        const last = new Set(inventory.map(unvariant).filter(i => i.provider).map(i => i.app));
        return Object.keys(this.objects)
                .filter(p => this.objects[p][APP])
                .sort((a, b) => (last.has(a) - last.has(b)) || (a < b ? -1 : a > b ? 1 : 0))
                .map(p => this.objects[p][APP]);
    }

    get jobs() {
        return Object.keys(this.objects)
                .filter(p => this.objects[p][JOB])
                .map(p => this.objects[p][JOB]);
    }

    job(path) {
        if (!path || path === "/")
            return null;
        return (this.objects[path] && this.objects[path][JOB]) || null;
    }

    // Whether the running helper has this method: hide what it lacks.
    hasMethod(iface, name) {
        const m = this.meta[iface];
        return !!(m && m.methods && name in m.methods);
    }

    hasProperty(iface, name) {
        const m = this.meta[iface];
        return !!(m && m.properties && name in m.properties);
    }

    // -- calling -----------------------------------------------------------
    call(path, iface, method, signature, args) {
        return this.client.call(path, iface, method, args, { type: signature });
    }

    // Methods taking a{sv} options and returning a job path.
    callJob(path, iface, method, options) {
        return this.call(path, iface, method, "a{sv}", [variants(options || {}, OPTION_TYPES)])
                .then(reply => reply[0]);
    }

    connect(options) {
        return this.callJob(ROOT, MANAGER, "Connect", options);
    }

    disconnect(options) {
        return this.callJob(ROOT, MANAGER, "Disconnect", options);
    }

    // Manager.Preflight: the prerequisites, one plain object per check.
    preflight(options) {
        return this.call(ROOT, MANAGER, "Preflight", "a{sv}", [variants(options || {}, OPTION_TYPES)])
                .then(reply => (reply[0] || []).map(unvariant));
    }

    // Manager.DescribeSource: this NS7 as it describes itself (a{sv}).
    describeSource() {
        return this.call(ROOT, MANAGER, "DescribeSource", "", []).then(reply => reply[0] || {});
    }

    listNodes() {
        return this.call(ROOT, MANAGER, "ListNodes", "", [])
                .then(reply => (reply[0] || []).map(unvariant));
    }

    appCall(app, method, options) {
        return this.callJob(app.path, APP, method, options);
    }

    skip(app, skip) {
        return this.call(app.path, APP, "Skip", "b", [!!skip]);
    }

    // Field id → problem: a (id, template, args) text with CheckOptionTexts
    // (the helper translates nothing; the page does, by id), the English
    // sentence from an older helper's CheckOptions.
    checkOptions(app, method, options) {
        const byId = this.hasMethod(APP, "CheckOptionTexts");
        return this.call(app.path, APP, byId ? "CheckOptionTexts" : "CheckOptions", "sa{sv}",
                         [method, variants(options, OPTION_TYPES)])
                .then(reply => reply[0] || {});
    }

    // App.Export: {file name: content}.
    exportFiles(app, options) {
        return this.call(app.path, APP, "Export", "a{sv}", [variants(options || {}, OPTION_TYPES)])
                .then(reply => reply[0] || {});
    }

    // App.CheckDns: [name, expected, found, outcome] per DNS record.
    checkDns(app) {
        return this.call(app.path, APP, "CheckDns", "", []).then(reply => reply[0] || []);
    }

    // App.SetSchedule ({} removes it), ScheduleFinish (WHEN: µs since the
    // epoch) and CancelScheduledFinish (docs/api.md, "Schedules").
    setSchedule(app, options) {
        return this.call(app.path, APP, "SetSchedule", "a{sv}", [variants(options || {}, OPTION_TYPES)]);
    }

    scheduleFinish(app, when, options) {
        return this.call(app.path, APP, "ScheduleFinish", "ta{sv}", [when, variants(options || {}, OPTION_TYPES)]);
    }

    cancelScheduledFinish(app) {
        return this.call(app.path, APP, "CancelScheduledFinish", "", []);
    }

    cancel(jobPath) {
        return this.call(jobPath, JOB, "Cancel", "a{sv}", [{}]);
    }
}
