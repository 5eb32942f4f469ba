import { useEffect, useState, useSyncExternalStore } from "react";

// Re-render whenever the helper's cache changes.
export function useHelper(helper) {
    useSyncExternalStore(cb => helper.subscribe(cb), () => helper.revision);
    return helper;
}

// The current time, ticking while `active` (for "time left" and ages).
export function useNow(active, intervalMs = 1000) {
    const [now, setNow] = useState(Date.now());
    useEffect(() => {
        if (!active)
            return undefined;
        const t = setInterval(() => setNow(Date.now()), intervalMs);
        return () => clearInterval(t);
    }, [active, intervalMs]);
    return now;
}

// Whether the window is narrower than `px` (phones, split screens).
export function useNarrow(px = 768) {
    const query = `(max-width: ${px}px)`;
    const [narrow, setNarrow] = useState(() => window.matchMedia(query).matches);
    useEffect(() => {
        const mq = window.matchMedia(query);
        const on = () => setNarrow(mq.matches);
        mq.addEventListener("change", on);
        return () => mq.removeEventListener("change", on);
    }, [query]);
    return narrow;
}
