"""Peak memory of the helper and of the rsync processes, sampled from /proc.

The helper's peak is the kernel's own high-water mark (VmHWM in
/proc/<pid>/status): exact, whatever the sampling interval.  It is read at the
end of every phase and then reset (writing 5 to /proc/<pid>/clear_refs), so
each phase gets its own peak; the peak of the whole run is the largest of
them.  rsync processes come and go: their VmHWM is read every `interval`
seconds, so a run shorter than that may be missed, and what a run grows
after its last sample is not seen.  (wait4's ru_maxrss is no help: it keeps
the high-water mark of the forking Python process from before the exec.)"""

import os
import threading
import time


def _status(pid):
    """{field: kB} of VmRSS and VmHWM, or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            text = f.read()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":", 1)
            out[key] = int(value.split()[0])
    return out


def _stat(pid):
    """(comm, ppid) from /proc/<pid>/stat, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    left, right = data.find("("), data.rfind(")")
    return data[left + 1:right], int(data[right + 2:].split()[1])


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def reset_hwm(pid):
    """Reset the process's VmHWM to its current RSS (Linux >= 4.0)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Sampler(threading.Thread):
    """Samples every `interval` s until stop().  Call phase(name) to close the
    current phase and open the next; results() gives per-phase peaks (kB):

        {"phases": [{"name", "seconds", "helper_hwm_kb", "helper_rss_max_kb",
                     "helper_rsync_kb", "plain_rsync_kb", "receiver_rsync_kb"}],
         "helper_peak_kb", ...}

    helper_pid: the helper.  receiver_marker: a string found in the command
    line of the simulator's rsync daemons (the cluster's run dir).  Plain
    rsync processes are the pids registered with plain_started()."""

    def __init__(self, helper_pid, receiver_marker, interval=0.1):
        super().__init__(daemon=True)
        self.helper_pid = helper_pid
        self.marker = receiver_marker
        self.interval = interval
        self.lock = threading.Lock()
        self.halt = threading.Event()
        self.plain_pids = set()
        self.phases = []
        self.current = None
        self.resettable = reset_hwm(helper_pid)
        self._open("setup")

    def _open(self, name):
        self.current = {"name": name, "start": time.monotonic(), "helper_hwm_kb": 0,
                        "helper_rss_max_kb": 0, "helper_rsync_kb": 0, "plain_rsync_kb": 0,
                        "receiver_rsync_kb": 0}

    def phase(self, name):
        """End the current phase (its helper peak read, then reset) and start `name`."""
        with self.lock:
            self._sample_locked()
            st = _status(self.helper_pid) or {}
            cur = self.current
            cur["helper_hwm_kb"] = max(cur["helper_hwm_kb"], st.get("VmHWM", 0))
            cur["seconds"] = round(time.monotonic() - cur.pop("start"), 2)
            self.phases.append(cur)
            if self.resettable:
                reset_hwm(self.helper_pid)
            self._open(name)

    def plain_started(self, pid):
        with self.lock:
            self.plain_pids.add(pid)

    def _sample_locked(self):
        cur = self.current
        st = _status(self.helper_pid)
        if st:
            cur["helper_rss_max_kb"] = max(cur["helper_rss_max_kb"], st.get("VmRSS", 0))
            cur["helper_hwm_kb"] = max(cur["helper_hwm_kb"], st.get("VmHWM", 0))
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            s = _stat(pid)
            if not s or s[0] != "rsync":
                continue
            comm, ppid = s
            if ppid == self.helper_pid:
                key = "helper_rsync_kb"
            elif pid in self.plain_pids or ppid in self.plain_pids:
                key = "plain_rsync_kb"
            elif self.marker and self.marker in _cmdline(pid):
                key = "receiver_rsync_kb"
            else:
                continue  # somebody else's rsync
            mem = _status(pid)
            if mem:
                cur[key] = max(cur[key], mem.get("VmHWM", 0))

    def run(self):
        while not self.halt.wait(self.interval):
            with self.lock:
                self._sample_locked()

    def stop(self):
        self.phase("end")
        self.halt.set()
        self.join(5)

    def results(self):
        with self.lock:
            phases = [dict(p) for p in self.phases if p["name"] != "end"]
        return {
            "phases": phases,
            "helper_peak_kb": max([p["helper_hwm_kb"] for p in phases] or [0]),
            "helper_rsync_peak_kb": max([p["helper_rsync_kb"] for p in phases] or [0]),
            "plain_rsync_peak_kb": max([p["plain_rsync_kb"] for p in phases] or [0]),
            "receiver_rsync_peak_kb": max([p["receiver_rsync_kb"] for p in phases] or [0]),
            "hwm_reset_per_phase": self.resettable,
        }
