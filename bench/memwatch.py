"""Peak resident memory growth of the current process over a block of code.

Linux resets a process's VmHWM (peak RSS) when "5" is written to /proc/self/clear_refs; the growth is then
VmHWM after the block minus VmRSS before it. Where that reset is refused, the fallback is the difference of
getrusage's ru_maxrss, which underestimates when the process peaked higher before the block.
"""

import resource


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


class PeakRss:
    def __enter__(self):
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.method = "vmhwm"
        except OSError:
            self.method = "maxrss"
        self.before_kib = _status_kib("VmRSS")
        self.maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.growth_kib = None
        return self

    def __exit__(self, *exc):
        if self.method == "vmhwm":
            self.growth_kib = max(0, _status_kib("VmHWM") - self.before_kib)
        else:
            self.growth_kib = max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - self.maxrss_before)
        return False
