// Plain formatting helpers: no React, no cockpit, so that node can test them.

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

export function formatBytes(n) {
    n = Number(n) || 0;
    if (n < 1024)
        return n + " B";
    let i = 0;
    while (n >= 1024 && i < UNITS.length - 1) {
        n /= 1024;
        i++;
    }
    return (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)) + " " + UNITS[i];
}

export function formatRate(bytesPerSecond) {
    return formatBytes(bytesPerSecond) + "/s";
}

// Seconds -> "1 h 05 min", "3 min 20 s", "45 s".
export function formatDuration(seconds) {
    seconds = Math.max(0, Math.round(Number(seconds) || 0));
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    if (h > 0)
        return h + " h " + String(m).padStart(2, "0") + " min";
    if (m > 0)
        return m + " min " + String(s).padStart(2, "0") + " s";
    return s + " s";
}

export const usToMs = (us) => Math.floor((Number(us) || 0) / 1000);
export const usToSeconds = (us) => (Number(us) || 0) / 1e6;

// µs since the epoch -> local date and time, "" for 0 (never).
export function formatTime(us, locale) {
    if (!us)
        return "";
    const d = new Date(usToMs(us));
    try {
        return d.toLocaleString(locale || undefined, { dateStyle: "medium", timeStyle: "short" });
    } catch (e) {
        return d.toISOString();
    }
}

// Seconds a job still needs: from ExpectedEndTime when the helper knows it,
// else from the bytes left and the rate; null when unknown.
export function timeLeft(job, nowMs) {
    if (!job || job.Finished)
        return null;
    if (job.ExpectedEndTime)
        return Math.max(0, (usToMs(job.ExpectedEndTime) - nowMs) / 1000);
    if (job.BytesTotal && job.Rate && job.Bytes <= job.BytesTotal)
        return (job.BytesTotal - job.Bytes) / job.Rate;
    return null;
}

// The same host-name rule NS8 applies (gojsonschema "hostname"): labels of
// letters, digits and '-', not starting or ending with '-', at least one dot,
// not an IP address, no scheme, no path.  Returns a problem code or "".
export function checkFqdn(value) {
    const v = (value || "").trim();
    if (v === "")
        return "empty";
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v))
        return "url";
    if (/[/\s]/.test(v))
        return "chars";
    if (/^[0-9.]+$/.test(v) || v.includes(":"))
        return "ip";
    if (v.length > 253)
        return "long";
    const labels = v.replace(/\.$/, "").split(".");
    if (labels.length < 2)
        return "short";
    for (const l of labels) {
        if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l))
            return "chars";
    }
    return "";
}

// "AA:BB:..." from any spelling of a SHA-256 fingerprint.
export function colonHex(fp) {
    const h = (fp || "").replace(/[^0-9a-f]/gi, "").toUpperCase();
    const pairs = [];
    for (let i = 0; i < h.length; i += 2)
        pairs.push(h.slice(i, i + 2));
    return pairs.join(":");
}

// Sync history entries (time µs, bytes, files, duration µs, warnings) -> objects.
export function parseHistory(raw) {
    return (raw || []).map(([time, bytes, files, duration, warnings]) => ({
        time: Number(time), bytes: Number(bytes), files: Number(files),
        duration: Number(duration), warnings: Number(warnings),
    }));
}

// Whether the last syncs are small enough to cut over: the guide asks for
// at least three sync cycles; the last one must have ended without warnings
// and its duration (what Finish will roughly need) be under the threshold.
export const READY_SYNCS = 3;
export const READY_SECONDS = 15 * 60;

export function cutoverReadiness(history, estimatedDowntimeUs) {
    const h = history || [];
    if (h.length === 0)
        return { state: "none" };
    const last = h[h.length - 1];
    const downtime = estimatedDowntimeUs ? usToSeconds(estimatedDowntimeUs) : usToSeconds(last.duration);
    if (last.warnings > 0)
        return { state: "warnings", last, downtime };
    if (h.length < READY_SYNCS)
        return { state: "more", last, downtime, missing: READY_SYNCS - h.length };
    if (downtime > READY_SECONDS)
        return { state: "slow", last, downtime };
    return { state: "ready", last, downtime };
}

// App.Verification (rows of [what, name, outcome, detail]) for the Result
// screen: per kind ("files", "table", "dumps") how many rows were compared
// and how many matched, and every row that did not match, in order.
export function verificationView(rows) {
    const kinds = { files: { compared: 0, matched: 0 }, table: { compared: 0, matched: 0 }, dumps: { compared: 0, matched: 0 } };
    const differences = [];
    for (const [what, name, outcome, detail] of rows || []) {
        const kind = kinds[what] || (kinds[what] = { compared: 0, matched: 0 });
        kind.compared++;
        if (outcome === "matched")
            kind.matched++;
        else
            differences.push({ what, name, outcome, detail });
    }
    return { kinds, differences, empty: !(rows && rows.length) };
}
